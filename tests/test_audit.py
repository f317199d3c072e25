"""The audit log: inserted freely, sealed afterwards into one chain with a keyed MAC, anchored
outside the database, verified by `manage.py verify_audit_log`; old months dropped behind a
signed checkpoint; one value redactable through one narrow path."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditCheckpoint, AuditEvent
from logicnet.audit.services import (
    GENESIS,
    REDACTED,
    RedactionError,
    drop_expired_audit_events,
    event_mac,
    read_anchors,
    record_batch_event,
    record_event,
    redact_audit_value,
    seal_audit_log,
)
from logicnet.tenancy.context import tenant_context
from tests.conftest import use_database_role
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    """Each test its own anchor file: the anchors of another test's database would not match."""
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"
    return settings.AUDIT_ANCHOR_FILE


def _events(**filters) -> list[AuditEvent]:
    """Events as stored, in id order, read as the platform role (they span organizations), on
    its own connection: the tests that call this commit their data (platform_db)."""
    with scopes_disabled():
        return list(AuditEvent.objects.using("platform").filter(**filters).order_by("id"))


def _assert_chain(events: list[AuditEvent]) -> None:
    """What the sealer promises: sequences 1..n in id order, each MAC over the previous one."""
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    previous = GENESIS
    for event in events:
        assert event.mac == event_mac(event, sequence=event.sequence, previous_mac=previous)
        previous = event.mac


def _verify() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def _verify_fails() -> str:
    out = StringIO()
    with pytest.raises(CommandError, match="failed verification"):
        call_command("verify_audit_log", stdout=out)
    output = out.getvalue()
    assert "audit log verified" not in output
    return output


def _as_owner(sql: str, params: list | None = None, *, trigger_off: bool = True) -> int:
    """What only someone with the owner's credentials can do, on purpose: switch off the
    trigger, change rows, switch it on again (one transaction, so it is never left off)."""
    use_database_role("owner")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if trigger_off:
                cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_guard")
            cursor.execute(sql, params or [])
            count = cursor.rowcount
            if trigger_off:
                cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_guard")
        return count
    finally:
        use_database_role("app")


# --- writing ----------------------------------------------------------------------------------


def test_an_event_is_inserted_unsealed_with_what_the_caller_gave(platform_db, org_a, alice):
    event = record_event(
        action="test.ip", actor=alice, organization=org_a, target=org_a, ip_address="2001:0DB8:0000::0001"
    )
    assert event.pk is not None
    # PostgreSQL's spelling of the address, as the inet column gives it back.
    assert event.ip_address == "2001:db8::1"
    (stored,) = _events(pk=event.pk)
    assert (stored.action, stored.actor_id, stored.target_type, stored.target_id, stored.ip_address) == (
        "test.ip",
        alice.pk,
        "organization",
        str(org_a.pk),
        "2001:db8::1",
    )
    assert (stored.sequence, stored.mac, stored.redacted) == (None, None, {})


def test_a_writer_only_inserts(org_a, alice):
    """No read of another row, no exclusive lock, no switch to an all-tenant role: writers
    never wait for one another and need nothing outside their own tenant."""
    with tenant_context(org_a), CaptureQueriesContext(connection) as queries:
        record_event(action="test.a", actor=alice, organization=org_a, details={"n": 1})
        record_event(action="auth.sign_in_failed", ip_address="192.0.2.1")
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in statements if "ROLE" in s.upper()]
    assert not [s for s in statements if "FROM audit_auditevent" in s or 'FROM "audit_auditevent"' in s]
    assert not [s for s in statements if "pg_advisory_xact_lock(" in s]  # only the _shared marker
    assert len([s for s in statements if s.startswith("INSERT INTO audit_auditevent")]) == 2


