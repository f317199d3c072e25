"""Personal-data classification of the audit log.

The log is append-only and sealed into a keyed MAC chain: erasing a user must not rewrite it
(a single personal value inside `details` can be redacted through `redact_audit_value`). What it holds
about a person (who did what, from which address) is kept for its retention period under
the legal basis below, and holds no contact data by design."""

from logicnet.personal_data.registry import Category, Erasure, Plain, Subject, classify, not_personal, personal

BASIS = "GDPR Art. 6(1)(c) and (f), Art. 5(2) and 32: accountability and security of processing"


def _kept(category, subject):
    return personal(
        category,
        subject=subject,
        erasure=Erasure.KEEP,
        retention="security_log",
        purpose="security and accountability log",
        legal_basis=BASIS,
        plaintext=Plain.AUDIT,
    )


ACTOR = Subject("user", "actor_id")
TARGET = Subject("user", "target_id", lambda user: str(user.pk), also=(("target_type", "user"),))

classify(
    "audit.AuditEvent",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "sequence": not_personal(),
        "action": _kept(Category.USAGE, ACTOR),
        "actor_id": _kept(Category.IDENTITY, ACTOR),
        "target_type": not_personal(),
        "target_id": _kept(Category.IDENTITY, TARGET),
        "ip_address": _kept(Category.DEVICE, ACTOR),
        "details": _kept(Category.USAGE, ACTOR),
        "created_at": _kept(Category.USAGE, ACTOR),
        # Keyed MACs of redacted values: nothing can be recovered from them without the key.
        "redacted": not_personal(),
        "mac": not_personal(),
    },
)

classify(
    "audit.AuditCheckpoint",
    {
        "id": not_personal(),
        "sequence": not_personal(),
        "event_id": not_personal(),
        "mac": not_personal(),
        "dropped_before": not_personal(),
        "created_at": not_personal(),
        "signature": not_personal(),
    },
)
