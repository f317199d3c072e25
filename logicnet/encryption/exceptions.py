"""Errors that name what failed: the organization, and for a value its model and field."""

from __future__ import annotations


class EncryptionError(Exception):
    """Base of every encryption failure. Never caught to return an empty value."""


class MasterKeyError(EncryptionError):
    """A data key cannot be unwrapped: its master key is missing or is not the same key."""


class OrganizationKeyMissing(EncryptionError):
    """No data key of that version is visible for the organization."""


class OrganizationKeyDestroyed(EncryptionError):
    """The organization's data key was destroyed; its data can never be read again."""


class DecryptionError(EncryptionError):
    """A stored value cannot be decrypted for this organization, model and field."""

    def __init__(self, *, organization_id: int | None, model: str, field: str, reason: str) -> None:
        self.organization_id = organization_id
        self.model = model
        self.field = field
        self.reason = reason
        super().__init__(f"cannot decrypt {model}.{field} of organization {organization_id}: {reason}")


class EncryptionWriteError(EncryptionError):
    """A value cannot be encrypted (no organization on the row, or a write that bypasses
    the row: QuerySet.update, bulk_update with plaintext, a lookup by value)."""