def test_the_application_role_appends_but_does_not_read_back(platform_db, org_a, org_b, alice):
    with tenant_context(org_a):
        record_event(action="test.platform", actor=alice)  # no organization: allowed
        own = record_event(action="test.own", actor=alice, organization=org_a)
        # Not another organization's log while acting in this one.
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            record_event(action="test.other", actor=alice, organization=org_b)
        # The tenant sees its own events only, not the platform's.
        assert set(AuditEvent.objects.values_list("action", flat=True)) == {"organization.created", "test.own"}
    # Outside any organization (a sign-in, the access-log drain) any organization may be written.
    record_event(action="test.other", organization=org_b)
    assert [e.action for e in _events(organization=org_b)] == ["organization.created", "test.other"]
    assert own.organization_id == org_a.pk


def test_a_batch_is_one_event_with_its_count_and_ids(platform_db, org_a, alice):
    event = record_batch_event(
        action="test.bulk", actor=alice, organization=org_a, target_type="contact", ids=[3, 1, 2], details={"tag": 7}
    )
    (stored,) = _events(pk=event.pk)
    assert stored.target_type == "contact"
    assert stored.details == {"tag": 7, "count": 3, "ids": [3, 1, 2]}
    assert record_batch_event(action="test.bulk", organization=org_a, target_type="contact", ids=[]) is None


# --- sealing ----------------------------------------------------------------------------------------


def test_sealing_links_every_event_in_id_order(platform_db, org_a, org_b, alice, charlie, anchor_file):
    for n in range(3):
        record_event(action="test.a", actor=alice, organization=org_a, details={"n": n})
        record_event(action="test.b", actor=charlie, organization=org_b, details={"n": n})
        record_event(action="test.platform", details={"n": n})
    assert {e.sequence for e in _events()} == {None}

    report = seal_audit_log()
    events = _events()
    assert report.sealed == len(events) == 2 + 9  # organization.created twice, then this test's events
    _assert_chain(events)
    assert report.head.sequence == len(events) and report.head.event_id == events[-1].pk
    # The head went outside the database, signed.
    (anchor,) = read_anchors()
    assert anchor.valid and anchor.head == report.head
    assert "audit-anchor v1 sequence=11" in anchor_file.read_text()

    later = record_event(action="test.later", organization=org_a)
    assert seal_audit_log().sealed == 1
    events = _events()
    _assert_chain(events)
    assert events[-1].pk == later.pk
    assert seal_audit_log().sealed == 0


def test_the_mac_needs_the_key(platform_db, org_a, alice, settings):
    record_event(action="test.a", actor=alice, organization=org_a, details={"role": "member"})
    seal_audit_log()
    (_, event) = _events()
    settings.AUDIT_MAC_KEY = secrets.token_urlsafe(32)
    assert event.mac != event_mac(event, sequence=event.sequence, previous_mac=_events()[0].mac)


def test_concurrent_writers_all_end_up_in_the_chain(platform_db, org_a, alice):
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(5):
                with transaction.atomic():
                    record_event(action="test.concurrent", actor=alice, organization=org_a, details={"w": n, "i": i})
                    record_event(action="test.concurrent.platform", details={"w": n, "i": i})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    seal_audit_log()
    events = _events()
    assert len(events) == 1 + 4 * 5 * 2
    _assert_chain(events)
    assert "audit log verified" in _verify()


def test_an_event_committed_late_below_a_newer_one_is_sealed_in_its_place(platform_db, org_a, alice):
    """Ids are taken before commit: the sealer must not seal past an id still in flight, or
    the late event could never take its place in id order."""
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                record_event(action="test.slow", actor=alice, organization=org_a)
                written.set()
                release.wait(120)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert written.wait(60)
        fast = record_event(action="test.fast", actor=alice, organization=org_a)  # same organization: no wait
        report = seal_audit_log(wait_seconds=0)
        assert report.in_flight == 1 and report.sealed == 0
        assert [e.sequence for e in _events(pk=fast.pk)] == [None]
    finally:
        release.set()
        thread.join(60)
    assert not errors
    assert seal_audit_log().sealed == 3  # organization.created, the slow one, the fast one
    events = _events()
    assert [e.action for e in events] == ["organization.created", "test.slow", "test.fast"]
    _assert_chain(events)


