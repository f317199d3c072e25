from django.db import models
from django.utils import timezone

from logicnet.tenancy.models import TenantModel


class OrganizationKey(TenantModel):
    """One version of an organization's data key, wrapped (AES-256-GCM) by a master key.

    A tenant model, so row-level security shows a process only the keys of the organization
    it is working for: decrypting another tenant's value needs that tenant's context (or
    the audited platform bypass), not just a stolen ciphertext.

    Lifecycle: created (current) → retired when a re-encryption has moved every value to a
    newer version: it no longer encrypts, but its wrapped key is kept for
    ENCRYPTION_RETIRED_KEY_GRACE_DAYS so values restored from a backup still open → destroyed
    (wrapped key wiped) after the grace period, by `destroy_retired_keys`, once no value uses
    it. A destroyed version that was never retired marks the organization as gone (it left,
    `destroy_organization_key`): no key is ever created for it again.

    `encryptions` counts the values this version has encrypted (flushed in batches by each
    process), so the key is rotated well before the random-nonce bound of NIST SP 800-38D.
    """

    version = models.PositiveIntegerField()
    wrapped_key = models.TextField(blank=True)
    master_key_id = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    rewrapped_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)
    encryptions = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="organization_key_version"),
        ]

    def __str__(self) -> str:
        return f"data key v{self.version} of organization {self.organization_id}"

    @property
    def is_live(self) -> bool:
        """Encrypts new values (the newest live version does)."""
        return self.retired_at is None and self.destroyed_at is None

    @property
    def can_decrypt(self) -> bool:
        """Live, or retired and still within its grace period."""
        return self.destroyed_at is None and bool(self.wrapped_key)

    @property
    def ends_organization(self) -> bool:
        """Destroyed without being retired first: the organization's data is gone."""
        return self.destroyed_at is not None and self.retired_at is None
