"""The revert journal of bulk operations (imports): per batch reference, which rows a bulk
write created and the previous values of the rows it updated, so that the whole operation can
be reverted (deletes what it created, restores what it updated) for as long as the retention
rule `bulk_revert` keeps the entries (30 days, logicnet/bulk/personal_data.py)."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from logicnet.encryption.fields import EncryptedJSONField
from logicnet.tenancy.models import TenantModel, organization_field


class RevertEntry(TenantModel):
    # Led by the organization, its other indexes serve lookups by it (organization_field).
    organization = organization_field(db_index=False)

    class Action(models.TextChoices):
        CREATED = "created", "created"
        UPDATED = "updated", "updated"

    # The caller's reference of the bulk operation (an import's id): one operation, many batches.
    batch_ref = models.BigIntegerField()
    target = models.CharField(max_length=100)  # the model label, lower case: "contacts.contact"
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=8, choices=Action.choices)
    line = models.PositiveIntegerField(null=True, blank=True)  # the file line that wrote it, when any
    # For an updated row: {"columns": {column: stored value before}, "version": the row's
    # version after the write, "added": {model label: [ids of rows the write added]}}.
    # Stored values of encrypted columns are their ciphertexts, sealed once more here.
    previous = EncryptedJSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "batch_ref", "record_id"], name="revertentry_batch_idx"),
            models.Index(fields=["organization", "created_at"], name="revertentry_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target} {self.record_id} in batch {self.batch_ref}"
