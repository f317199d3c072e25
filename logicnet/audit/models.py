from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager


class AuditEvent(models.Model):
    """One security or privacy event. Append-only, and chained per organization by hash.

    Each organization has its own chain (events with no organization, such as a failed
    sign-in for an unknown address, form the platform chain). The application's database
    roles have no UPDATE, DELETE or TRUNCATE on this table, and a trigger refuses UPDATE
    and DELETE for everyone else (migration 0002).
    """

    # No database constraint and no cascade: deleting an organization must not delete (or
    # try to update) its audit trail.
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    sequence = models.PositiveBigIntegerField()
    action = models.CharField(max_length=64)
    # The actor's id, not a foreign key: an erased user must not rewrite the log.
    actor_id = models.BigIntegerField(null=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True)
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sequence"], name="audit_chain_sequence", nulls_distinct=False
            ),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"], name="audit_org_created_idx")]

    def __str__(self) -> str:
        return f"{self.action} #{self.sequence}"
