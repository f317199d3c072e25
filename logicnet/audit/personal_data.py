"""Personal-data classification of the audit log.

The log is append-only and sealed into a keyed MAC chain: erasing a user must not rewrite it
(a single personal value inside `details` can be redacted through `redact_audit_value`). What it holds
about a person (who did what, from which address) is kept for its retention period under
the legal basis below, and holds no contact data by design."""

from logicnet.personal_data.registry import (
    Category,
    Erasure,
    Plain,
    Subject,
    classify,
    keep,
    not_personal,
    personal,
)

BASIS = "GDPR Art. 6(1)(c) and (f), Art. 5(2) and 32: accountability and security of processing"


def _kept(category, subject, also_about=()):
    return personal(
        category,
        subject=subject,
        erasure=Erasure.KEEP,
        retention="security_log",
        purpose="security_log",
        legal_basis=BASIS,
        plaintext=Plain.AUDIT,
        also_about=also_about,
    )


ACTOR = Subject("user", "actor_id")
TARGET = Subject("user", "target_id", lambda user: str(user.pk), also=(("target_type", "user"),))
# Events about a contact or a company (a sole trader) name it as their target, by id only.
TARGET_CONTACT = Subject("contact", "target_id", lambda contact: str(contact.pk), also=(("target_type", "contact"),))
TARGET_COMPANY = Subject("company", "target_id", lambda company: str(company.pk), also=(("target_type", "company"),))

classify(
    "audit.AuditEvent",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "sequence": not_personal(),
        "action": _kept(Category.USAGE, ACTOR, also_about=(TARGET_CONTACT, TARGET_COMPANY)),
        "actor_id": _kept(Category.IDENTITY, ACTOR),
        "target_type": not_personal(),
        "target_id": _kept(Category.IDENTITY, TARGET, also_about=(TARGET_CONTACT, TARGET_COMPANY)),
        "ip_address": _kept(Category.DEVICE, ACTOR),
        # Values in details about a target are redacted on erasure (redact_audit_value).
        "details": _kept(Category.USAGE, ACTOR, also_about=(TARGET_CONTACT, TARGET_COMPANY)),
        "created_at": _kept(Category.USAGE, ACTOR, also_about=(TARGET_CONTACT, TARGET_COMPANY)),
        # Keyed MACs of redacted values: nothing can be recovered from them without the key.
        "redacted": not_personal(),
        "mac": not_personal(),
    },
    erasure=keep(BASIS),
    # The application role may only append events: reading them is the platform's.
    platform_only=True,
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