def test_a_sign_in_completes_while_a_key_rotation_holds_its_transaction(
    platform_db, client, org_a, alice, settings, anchor_file
):
    create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "ana@exemplu.ro"})
    settings.ENCRYPTION_MASTER_KEYS = [("rotated", secrets.token_bytes(32)), settings.ENCRYPTION_MASTER_KEYS[0]]
    rotated, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def rotate() -> None:
        try:
            # The whole rotation, audit events included, inside one transaction left open (on
            # the platform alias, where the rotation's bypass runs).
            with transaction.atomic(using="platform"):
                call_command("rotate_master_key", stdout=StringIO())
                rotated.set()
                release.wait(120)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=rotate)
    thread.start()
    try:
        assert rotated.wait(60), errors
        response = client.post(reverse("account_login"), {"login": "alice@example.com", "password": PASSWORD})
        assert response.status_code == 302
        # Committed while the rotation's transaction is still open.
        assert thread.is_alive() and not release.is_set()
        assert [e.actor_id for e in _events(action="auth.signed_in")] == [alice.pk]
        assert _events(action="encryption.keys_rewrapped") == []  # not committed yet
        assert seal_audit_log(wait_seconds=0).in_flight == 1
    finally:
        release.set()
        thread.join(60)
    assert not errors
    (rewrapped,) = _events(action="encryption.keys_rewrapped")
    assert rewrapped.details["count"] == 1 and rewrapped.details["organizations"] == [org_a.pk]
    seal_audit_log()
    _assert_chain(_events())
    assert "audit log verified" in _verify()


