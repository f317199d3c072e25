"""Writing, sealing, verifying, redacting and dropping the audit log.

Writers never wait for each other: `record_event` only INSERTs, and reads no other row. The
chain is linked afterwards by `seal_audit_log` (a beat task, also run at the start of
verification): in id order, each event gets the next `sequence` of the one chain of the whole
log and `mac = HMAC-SHA256(key, sequence | previous mac | canonical content)`. The key
(AUDIT_MAC_KEY) lives in the application's environment, never in the database, so whoever can
write to the database, up to a superuser who disables the trigger, cannot make a changed,
removed, inserted or reordered event verify. After each sealing run the head is written,
signed, outside the database (the application log and AUDIT_ANCHOR_FILE), so the end of the
chain cannot be cut off or rewritten consistently either.

What the chain does not prove: that an event appended after the last seal was written by the
application (anyone who may INSERT may append; the sealer then seals it). It proves that
nothing sealed changed afterwards.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from logicnet.audit.models import AuditCheckpoint, AuditEvent
from logicnet.tenancy.context import platform_database, platform_reads

logger = logging.getLogger(__name__)
anchor_logger = logging.getLogger("logicnet.audit.anchor")

GENESIS = "0" * 64
REDACTED = "[redacted]"
_FORMAT = "logicnet-audit-v1"

# pg_advisory_*_lock(_NAMESPACE, key). The writer marker is only ever taken SHARED, so writers
# never wait for one another; it tells the sealer which transactions may still hold an event id.
_NAMESPACE = 7_302_113
_WRITER_MARKER = 1
_SEALER_LOCK = 2


# --- keys ------------------------------------------------------------------------------------------


def _subkey(purpose: str) -> bytes:
    """One key per use (chain, value, anchor, checkpoint), derived from AUDIT_MAC_KEY, so a MAC
    made for one use can never be replayed as another."""
    return hmac.new(settings.AUDIT_MAC_KEY.encode(), f"{_FORMAT}:{purpose}".encode(), hashlib.sha256).digest()


def _mac(purpose: str, message: bytes) -> str:
    return hmac.new(_subkey(purpose), message, hashlib.sha256).hexdigest()


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _value_mac(event_id: int, key: str, value: Any) -> str:
    """The MAC of one details value, bound to its event and key. The chain covers these rather
    than the values, so a value can be redacted and the chain still verifies; keyed, so the
    MAC kept for a redacted value gives nothing away (an unkeyed hash of an address could be
    reversed with a dictionary) and cannot be computed by someone forging a redaction."""
    return _mac("value", _json([event_id, key, value]))


def _content(event: AuditEvent) -> bytes:
    """The canonical content of an event as stored (the sealer and the verifier both read it
    back from the database, so both see the same spelling of every value)."""
    redacted = event.redacted or {}
    details = event.details if isinstance(event.details, dict) else {"": event.details}
    covered = {
        key: redacted[key] if key in redacted and value == REDACTED else _value_mac(event.pk, key, value)
        for key, value in details.items()
    }
    created_at = event.created_at.astimezone(datetime.UTC).isoformat()
    return _json(
        {
            "id": event.pk,
            "organization": event.organization_id,
            "action": event.action,
            "actor": event.actor_id,
            "target": [event.target_type, event.target_id],
            "ip": None if event.ip_address is None else str(event.ip_address),
            "created_at": created_at,
            "details": covered,
        }
    )


def event_mac(event: AuditEvent, *, sequence: int, previous_mac: str) -> str:
    return _mac("chain", f"{sequence}|{previous_mac}|".encode() + _content(event))


# --- writing -----------------------------------------------------------------------------------


def _insert(
    *,
    action: str,
    actor,
    organization,
    target_type: str,
    target_id: str,
    ip_address: str | None,
    details: dict[str, Any],
) -> AuditEvent:
    """Append one event, unsealed.

    1. mark this transaction as an audit writer (a SHARED advisory lock: no writer ever waits
       for it) and only then take the event's id, in one statement whose inner query runs
       first: while the id is not visible yet, the sealer sees its transaction in pg_locks and
       seals nothing past it (see `_sealing_horizon`). PostgreSQL spells the address the way
       the inet column gives it back ("2001:0DB8::0001" is "2001:db8::1");
    2. insert the row, without RETURNING: the application role may append an event of another
       organization or of none (the audit_append policy), but it may not read it back.
    Inside a platform bypass the event goes to the platform alias (logicnet.tenancy.routers),
    in the same transaction as the work it records: a bypass that rolls back leaves no
    event claiming it happened."""
    alias = router.db_for_write(AuditEvent)
    event = AuditEvent(
        organization_id=getattr(organization, "pk", organization),
        action=action,
        actor_id=getattr(actor, "pk", actor),
        target_type=target_type,
        target_id=target_id,
        details=details,
        created_at=timezone.now(),
    )
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('audit_auditevent', 'id')), host(marked.ip)"
            " FROM (SELECT pg_advisory_xact_lock_shared(%s, %s), %s::inet AS ip OFFSET 0) AS marked",
            [_NAMESPACE, _WRITER_MARKER, ip_address],
        )
        event.pk, event.ip_address = cursor.fetchone()
        cursor.execute(
            "INSERT INTO audit_auditevent (id, organization_id, action, actor_id, target_type, target_id,"
            " ip_address, details, created_at, redacted) VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, '{}')",
            [
                event.pk,
                event.organization_id,
                event.action,
                event.actor_id,
                event.target_type,
                event.target_id,
                event.ip_address,
                json.dumps(event.details),
                event.created_at,
            ],
        )
    event._state.adding = False
    event._state.db = alias
    return event


def record_event(
    *,
    action: str,
    actor=None,
    organization=None,
    target=None,
    ip_address: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the log. It waits for no other writer and reads no other row; the
    sealer links it into the chain shortly after its transaction commits."""
    return _insert(
        action=action,
        actor=actor,
        organization=organization,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(getattr(target, "pk", "")) if target is not None else "",
        ip_address=ip_address,
        details=details or {},
    )


