"""Encryption of personal data at rest: per-organization data keys wrapped by master keys,
encrypted model fields, blind indexes and prefix tokens for searching them.

Kept free of model imports so settings can use `logicnet.encryption.config`.
"""
