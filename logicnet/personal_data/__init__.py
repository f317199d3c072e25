"""The registry of personal data: see registry.py."""