# --- what nobody may change -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'rewritten'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
        "SELECT audit_seal_events(ARRAY[1]::bigint[], ARRAY[1]::bigint[], ARRAY['x'])",
        "SELECT audit_redact_value(1, 'k', 'x')",
        "SELECT audit_drop_checkpointed(1)",
    ],
)
def test_the_web_role_cannot_change_seal_redact_or_drop(statement, org_a):
    with tenant_context(org_a):
        assert AuditEvent.objects.count() == 1  # the row is there to change
        with (
            pytest.raises(ProgrammingError, match="permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
        assert list(AuditEvent.objects.values_list("action", "sequence")) == [("organization.created", None)]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'rewritten'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_the_platform_role_cannot_change_the_log(statement, platform_db, org_a):
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(using="platform"),
        connections["platform"].cursor() as cursor,
    ):
        cursor.execute(statement)
    with scopes_disabled():
        assert AuditEvent.objects.using("platform").filter(action="organization.created").count() == 1


OWNER_REFUSED = {
    "content": "UPDATE audit_auditevent SET action = 'x'",
    "reseal": "UPDATE audit_auditevent SET mac = repeat('0', 64) WHERE sequence IS NOT NULL",
    "seal and change": "UPDATE audit_auditevent SET sequence = 99, mac = repeat('0', 64), action = 'x' "
    "WHERE sequence IS NULL",
    "unseal": "UPDATE audit_auditevent SET sequence = NULL, mac = NULL WHERE sequence IS NOT NULL",
    "two redactions": 'UPDATE audit_auditevent SET details = details || \'{"a": "[redacted]", "b": "[redacted]"}\','
    ' redacted = \'{"a": "x", "b": "y"}\' WHERE details ? \'a\'',
    "redaction with another value": 'UPDATE audit_auditevent SET details = details || \'{"a": "other"}\','
    " redacted = '{\"a\": \"x\"}' WHERE details ? 'a'",
    "delete": "DELETE FROM audit_auditevent",
    "insert sealed": "INSERT INTO audit_auditevent (organization_id, sequence, action, actor_id, target_type,"
    " target_id, details, created_at, redacted, mac) VALUES (NULL, 50, 'x', NULL, '', '', '{}', now(), '{}', 'x')",
}


@pytest.mark.parametrize("kind", sorted(OWNER_REFUSED))
def test_the_trigger_stops_even_the_owner(kind, platform_db, org_a, alice):
    record_event(action="test.a", actor=alice, organization=org_a, details={"a": "1", "b": "2"})
    seal_audit_log()
    record_event(action="test.unsealed", actor=alice, organization=org_a, details={"a": "1", "b": "2"})
    before = [(e.pk, e.action, e.sequence, e.mac, e.details) for e in _events()]
    with pytest.raises(ProgrammingError, match="append-only"):
        _as_owner(OWNER_REFUSED[kind], trigger_off=False)
    assert [(e.pk, e.action, e.sequence, e.mac, e.details) for e in _events()] == before


# --- verification ---------------------------------------------------------------------------------


def test_verify_command_reports_an_intact_log(platform_db, org_a, org_b, alice):
    record_event(action="test.a", actor=alice, organization=org_a)
    record_event(action="auth.sign_in_failed", ip_address="192.0.2.1")
    output = _verify()  # seals first
    assert "4 sealed events checked from the genesis; head #4" in output
    assert "0 waiting to be sealed; 1 anchors" in output
    assert "audit log verified" in output
    assert "BROKEN" not in output


def _sealed(n: int, org_a, alice) -> list[AuditEvent]:
    for i in range(n):
        record_event(action="test.a", actor=alice, organization=org_a, details={"n": i})
    seal_audit_log()
    assert "audit log verified" in _verify()
    return _events()


def _old_style_digest(event: AuditEvent, previous: str) -> str:
    """What a forger with database access computes: the previous release's unkeyed SHA-256."""
    payload = {"id": event.pk, "action": event.action, "details": event.details, "previous": previous}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def test_verify_finds_a_changed_event(platform_db, org_a, alice):
    events = _sealed(4, org_a, alice)
    _as_owner('UPDATE audit_auditevent SET details = \'{"role": "owner"}\' WHERE id = %s', [events[2].pk])
    assert f"BROKEN: event #3 (id {events[2].pk}) does not match its MAC" in _verify_fails()


def test_verify_finds_a_removed_event(platform_db, org_a, alice):
    events = _sealed(4, org_a, alice)
    _as_owner("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    assert "BROKEN: event #3 is missing (removed)" in _verify_fails()


def test_verify_finds_removed_events_at_the_end(platform_db, org_a, alice):
    """The database alone cannot tell a cut-off end; the anchored head can."""
    events = _sealed(4, org_a, alice)
    _as_owner("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    assert "BROKEN: the chain ends at event #4, before the anchored head #5 (events removed)" in _verify_fails()


def test_verify_finds_reordered_events(platform_db, org_a, alice):
    events = _sealed(4, org_a, alice)
    second, third = events[1], events[2]
    # Swap their places in the chain, MACs included (sequence is unique: through a spare value).
    _as_owner("UPDATE audit_auditevent SET sequence = 1000 WHERE id = %s", [second.pk])
    _as_owner("UPDATE audit_auditevent SET sequence = 2, mac = %s WHERE id = %s", [second.mac, third.pk])
    _as_owner("UPDATE audit_auditevent SET sequence = 3, mac = %s WHERE id = %s", [third.mac, second.pk])
    # The MAC covers the event's id and place: the moved event no longer matches.
    assert f"BROKEN: event #2 (id {third.pk}) does not match its MAC" in _verify_fails()


def test_verify_finds_an_event_inserted_below_the_head(platform_db, org_a, alice):
    record_event(action="test.a", actor=alice, organization=org_a)
    with pytest.raises(RuntimeError), transaction.atomic():  # leaves an unused id behind
        gap = record_event(action="test.rolled_back", organization=org_a)
        raise RuntimeError
    record_event(action="test.b", actor=alice, organization=org_a)
    seal_audit_log()
    assert "audit log verified" in _verify()
    _as_owner(
        "INSERT INTO audit_auditevent (id, organization_id, action, target_type, target_id, details, created_at,"
        " redacted) VALUES (%s, %s, 'member.role_changed', '', '', '{}', now(), '{}')",
        [gap.pk, org_a.pk],
    )
    assert f"BROKEN: unsealed events below the sealed head (inserted after their place was sealed): ids [{gap.pk}]" in (
        _verify_fails()
    )


def test_a_chain_valid_forgery_made_with_database_access_fails(platform_db, org_a, alice):
    """The previous release's SHA-256 chain let anyone with database access append a forged
    event that verified. Without the key, a forged MAC cannot match."""
    events = _sealed(3, org_a, alice)
    head = events[-1]
    forged = AuditEvent(
        pk=head.pk + 1000,
        organization_id=org_a.pk,
        action="member.role_changed",
        actor_id=alice.pk,
        details={"role": "owner"},
        created_at=timezone.now(),
    )
    _as_owner(
        "INSERT INTO audit_auditevent (id, organization_id, sequence, action, actor_id, target_type, target_id,"
        " details, created_at, redacted, mac) VALUES (%s, %s, %s, %s, %s, '', '', %s, %s, '{}', %s)",
        [
            forged.pk,
            org_a.pk,
            head.sequence + 1,
            forged.action,
            alice.pk,
            json.dumps(forged.details),
            forged.created_at,
            _old_style_digest(forged, head.mac),
        ],
    )
    assert f"BROKEN: event #{head.sequence + 1} (id {forged.pk}) does not match its MAC" in _verify_fails()


def test_a_chain_rewritten_with_another_key_fails(platform_db, org_a, alice, settings):
    """A database superuser who re-seals the whole chain consistently, with a key of their own."""
    events = _sealed(3, org_a, alice)
    real_key = settings.AUDIT_MAC_KEY
    settings.AUDIT_MAC_KEY = secrets.token_urlsafe(32)
    previous = GENESIS
    for event in events:
        event.mac = event_mac(event, sequence=event.sequence, previous_mac=previous)
        previous = event.mac
        _as_owner("UPDATE audit_auditevent SET mac = %s WHERE id = %s", [event.mac, event.pk])
    settings.AUDIT_MAC_KEY = real_key
    assert f"BROKEN: event #1 (id {events[0].pk}) does not match its MAC" in _verify_fails()


def test_a_forged_anchor_line_fails(platform_db, org_a, alice, anchor_file):
    _sealed(2, org_a, alice)
    text = anchor_file.read_text()
    anchor_file.write_text(text.replace("sequence=3", "sequence=2", 1))
    assert "BROKEN: anchor on line 1: its signature does not match (forged)" in _verify_fails()


# --- redaction ----------------------------------------------------------------------------------


def test_a_redacted_value_keeps_the_chain_valid(platform_db, org_a, alice):
    sealed = record_event(action="test.invited", actor=alice, organization=org_a, details={"email": "ana@exemplu.ro"})
    seal_audit_log()
    unsealed = record_event(action="test.invited", actor=alice, organization=org_a, details={"email": "b@exemplu.ro"})
    for event in (sealed, unsealed):
        redaction = redact_audit_value(event_id=event.pk, key="email", reason="erasure request 12", actor=alice)
        assert redaction.details == {"event": event.pk, "key": "email", "reason": "erasure request 12"}
    (stored,) = _events(pk=sealed.pk)
    assert stored.details == {"email": REDACTED}
    assert "ana@exemplu.ro" not in json.dumps(stored.redacted)
    assert "audit log verified" in _verify()
    with pytest.raises(RedactionError, match="already redacted"):
        redact_audit_value(event_id=sealed.pk, key="email", reason="again")
    with pytest.raises(RedactionError, match="has no value"):
        redact_audit_value(event_id=sealed.pk, key="phone", reason="none")


def test_a_redaction_without_the_key_fails(platform_db, org_a, alice):
    event = record_event(action="test.invited", actor=alice, organization=org_a, details={"email": "ana@exemplu.ro"})
    seal_audit_log()
    unkeyed = hashlib.sha256(json.dumps([event.pk, "email", "ana@exemplu.ro"]).encode()).hexdigest()
    _as_owner(
        "UPDATE audit_auditevent SET details = '{\"email\": \"[redacted]\"}', redacted = jsonb_build_object('email', %s)"
        " WHERE id = %s",
        [unkeyed, event.pk],
    )
    assert f"BROKEN: event #2 (id {event.pk}) does not match its MAC" in _verify_fails()


# --- retention --------------------------------------------------------------------------------


def test_old_months_are_dropped_behind_a_checkpoint_and_the_rest_verifies(platform_db, org_a, alice, settings):
    old = [record_event(action="test.old", actor=alice, organization=org_a, details={"n": n}) for n in range(3)]
    settings.AUDIT_RETENTION_MONTHS = 0
    # A month from now, with no retention, everything written so far is past it.
    dropped = drop_expired_audit_events(now=timezone.now() + timezone.timedelta(days=40))
    assert dropped == 4
    assert _events(pk__in=[e.pk for e in old]) == []
    (checkpoint,) = AuditCheckpoint.objects.all()
    assert (checkpoint.sequence, checkpoint.event_id) == (4, old[-1].pk)
    # The drop is itself recorded, and what comes after chains on from the checkpoint.
    (event,) = _events(action="audit.events_dropped")
    assert event.details["count"] == 4 and event.details["through_sequence"] == 4
    record_event(action="test.new", actor=alice, organization=org_a)
    output = _verify()
    assert "2 sealed events checked from checkpoint #4; head #6" in output
    assert "audit log verified" in output
    # Events after the checkpoint still cannot be deleted, even by the owner.
    with pytest.raises(ProgrammingError, match="not behind a checkpoint"):
        _as_owner("DELETE FROM audit_auditevent", trigger_off=False)


def test_a_forged_checkpoint_fails(platform_db, org_a, alice):
    events = _sealed(3, org_a, alice)
    use_database_role("owner")
    try:
        AuditCheckpoint.objects.create(
            sequence=3, event_id=events[2].pk, mac=events[2].mac, dropped_before=timezone.now(), signature="0" * 64
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE sequence <= 3")  # the trigger lets it through
    finally:
        use_database_role("app")
    assert "BROKEN: checkpoint at event #3: its signature does not match" in _verify_fails()


# --- security events from sign-in --------------------------------------------------------------------


def test_failed_sign_in_is_recorded(platform_db, client, alice):
    response = client.post(reverse("account_login"), {"login": "alice@example.com", "password": "not-the-password"})
    assert response.status_code == 200  # the form again, with an error
    (event,) = _events(organization=None)
    assert event.action == "auth.sign_in_failed"
    assert event.ip_address == "127.0.0.1"
    assert event.actor_id is None  # no address either: it may be a typo of someone else's
    assert "alice" not in str(event.details)


def test_sign_in_is_recorded(platform_db, client, alice):
    response = client.post(reverse("account_login"), {"login": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    events = [e for e in _events(organization=None) if e.action == "auth.signed_in"]
    assert [(e.actor_id, e.ip_address) for e in events] == [(alice.pk, "127.0.0.1")]


# --- benchmark ------------------------------------------------------------------------------------


def test_the_benchmark_runs_and_everything_it_writes_is_sealed(platform_db):
    out = StringIO()
    call_command("bench_audit", seconds=0.3, writers=2, hold_ms=1, stdout=out)
    output = out.getvalue()
    assert "audit writers: 2 in one organization + 2 without" in output
    assert "longest wait" in output and "sealer:" in output
    written = _events(action="bench.event")
    assert written and all(event.sequence is not None for event in written)
    assert "audit log verified" in _verify()
