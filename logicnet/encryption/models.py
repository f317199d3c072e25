from django.db import models
from django.utils import timezone

from logicnet.tenancy.models import TenantModel


class OrganizationKey(TenantModel):
    """One version of an organization's data key, wrapped (AES-256-GCM) by a master key.

    A tenant model, so row-level security shows a process only the keys of the organization
    it is working for: decrypting another tenant's value needs that tenant's context (or
    the audited platform bypass), not just a stolen ciphertext.

    Lifecycle: created (current) → retired when a re-encryption has moved every value to a
    newer version, or destroyed when the organization leaves. Both wipe `wrapped_key`.
    """

    version = models.PositiveIntegerField()
    wrapped_key = models.TextField(blank=True)
    master_key_id = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    rewrapped_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="organization_key_version"),
        ]

    def __str__(self) -> str:
        return f"data key v{self.version} of organization {self.organization_id}"

    @property
    def is_live(self) -> bool:
        return self.retired_at is None and self.destroyed_at is None
