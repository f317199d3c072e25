"""Writing and verifying the audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import as_platform_role

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
    2. read the chain's last hash, as the platform role (the chain of events with no
       organization is invisible to the tenant policy);
    3. insert the event with the next sequence number and its hash.
    """
    organization_id = getattr(organization, "pk", organization)
    with transaction.atomic(), scopes_disabled(), as_platform_role():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s), %s::inet",
                [_LOCK_NAMESPACE, organization_id or 0, ip_address],
            )
            ip_address = cursor.fetchone()[1]
        last = (
            AuditEvent.objects.filter(organization_id=organization_id)
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
        event.save(force_insert=True)
        return event


def client_ip(request) -> str | None:
    """The client's address, read through the trusted proxies (logicnet.client_ip): behind
    the reverse proxy REMOTE_ADDR is the proxy's, which would make every event anonymous."""
    from logicnet.client_ip import client_ip as trusted_client_ip

    return trusted_client_ip(request)


@dataclass
class ChainReport:
    organization_id: int | None
    events: int
    broken_at: int | None = None
    problem: str = ""


def verify_chains() -> list[ChainReport]:
    """Recompute every chain; report the first broken link of each."""
    reports: list[ChainReport] = []
    with transaction.atomic(), scopes_disabled(), as_platform_role():
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
