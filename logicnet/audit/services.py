"""Writing and verifying the audit log."""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import platform_reads, tenant_context

GENESIS = "0" * 64
_LOCK_NAMESPACE = 7_302_113  # pg_advisory_xact_lock(namespace, chain): one writer per chain


def _digest(event: AuditEvent) -> str:
    payload = {
        "organization": event.organization_id,
        "sequence": event.sequence,
        "action": event.action,
        "actor": event.actor_id,
        "target": [event.target_type, event.target_id],
        "ip": event.ip_address,
        "details": event.details,
        "created_at": event.created_at.isoformat(),
        "previous": event.previous_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_event(
    *,
    action: str,
    actor=None,
    organization=None,
    target=None,
    ip_address: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to its organization's chain.

    1. lock the chain for this transaction (concurrent writers would fork it), and have
       PostgreSQL spell the IP address the way the inet column gives it back
       ("2001:0DB8::0001" is stored as "2001:db8::1"): the hash must cover what a
       verifier will read, not what the caller passed;
    2. read the chain's last hash (the chain of events with no organization is invisible
       to the tenant policy: its head comes from a narrow function);
    3. insert the event with the next sequence number and its hash.
    """
    organization_id = getattr(organization, "pk", organization)
    # Inside platform_bypass the ORM goes to the platform alias, whose role sees every
    # chain; otherwise the application role writes an organization's event inside that
    # organization's tenant context, and the platform chain (no organization) through two
    # narrow SECURITY DEFINER functions (logicnet/tenancy/rls.py): it can read no other row.
    alias = router.db_for_write(AuditEvent)
    as_platform = alias != DEFAULT_DB_ALIAS
    db = connections[alias]
    chain = nullcontext() if as_platform or organization_id is None else tenant_context(organization_id)
    with transaction.atomic(using=alias), scopes_disabled(), chain:
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s), %s::inet",
                [_LOCK_NAMESPACE, organization_id or 0, ip_address],
            )
            ip_address = cursor.fetchone()[1]
            if organization_id is None and not as_platform:
                cursor.execute("SELECT sequence, hash FROM logicnet_audit_platform_chain_head()")
                last = cursor.fetchone()
            else:
                last = (
                    AuditEvent.objects.using(alias)
                    .filter(organization_id=organization_id)
                    .order_by("-sequence")
                    .values_list("sequence", "hash")
                    .first()
                )
        sequence, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
        event = AuditEvent(
            organization_id=organization_id,
            sequence=sequence,
            action=action,
            actor_id=getattr(actor, "pk", actor),
            target_type=type(target).__name__.lower() if target is not None else "",
            target_id=str(getattr(target, "pk", "")) if target is not None else "",
            ip_address=ip_address,
            details=details or {},
            created_at=timezone.now(),
            previous_hash=previous_hash,
        )
        event.hash = _digest(event)
        if organization_id is None and not as_platform:
            with db.cursor() as cursor:
                cursor.execute(
                    "SELECT logicnet_audit_append_platform_event(%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s)",
                    [
                        event.sequence,
                        event.action,
                        event.actor_id,
                        event.target_type,
                        event.target_id,
                        event.ip_address,
                        json.dumps(event.details),
                        event.created_at,
                        event.previous_hash,
                        event.hash,
                    ],
                )
                event.pk = cursor.fetchone()[0]
            event._state.adding, event._state.db = False, alias
        else:
            event.save(using=alias, force_insert=True)
        return event


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


@dataclass
class ChainReport:
    organization_id: int | None
    events: int
    broken_at: int | None = None
    problem: str = ""


def verify_chains() -> list[ChainReport]:
    """Recompute every chain; report the first broken link of each."""
    reports: list[ChainReport] = []
    # Read-only, on the platform alias (only the admin process and management commands
    # have it); no event of its own, so verifying does not change what it verifies.
    with platform_reads():
        chains = AuditEvent.objects.values_list("organization_id", flat=True).distinct()
        for organization_id in sorted(chains, key=lambda x: (x is not None, x or 0)):
            report = ChainReport(organization_id=organization_id, events=0)
            expected_previous, expected_sequence = GENESIS, 1
            events = AuditEvent.objects.filter(organization_id=organization_id).order_by("sequence")
            for event in events.iterator(chunk_size=2000):
                report.events += 1
                if event.sequence != expected_sequence:
                    report.broken_at, report.problem = event.sequence, f"expected event #{expected_sequence}"
                elif event.previous_hash != expected_previous:
                    report.broken_at, report.problem = event.sequence, "does not link to the event before it"
                elif _digest(event) != event.hash:
                    report.broken_at, report.problem = event.sequence, "content does not match its hash"
                if report.broken_at is not None:
                    break
                expected_previous, expected_sequence = event.hash, event.sequence + 1
            reports.append(report)
    return reports