def record_batch_event(
    *,
    action: str,
    target_type: str,
    ids: Sequence[int | str],
    actor=None,
    organization=None,
    ip_address: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent | None:
    """One event for one batch of bulk work (an import, a sweep, a bulk action, a
    re-encryption): `details` gets the count and the ids it touched (ids only, never values),
    so a batch of a thousand rows is one event, not a thousand. An empty batch touched
    nothing and records nothing."""
    if not ids:
        return None
    return _insert(
        action=action,
        actor=actor,
        organization=organization,
        target_type=target_type,
        target_id="",
        ip_address=ip_address,
        details={**(details or {}), "count": len(ids), "ids": list(ids)},
    )


def client_ip(request) -> str | None:
    """The client's address, read through the trusted proxies (logicnet.client_ip): behind
    the reverse proxy REMOTE_ADDR is the proxy's, which would make every event anonymous."""
    from logicnet.client_ip import client_ip as trusted_client_ip

    return trusted_client_ip(request)


# --- cross-tenant access ---------------------------------------------------------------------------


@contextmanager
def _all_tenants() -> Iterator[BaseDatabaseWrapper]:
    """Sealing, verification, retention and redaction read every organization's events. They
    run in the worker, beat and management commands, never in a web request (which has no
    platform alias, see settings.PLATFORM_DATABASE), on the platform role's own connection
    (which alone may execute the audit functions, see logicnet.audit.database). This is the
    one place that says how those processes reach it; it yields that connection for the
    raw statements. Not a `platform_bypass`: the sealer auditing itself every ten seconds
    would never run out of work."""
    alias = platform_database()
    with platform_reads():
        yield connections[alias]


# --- sealing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    sequence: int
    event_id: int
    mac: str


@dataclass
class SealReport:
    sealed: int = 0
    head: Head | None = None
    horizon: int = 0
    # Writers still in flight below the horizon when the wait ran out: nothing past the last
    # sealed event could be sealed this run (the next run tries again).
    in_flight: int = 0
    skipped_below_head: list[int] = field(default_factory=list)


def _sealing_horizon(wait_seconds: float) -> tuple[int, int]:
    """The highest id that can be sealed now, and how many writers are still in flight.

    An id is allocated before its row commits, so a lower id can become visible after a higher
    one was sealed, and sealing in id order would have to skip it. Every writer takes the
    shared writer marker before its id (`_insert`), and holds it until its transaction ends.
    So, in this order:
    1. read H, the newest id allocated by anyone so far;
    2. list the transactions of this database holding the marker now: any id <= H whose row
       is not visible yet belongs to one of them (it took the marker before the id, and keeps
       it until it commits or rolls back);
    3. wait (up to `wait_seconds`) until each of them has ended: then every id <= H is either
       visible or gone for good, and the events up to H can be sealed in id order.
    A transaction that stays open longer (a key rotation that audited, a long import batch)
    delays sealing of the events after its own until it ends; it never delays a writer.
    A margin on created_at would not do: that is the writer's clock, read before its commit.
    """
    with connections[platform_database()].cursor() as cursor:
        cursor.execute("SELECT pg_sequence_last_value(pg_get_serial_sequence('audit_auditevent', 'id'))")
        horizon = cursor.fetchone()[0] or 0
        # A new statement, so its view of pg_locks is taken after H was read.
        cursor.execute(
            "SELECT array_agg(virtualtransaction) FROM pg_locks"
            " WHERE locktype = 'advisory' AND classid = %s::oid AND objid = %s::oid AND objsubid = 2 AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND pid <> pg_backend_pid()",
            [_NAMESPACE, _WRITER_MARKER],
        )
        in_flight = cursor.fetchone()[0] or []
        deadline = time.monotonic() + wait_seconds
        while in_flight:
            cursor.execute(
                "SELECT array_agg(DISTINCT virtualtransaction) FROM pg_locks"
                " WHERE locktype = 'advisory' AND classid = %s::oid AND objid = %s::oid AND objsubid = 2"
                " AND virtualtransaction = ANY(%s)",
                [_NAMESPACE, _WRITER_MARKER, in_flight],
            )
            in_flight = cursor.fetchone()[0] or []
            if not in_flight or time.monotonic() >= deadline:
                break
            time.sleep(0.01)  # a background job polling a lock table, not a test
    return horizon, len(in_flight)


def _head() -> Head | None:
    event = (
        AuditEvent.objects.filter(sequence__isnull=False).order_by("-sequence").values_list("sequence", "id", "mac")[:1]
    )
    checkpoint = AuditCheckpoint.objects.order_by("-sequence").values_list("sequence", "event_id", "mac")[:1]
    found = [Head(*row) for row in (*event, *checkpoint)]
    return max(found, key=lambda head: head.sequence, default=None)


def seal_audit_log(*, wait_seconds: float | None = None, batch_size: int = 2000) -> SealReport:
    """Link every event that can be sealed into the chain, in id order, then anchor the head.

    1. find the horizon (`_sealing_horizon`); with writers still in flight, seal nothing;
    2. batch by batch, each in its own short transaction under the sealer's advisory lock (only
       sealers serialise): read the head, the unsealed events above its id up to the horizon in
       id order, give each the next sequence and its MAC, write them through the one narrow
       path `audit_seal_events`;
    3. write the new head, signed, to the application log and the anchor file.
    An unsealed event below the head was inserted after its place was sealed (by hand, or by a
    path that skipped the writer marker): it is left unsealed, logged, and verification fails.
    """
    report = SealReport()
    wait = settings.AUDIT_SEAL_WAIT_SECONDS if wait_seconds is None else wait_seconds
    with _all_tenants():
        report.horizon, report.in_flight = _sealing_horizon(wait)
    if report.in_flight:
        logger.info("audit sealing waits for %s writer(s) still in flight", report.in_flight)
        return report
    while True:
        with _all_tenants() as platform, platform.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_NAMESPACE, _SEALER_LOCK])
            head = _head() or Head(0, 0, GENESIS)
            report.head = head if head.sequence else None
            if not report.skipped_below_head:
                report.skipped_below_head = list(
                    AuditEvent.objects.filter(sequence__isnull=True, id__lt=head.event_id).values_list("id", flat=True)
                )
                if report.skipped_below_head:
                    logger.error("unsealed audit events below the sealed head: %s", report.skipped_below_head[:20])
            events = list(
                AuditEvent.objects.filter(sequence__isnull=True, id__gt=head.event_id, id__lte=report.horizon).order_by(
                    "id"
                )[:batch_size]
            )
            if not events:
                break
            sequences, macs = [], []
            sequence, previous = head.sequence, head.mac
            for event in events:
                sequence += 1
                previous = event_mac(event, sequence=sequence, previous_mac=previous)
                sequences.append(sequence)
                macs.append(previous)
            cursor.execute("SELECT audit_seal_events(%s, %s, %s)", [[event.pk for event in events], sequences, macs])
            if cursor.fetchone()[0] != len(events):  # another sealer cannot run: we hold its lock
                raise RuntimeError("audit events changed while they were being sealed")
            report.sealed += len(events)
            report.head = Head(sequence, events[-1].pk, previous)
    if report.sealed and report.head is not None:
        write_anchor(report.head)
    return report


