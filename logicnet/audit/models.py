from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_scopes import ScopedManager


class AuditEvent(models.Model):
    """One security or privacy event: inserted freely, sealed into one chain afterwards.

    A writer only INSERTs the row (`record_event`), without waiting for any other writer and
    without reading any other row. The sealer (`seal_audit_log`, a beat task) later gives each
    event, in id order, its place in the one chain of the whole log (`sequence`) and a keyed
    MAC over its content and the previous event's MAC (`mac`), with a key the database never
    holds. A trigger (migration 0003) allows exactly that one-time sealing update, the
    redaction of one details value through `audit_redact_value`, and deleting events covered
    by a signed checkpoint; it refuses every other UPDATE or DELETE, even by the owner.
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
    # Position in the chain of the whole log; NULL until the sealer reaches the event.
    sequence = models.PositiveBigIntegerField(null=True)
    action = models.CharField(max_length=64)
    # The actor's id, not a foreign key: an erased user must not rewrite the log.
    actor_id = models.BigIntegerField(null=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True)
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    # For each redacted details key, the keyed MAC of the value it replaced: the chain MAC
    # covers these per-value MACs, so a redaction keeps the chain valid and nothing else does.
    redacted = models.JSONField(default=dict)
    # HMAC-SHA256 of the canonical content and the previous event's MAC; NULL until sealed.
    mac = models.CharField(max_length=64, null=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sequence"], name="audit_chain_sequence"),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_created_idx"),
            # The sealer's work list: small, since it only holds what was not sealed yet.
            models.Index(fields=["id"], condition=Q(sequence__isnull=True), name="audit_unsealed_idx"),
            # The events about one person (an access package lists them, an erasure redacts them).
            models.Index(fields=["organization", "target_type", "target_id"], name="audit_org_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} #{self.sequence or '-'}"


class AuditCheckpoint(models.Model):
    """The last event dropped after its retention: the chain goes on from its MAC.

    `signature` is a keyed MAC over the other fields, so a checkpoint cannot be forged by
    someone who can write to the database. The trigger lets events at or below the newest
    checkpoint's sequence be deleted, and nothing else; checkpoints themselves are never
    changed or deleted.
    """

    sequence = models.PositiveBigIntegerField(unique=True)
    event_id = models.BigIntegerField()
    mac = models.CharField(max_length=64)
    # Events created before this moment were due for deletion when the checkpoint was written.
    dropped_before = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    signature = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"checkpoint #{self.sequence}"
