"""Who may call the audit log's privileged functions (migration 0003 creates them)."""

from __future__ import annotations

from django.conf import settings
from django.db import connections, transaction

PRIVILEGED_FUNCTIONS = [
    "audit_seal_events(bigint[], bigint[], text[])",
    "audit_redact_value(bigint, text, text)",
    "audit_drop_checkpointed(integer)",
]


def grant_audit_functions(sender=None, using: str = "default", **kwargs) -> None:
    """Only the platform role (sealer, retention, redaction: worker, beat and management
    commands) may seal, redact or drop; the web role may only append."""
    role = '"' + settings.DATABASE_PLATFORM_ROLE.replace('"', '""') + '"'
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [PRIVILEGED_FUNCTIONS[0]])
        if not cursor.fetchone()[0]:  # migrating backwards, below 0003
            return
        for function in PRIVILEGED_FUNCTIONS:
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {role}")