# --- anchors outside the database ----------------------------------------------------------------

_ANCHOR = re.compile(
    r"audit-anchor v1 sequence=(?P<sequence>\d+) id=(?P<id>\d+) mac=(?P<mac>[0-9a-f]{64}) at=(?P<at>\S+)"
    r" signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass(frozen=True)
class Anchor:
    line_number: int
    head: Head
    valid: bool


def anchor_line(head: Head, at: datetime.datetime) -> str:
    body = f"audit-anchor v1 sequence={head.sequence} id={head.event_id} mac={head.mac} at={at.isoformat()}"
    return f"{body} signature={_mac('anchor', body.encode())}"


def write_anchor(head: Head) -> None:
    """The head, signed, to the application log (shipped off the machine by the log pipeline)
    and appended to the anchor file: a database superuser who rewrites the chain, or cuts off
    its end, cannot make it pass through every anchored head again."""
    line = anchor_line(head, timezone.now().astimezone(datetime.UTC))
    anchor_logger.info(line)
    path = settings.AUDIT_ANCHOR_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (line + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError:
        logger.exception("could not append the audit anchor to %s", path)


def read_anchors() -> list[Anchor]:
    path = settings.AUDIT_ANCHOR_FILE
    if not path.exists():
        return []
    anchors = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        found = _ANCHOR.search(line)
        if not found:
            continue
        head = Head(int(found["sequence"]), int(found["id"]), found["mac"])
        at = datetime.datetime.fromisoformat(found["at"])
        valid = hmac.compare_digest(anchor_line(head, at), found.group(0))
        anchors.append(Anchor(number, head, valid))
    return anchors


# --- verification ----------------------------------------------------------------------------------


@dataclass
class Verification:
    events: int = 0  # sealed events whose MAC and link were checked
    unsealed: int = 0  # events above the head, waiting for the sealer
    checkpoint: int | None = None  # the sequence verification started after
    pending_drop: int = 0  # events behind the checkpoint, not deleted yet
    anchors: int = 0
    head: Head | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _checkpoint_signature(sequence: int, event_id: int, mac: str, dropped_before: datetime.datetime) -> str:
    moment = dropped_before.astimezone(datetime.UTC).isoformat()
    return _mac("checkpoint", f"{sequence}|{event_id}|{mac}|{moment}".encode())


def verify_audit_log(*, seal_first: bool = True) -> Verification:
    """Prove that nothing sealed was changed, removed, inserted or reordered.

    1. seal what can be sealed (so the newest events are covered too);
    2. check every checkpoint's signature; start after the newest one (or from the genesis);
    3. walk the chain in sequence order: no sequence missing (removed), ids strictly rising
       (reordered or inserted), each MAC recomputed with the key (changed, or forged by someone
       without the key), stopping at the first broken link;
    4. no unsealed event below the head (inserted after its place was sealed);
    5. the chain passes through every anchored head written outside the database (signature
       checked), and reaches the newest one (nothing cut off at the end).
    """
    if seal_first:
        seal_audit_log()
    result = Verification()
    anchors = read_anchors()
    result.anchors = len(anchors)
    for anchor in anchors:
        if not anchor.valid:
            result.problems.append(f"anchor on line {anchor.line_number}: its signature does not match (forged)")
    anchored = {anchor.head.sequence: anchor.head for anchor in anchors if anchor.valid}

    with _all_tenants():
        start = Head(0, 0, GENESIS)
        for checkpoint in AuditCheckpoint.objects.order_by("sequence"):
            expected = _checkpoint_signature(
                checkpoint.sequence, checkpoint.event_id, checkpoint.mac, checkpoint.dropped_before
            )
            if not hmac.compare_digest(expected, checkpoint.signature):
                result.problems.append(f"checkpoint at event #{checkpoint.sequence}: its signature does not match")
                continue
            start = Head(checkpoint.sequence, checkpoint.event_id, checkpoint.mac)
        if start.sequence:
            result.checkpoint = start.sequence
            behind = AuditEvent.objects.filter(sequence__lte=start.sequence)
            result.pending_drop = behind.count()
            at_checkpoint = behind.filter(sequence=start.sequence).values_list("id", "mac").first()
            if at_checkpoint is not None and at_checkpoint != (start.event_id, start.mac):
                result.problems.append(f"event #{start.sequence} does not match the checkpoint")

        expected_sequence, previous, previous_id = start.sequence + 1, start.mac, start.event_id
        head = start
        sealed = AuditEvent.objects.filter(sequence__gt=start.sequence).order_by("sequence")
        for event in sealed.iterator(chunk_size=2000):
            problem = ""
            if event.sequence != expected_sequence:
                problem = f"event #{expected_sequence} is missing (removed)"
            elif event.pk <= previous_id:
                problem = f"event #{event.sequence} (id {event.pk}) is out of id order (reordered or inserted)"
            elif not hmac.compare_digest(
                event_mac(event, sequence=event.sequence, previous_mac=previous), event.mac or ""
            ):
                problem = f"event #{event.sequence} (id {event.pk}) does not match its MAC (changed, or forged)"
            elif event.sequence in anchored and anchored[event.sequence] != Head(event.sequence, event.pk, event.mac):
                problem = f"event #{event.sequence} (id {event.pk}) is not the anchored head (history rewritten)"
            if problem:
                result.problems.append(problem)
                break
            result.events += 1
            expected_sequence, previous, previous_id = event.sequence + 1, event.mac, event.pk
            head = Head(event.sequence, event.pk, event.mac)
        result.head = head if head.sequence else None

        below = list(
            AuditEvent.objects.filter(sequence__isnull=True, id__lt=head.event_id)
            .order_by("id")
            .values_list("id", flat=True)[:20]
        )
        if below:
            result.problems.append(
                f"unsealed events below the sealed head (inserted after their place was sealed): ids {below}"
            )
        result.unsealed = AuditEvent.objects.filter(sequence__isnull=True, id__gt=head.event_id).count()

    if not result.problems:
        beyond = [sequence for sequence in anchored if sequence > head.sequence]
        if beyond:
            result.problems.append(
                f"the chain ends at event #{head.sequence}, before the anchored head #{max(beyond)} (events removed)"
            )
    return result


# --- retention -------------------------------------------------------------------------------------


def retention_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    """The first day of the month AUDIT_RETENTION_MONTHS before this one: whole months go."""
    now = (now or timezone.now()).astimezone(datetime.UTC)
    months = now.year * 12 + now.month - 1 - settings.AUDIT_RETENTION_MONTHS
    return datetime.datetime(months // 12, months % 12 + 1, 1, tzinfo=datetime.UTC)


def drop_expired_audit_events(*, now: datetime.datetime | None = None, batch_size: int = 10_000) -> int:
    """Drop the events older than the retention (GDPR Art. 5(1)(e): kept no longer than needed)
    behind a signed checkpoint, so that what remains still verifies.

    1. seal first: only sealed events can be dropped;
    2. the last event to drop is the one just before the first sealed event created on or
       after the cutoff; a checkpoint signed with the key records its sequence, id and MAC
       (verification starts from it);
    3. delete the events at or below the checkpoint, batch by batch, through the one narrow
       path `audit_drop_checkpointed` (the trigger refuses any other DELETE);
    4. record one event with the count and the checkpoint.
    Returns the number of events dropped. Safe to run again after an interruption.
    """
    cutoff = retention_cutoff(now)
    seal_audit_log()
    with _all_tenants():
        head = _head()
        first_kept = (
            AuditEvent.objects.filter(sequence__isnull=False, created_at__gte=cutoff)
            .order_by("sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        last_dropped = (first_kept - 1) if first_kept is not None else (head.sequence if head else 0)
        checkpoint = AuditCheckpoint.objects.order_by("-sequence").first()
        if last_dropped > (checkpoint.sequence if checkpoint else 0):
            event = AuditEvent.objects.get(sequence=last_dropped)
            checkpoint = AuditCheckpoint.objects.create(
                sequence=event.sequence,
                event_id=event.pk,
                mac=event.mac,
                dropped_before=cutoff,
                signature=_checkpoint_signature(event.sequence, event.pk, event.mac, cutoff),
            )
    dropped = 0
    while True:
        with _all_tenants() as platform, platform.cursor() as cursor:
            cursor.execute("SELECT audit_drop_checkpointed(%s)", [batch_size])
            count = cursor.fetchone()[0]
        dropped += count
        if count < batch_size:
            break
    if dropped:
        record_event(
            action="audit.events_dropped",
            details={
                "count": dropped,
                "through_sequence": checkpoint.sequence if checkpoint else None,
                "created_before": cutoff.isoformat(),
            },
        )
    return dropped


# --- redaction -------------------------------------------------------------------------------------


class RedactionError(ValueError):
    pass


def redact_audit_value(*, event_id: int, key: str, reason: str, actor=None) -> AuditEvent:
    """Replace one personal value inside an event's details by "[redacted]" (the privacy app's
    erasure, GDPR Art. 17, where the value itself need not be kept), through the one narrow
    path `audit_redact_value`, and record that it was done. `reason` names the request, never
    the value.

    1. read the value and compute its keyed MAC (which the chain covers, sealed or not yet);
    2. swap the value for "[redacted]" and keep that MAC: the chain still verifies, and anyone
       without the key who redacts or changes a value breaks it;
    3. record `audit.value_redacted` naming the event and the key."""
    with _all_tenants() as platform, platform.cursor() as cursor:
        event = AuditEvent.objects.filter(pk=event_id).first()
        if event is None:
            raise RedactionError(f"no audit event {event_id}")
        if not isinstance(event.details, dict) or key not in event.details:
            raise RedactionError(f"audit event {event_id} has no value {key!r}")
        if key in (event.redacted or {}):
            raise RedactionError(f"the value {key!r} of audit event {event_id} is already redacted")
        value_mac = _value_mac(event.pk, key, event.details[key])
        cursor.execute("SELECT audit_redact_value(%s, %s, %s)", [event.pk, key, value_mac])
        if cursor.fetchone()[0] != 1:
            raise RedactionError(f"audit event {event_id} changed while it was being redacted")
        return record_event(
            action="audit.value_redacted",
            actor=actor,
            organization=event.organization_id,
            target=event,
            details={"event": event.pk, "key": key, "reason": reason},
        )
