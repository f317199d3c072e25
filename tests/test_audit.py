"""The audit log: one hash chain per organization (and one for the platform), append-only
for the application's roles, verified by `manage.py verify_audit_log`."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, connections, transaction
from django.urls import reverse
from django_scopes import scopes_disabled

from logicnet.audit.models import AuditEvent
from logicnet.audit.services import GENESIS, _digest, record_event, verify_chains
from logicnet.tenancy.context import tenant_context
from tests.conftest import use_database_role
from tests.factories import PASSWORD


def _chain(organization_id: int | None) -> list[AuditEvent]:
    """One chain as stored, read as the platform role (the platform chain has no tenant):
    its own connection, so the tests that call this commit their data (platform_db)."""
    with scopes_disabled():
        return list(AuditEvent.objects.using("platform").filter(organization_id=organization_id).order_by("sequence"))


def _assert_chain_intact(events: list[AuditEvent]) -> None:
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    previous = GENESIS
    for event in events:
        assert event.previous_hash == previous, f"event #{event.sequence} does not link"
        assert _digest(event) == event.hash, f"event #{event.sequence} does not match its hash"
        previous = event.hash


def _verify() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


# --- chains ----------------------------------------------------------------------------------------


def test_each_organization_has_its_own_chain(platform_db, org_a, org_b, alice, charlie):
    for n in range(3):
        record_event(action="test.a", actor=alice, organization=org_a, details={"n": n})
        record_event(action="test.b", actor=charlie, organization=org_b, details={"n": n})
    record_event(action="test.a", actor=alice, organization=org_a.pk, target=org_a, ip_address="10.1.2.3")

    chain_a, chain_b = _chain(org_a.pk), _chain(org_b.pk)
    # organization.created opens each chain; then this test's events, in order.
    assert [e.action for e in chain_a] == ["organization.created"] + ["test.a"] * 4
    assert [e.action for e in chain_b] == ["organization.created"] + ["test.b"] * 3
    _assert_chain_intact(chain_a)
    _assert_chain_intact(chain_b)
    assert chain_a[0].previous_hash == chain_b[0].previous_hash == GENESIS
    assert len({e.hash for e in chain_a + chain_b}) == len(chain_a) + len(chain_b)
    last = chain_a[-1]
    assert (last.actor_id, last.target_type, last.target_id, last.ip_address) == (
        alice.pk,
        "organization",
        str(org_a.pk),
        "10.1.2.3",
    )


def test_events_without_an_organization_form_the_platform_chain(platform_db, org_a, alice):
    first = record_event(action="test.platform", actor=alice)
    second = record_event(action="test.platform", details={"k": "v"})
    third = record_event(action="test.platform")
    assert [e.sequence for e in (first, second, third)] == [1, 2, 3]
    chain = _chain(None)
    assert [e.pk for e in chain] == [first.pk, second.pk, third.pk]
    _assert_chain_intact(chain)
    # The organization's chain did not move.
    assert [e.sequence for e in _chain(org_a.pk)] == [1]
    # Tenants do not see the platform chain.
    with tenant_context(org_a):
        assert list(AuditEvent.objects.values_list("action", flat=True)) == ["organization.created"]


def test_the_hash_covers_what_is_stored(platform_db, org_a, alice):
    """An address is hashed as PostgreSQL spells it, so a verifier reading it back agrees."""
    event = record_event(action="test.ip", actor=alice, organization=org_a, ip_address="2001:0DB8:0000::0001")
    assert event.ip_address == "2001:db8::1"
    stored = _chain(org_a.pk)[-1]
    assert stored.ip_address == "2001:db8::1"
    assert _digest(stored) == stored.hash == event.hash
    assert all(report.broken_at is None for report in verify_chains())


def test_each_event_changes_the_hash(org_a, alice):
    one = record_event(action="test.same", actor=alice, organization=org_a, details={"x": 1})
    two = record_event(action="test.same", actor=alice, organization=org_a, details={"x": 1})
    assert one.hash != two.hash
    assert two.previous_hash == one.hash


# --- append-only -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'rewritten'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
@pytest.mark.parametrize("role", ["application", "platform"])
def test_application_roles_cannot_change_the_log(statement, role, platform_db, org_a):
    with tenant_context(org_a):
        assert AuditEvent.objects.count() == 1  # the row is there to change
        alias = "platform" if role == "platform" else "default"
        with (
            pytest.raises(ProgrammingError, match="permission denied"),
            transaction.atomic(using=alias),
            connections[alias].cursor() as cursor,
        ):
            cursor.execute(statement)
        assert list(AuditEvent.objects.values_list("action", flat=True)) == ["organization.created"]


def test_application_role_may_append(org_a):
    with tenant_context(org_a), connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(current_user, 'audit_auditevent', 'INSERT')")
        assert cursor.fetchone() == (True,)


# --- verification ----------------------------------------------------------------------------------


def test_verify_command_reports_intact_chains(platform_db, org_a, org_b, alice):
    record_event(action="test.a", actor=alice, organization=org_a)
    record_event(action="auth.sign_in_failed", ip_address="192.0.2.1")
    output = _verify()
    assert f"organization {org_a.pk}: 2 events, chain intact" in output
    assert f"organization {org_b.pk}: 1 events, chain intact" in output
    assert "platform: 1 events, chain intact" in output
    assert "audit log verified" in output
    assert "BROKEN" not in output


def _tamper_as_owner(sql: str, params: list) -> None:
    """What only someone with the owner's credentials can do, on purpose: switch off the
    trigger, change a row, switch it on again (one transaction, so it is never left off)."""
    use_database_role("owner")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
            cursor.execute(sql, params)
            assert cursor.rowcount == 1
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    finally:
        use_database_role("app")


def test_the_trigger_stops_even_the_owner(platform_db, org_a):
    use_database_role("owner")
    try:
        for statement in ("UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"):
            with (
                pytest.raises(ProgrammingError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement)
    finally:
        use_database_role("app")
    assert [e.action for e in _chain(org_a.pk)] == ["organization.created"]


TAMPERING = {
    # a row's content changed, its hash left alone
    "content": (
        'UPDATE audit_auditevent SET details = \'{"role": "owner"}\' WHERE organization_id = %s AND sequence = 2',
        2,
        "content does not match its hash",
    ),
    # a row removed from the middle
    "deleted": ("DELETE FROM audit_auditevent WHERE organization_id = %s AND sequence = 2", 3, "expected event #2"),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_verify_command_reports_the_first_broken_link(kind, platform_db, org_a, org_b, alice):
    for n in range(3):
        record_event(action="test.a", actor=alice, organization=org_a, details={"n": n})
    assert "audit log verified" in _verify()
    sql, broken_at, problem = TAMPERING[kind]
    _tamper_as_owner(sql, [org_a.pk])

    out = StringIO()
    with pytest.raises(CommandError, match=r"1 audit chain\(s\) broken"):
        call_command("verify_audit_log", stdout=out)
    output = out.getvalue()
    assert f"organization {org_a.pk}: BROKEN at event #{broken_at}: {problem}" in output
    assert f"organization {org_b.pk}: 1 events, chain intact" in output
    assert "audit log verified" not in output


def test_verify_finds_a_forged_link(platform_db, org_a, alice):
    """A forger who recomputes the changed row's hash breaks the link to the next row."""
    for n in range(3):
        record_event(action="test.a", actor=alice, organization=org_a, details={"n": n})
    forged = _chain(org_a.pk)[1]
    forged.action = "test.hidden"
    forged_hash = _digest(forged)
    _tamper_as_owner(
        "UPDATE audit_auditevent SET action = 'test.hidden', hash = %s WHERE id = %s", [forged_hash, forged.pk]
    )
    (report,) = [r for r in verify_chains() if r.organization_id == org_a.pk]
    assert (report.broken_at, report.problem) == (3, "does not link to the event before it")


def test_concurrent_writers_do_not_fork_a_chain(platform_db, org_a, alice):
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(5):
                record_event(action="test.concurrent", actor=alice, organization=org_a, details={"w": n, "i": i})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    chain = _chain(org_a.pk)
    assert len(chain) == 1 + 4 * 5
    _assert_chain_intact(chain)


# --- security events from sign-in --------------------------------------------------------------------


def test_failed_sign_in_is_recorded(platform_db, client, alice):
    response = client.post(reverse("account_login"), {"login": "alice@example.com", "password": "not-the-password"})
    assert response.status_code == 200  # the form again, with an error
    (event,) = _chain(None)
    assert event.action == "auth.sign_in_failed"
    assert event.ip_address == "127.0.0.1"
    assert event.actor_id is None  # no address either: it may be a typo of someone else's
    assert "alice" not in str(event.details)


def test_sign_in_is_recorded(platform_db, client, alice):
    response = client.post(reverse("account_login"), {"login": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    events = [e for e in _chain(None) if e.action == "auth.signed_in"]
    assert [(e.actor_id, e.ip_address) for e in events] == [(alice.pk, "127.0.0.1")]
