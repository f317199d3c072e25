"""Beat's scans across organizations, without an all-tenant role.

A scan calls one narrow SECURITY DEFINER function (owned by the platform role, executable
by the application role) that returns `(organization_id, id)` pairs and nothing else; the
work then runs organization by organization inside `tenant_context`. One audit event per
scan that found work, none for the quiet runs (a scan every minute would otherwise fill the
log with nothing).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction


def sweep_ids(function: str, arguments: Sequence, *, reason: str, counted: str) -> list[tuple[int, int]]:
    """`(organization_id, id)` pairs from the narrow function `function` (a fixed name from
    the caller's code, never user input), audited as one `platform.sweep` event naming
    `reason` and how many organizations and `counted` (tasks, jobs) it found."""
    from logicnet.audit.services import record_event

    placeholders = ", ".join(["%s"] * len(arguments))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {function}({placeholders})", list(arguments))
        found = [(int(organization_id), int(row_id)) for organization_id, row_id in cursor.fetchall()]
        if found:
            record_event(
                action="platform.sweep",
                details={
                    "reason": reason,
                    "organizations": len({organization_id for organization_id, _row in found}),
                    counted: len(found),
                },
            )
    return found
