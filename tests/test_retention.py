"""The retention sweep (retention/): registry rules with the organization's own periods,
legal holds, set-based batches, one audit event per batch, safe beside another sweep; the
retention pages of the privacy desk."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from activity.models import Interaction, Task
from activity.services import log_interaction
from contacts.models import Contact, ContactEmail, ContactNameToken, ContactTag
from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditEvent
from logicnet.jobs.models import Job
from logicnet.personal_data.registry import registry
from logicnet.tenancy.context import tenant_context
from retention import rules
from retention.models import LegalHold, RetentionOverride
from retention.services import settings as retention_settings
from retention.services.sweep import SWEEP_JOB, preview, start_nightly_sweeps, sweep_organization
from tests.factories import PASSWORD

NOW = timezone.now()
LONG_AGO = NOW - datetime.timedelta(days=800)
RECENTLY = NOW - datetime.timedelta(days=10)


def _contact(organization, actor, name: str, *, updated_at=LONG_AGO, email: str = "", tags=()) -> Contact:
    data = {"first_name": name, "last_name": "Popescu", "email": email, "tags": list(tags)}
    contact = create_contact(organization=organization, actor=actor, data=data)
    with tenant_context(organization):
        Contact.objects.filter(pk=contact.pk).update(updated_at=updated_at)
        contact.refresh_from_db()
    return contact


def _interaction(organization, actor, contacts, occurred_at) -> Interaction:
    return log_interaction(
        organization=organization,
        actor=actor,
        kind="call",
        occurred_at=occurred_at,
        subject="Offer",
        body="Talked about the offer",
        contacts=list(contacts),
    )


def _periods(organization, actor, *, contact_days=365, interaction_days=730) -> None:
    retention_settings.set_retention_period(
        organization=organization, actor=actor, rule="contact", period_days=contact_days
    )
    retention_settings.set_retention_period(
        organization=organization, actor=actor, rule="interaction", period_days=interaction_days
    )


@pytest.fixture
def world(org_a, org_b, alice, charlie):
    """In A: inactive contacts (one held, one with a recent interaction), active ones, old and
    recent interactions (one held, one with a held participant). In B: the same inactive look."""
    stale = [_contact(org_a, alice, f"Stale{i}", email=f"stale{i}@example.net", tags=["old"]) for i in range(5)]
    held = _contact(org_a, alice, "Held")
    busy = _contact(org_a, alice, "Busy")  # unchanged for long, but spoken to last week
    fresh = [_contact(org_a, alice, f"Fresh{i}", updated_at=RECENTLY) for i in range(3)]
    with tenant_context(org_a):
        ContactEmail.objects.create(organization=org_a, contact=stale[0], email="second@example.net")
        Task.objects.create(organization=org_a, title="Call back", contact=stale[1])
    old = [_interaction(org_a, alice, [fresh[0]], LONG_AGO) for _ in range(4)]
    old_held = _interaction(org_a, alice, [fresh[1]], LONG_AGO)
    old_with_held_person = _interaction(org_a, alice, [held, fresh[2]], LONG_AGO)
    recent = _interaction(org_a, alice, [busy], RECENTLY)
    retention_settings.place_hold(organization=org_a, actor=alice, reference="CASE-1", contact_id=held.pk)
    retention_settings.place_hold(organization=org_a, actor=alice, reference="CASE-2", interaction_id=old_held.pk)
    _periods(org_a, alice)
    outsider = _contact(org_b, charlie, "Other")
    _periods(org_b, charlie)
    return {
        "stale": stale,
        "held": held,
        "busy": busy,
        "fresh": fresh,
        "old": old,
        "old_held": old_held,
        "old_with_held_person": old_with_held_person,
        "recent": recent,
        "outsider": outsider,
    }


def _events(organization, action: str) -> list[AuditEvent]:
    with tenant_context(organization):
        return list(AuditEvent.objects.filter(action=action).order_by("pk"))


# --- rules from the registry -------------------------------------------------------------------------


def test_the_rules_come_from_the_registry_with_the_organizations_periods(org_a, alice):
    applied = {rule.key: rule for rule in rules.applied_rules(org_a.pk)}
    # The organization's own rules sweep nothing until it sets a period.
    assert applied["contact"].period is None and not applied["contact"].sweeps
    assert applied["contact"].models == [Contact] and applied["contact"].action == "anonymise"
    assert applied["interaction"].models == [Interaction] and applied["interaction"].action == "delete"
    # Logicnet's own periods, as the registry says them (tables derived from the anchor field).
    assert applied["invitation"].period == registry.retention["invitation"].duration
    assert applied["job"].models == [Job]
    # The audit log and the files have sweeps of their own.
    assert "security_log" not in applied and "data_package" not in applied
    _periods(org_a, alice, contact_days=90)
    applied = {rule.key: rule for rule in rules.applied_rules(org_a.pk)}
    assert applied["contact"].period == datetime.timedelta(days=90) and applied["contact"].overridden


def test_an_organization_cannot_set_logicnets_own_periods(org_a, alice):
    with pytest.raises(Exception, match="set by Logicnet"):
        retention_settings.set_retention_period(organization=org_a, actor=alice, rule="security_log", period_days=1)
    with tenant_context(org_a):
        assert not RetentionOverride.objects.exists()


# --- the sweep ------------------------------------------------------------------------------------------


def test_the_sweep_anonymises_and_deletes_exactly_what_expired_and_spares_held_records(world, org_a, org_b):
    lines = {line["rule"]: line for line in preview(org_a.pk, now=NOW)}
    assert (lines["contact"]["expired"], lines["contact"]["held"], lines["contact"]["to_do"]) == (6, 1, 5)
    assert (lines["interaction"]["expired"], lines["interaction"]["held"], lines["interaction"]["to_do"]) == (6, 2, 4)

    result = sweep_organization(org_a.pk, now=NOW, batch_size=2)

    assert result["rules"]["contact:contacts.Contact"]["rows"] == 5
    assert result["rules"]["interaction:activity.Interaction"]["rows"] == 4
    stale_ids = {c.pk for c in world["stale"]}
    with tenant_context(org_a):
        for contact in Contact.objects.filter(pk__in=stale_ids):
            assert (contact.first_name, contact.last_name, contact.email, contact.email_index) == ("", "", "", "")
            assert contact.name_tokens == [] and contact.version == 2
        # What the registry erases by deleting it went with the person's data.
        assert not ContactEmail.objects.filter(contact_id__in=stale_ids).exists()
        assert not ContactTag.objects.filter(contact_id__in=stale_ids).exists()
        assert not Task.objects.filter(contact_id__in=stale_ids).exists()
        assert not ContactNameToken.objects.filter(contact_id__in=stale_ids).exists()
        # Spared: the held contact, the one with a recent interaction, the active ones.
        spared = Contact.objects.exclude(pk__in=stale_ids)
        assert all(c.first_name for c in spared) and spared.count() == 5
        remaining = set(Interaction.objects.values_list("pk", flat=True))
    assert remaining == {world["old_held"].pk, world["old_with_held_person"].pk, world["recent"].pk}
    with tenant_context(org_b):
        assert Contact.objects.get(pk=world["outsider"].pk).first_name == "Other"

    # One audit event per batch, with the rule and the ids; every row in exactly one.
    anonymised = _events(org_a, "retention.anonymise")
    assert [len(e.details["ids"]) for e in anonymised] == [2, 2, 1]
    assert sorted(i for e in anonymised for i in e.details["ids"]) == sorted(stale_ids)
    assert {e.details["rule"] for e in anonymised} == {"contact"}
    deleted = _events(org_a, "retention.delete")
    assert sorted(i for e in deleted for i in e.details["ids"]) == sorted(i.pk for i in world["old"])

    # Idempotent: a second sweep finds nothing.
    again = sweep_organization(org_a.pk, now=NOW, batch_size=2)
    assert again["rows"] == 0
    assert all(line["to_do"] == 0 for line in preview(org_a.pk, now=NOW))


def test_a_released_hold_no_longer_protects(world, org_a, alice):
    with tenant_context(org_a):
        hold = LegalHold.objects.get(contact=world["held"])
    retention_settings.release_hold(organization=org_a, actor=alice, hold_id=hold.pk)
    sweep_organization(org_a.pk, now=NOW)
    with tenant_context(org_a):
        assert Contact.objects.get(pk=world["held"].pk).first_name == ""
        assert not Interaction.objects.filter(pk=world["old_with_held_person"].pk).exists()


@pytest.mark.django_db(transaction=True)
def test_an_expired_interaction_goes_with_the_released_hold_that_named_it(committed_db, org_a, alice):
    """A hold points at its interaction with no reverse accessor (related_name="+"): the
    set-based delete finds it all the same, or the foreign key would fail at commit."""
    person = _contact(org_a, alice, "Ana", updated_at=RECENTLY)
    old = _interaction(org_a, alice, [person], LONG_AGO)
    hold = retention_settings.place_hold(organization=org_a, actor=alice, reference="CASE-9", interaction_id=old.pk)
    retention_settings.release_hold(organization=org_a, actor=alice, hold_id=hold.pk)
    _periods(org_a, alice)

    result = sweep_organization(org_a.pk, now=NOW)

    line = result["rules"]["interaction:activity.Interaction"]
    assert line["rows"] == 1
    assert line["deleted"] == {"activity.InteractionParticipant": 1, "retention.LegalHold": 1}
    with tenant_context(org_a):
        assert not Interaction.objects.filter(pk=old.pk).exists()
        assert not LegalHold.objects.filter(pk=hold.pk).exists()
        assert Contact.objects.get(pk=person.pk).first_name == "Ana"


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_split_the_work_and_act_once(committed_db, org_a, alice):
    contacts = [_contact(org_a, alice, f"P{i}") for i in range(40)]
    _periods(org_a, alice)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait(timeout=60)
            results.append(sweep_organization(org_a.pk, now=NOW, batch_size=3))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert sum(r["rules"]["contact:contacts.Contact"]["rows"] for r in results) == len(contacts)
    anonymised = _events(org_a, "retention.anonymise")
    ids = [i for e in anonymised for i in e.details["ids"]]
    assert sorted(ids) == sorted(c.pk for c in contacts)  # each row once, by one of the two
    with tenant_context(org_a):
        assert set(Contact.objects.values_list("version", flat=True)) == {2}


@pytest.mark.django_db(transaction=True)
def test_the_nightly_beat_task_starts_one_sweep_per_organization(platform_db, org_a, org_b, settings):
    from logicnet.celery import app
    from retention.tasks import start_nightly_sweeps as nightly_task

    assert settings.CELERY_BEAT_SCHEDULE["retention-nightly-sweep"]["task"] == nightly_task.name
    app.control.purge()
    assert nightly_task() == 2
    assert start_nightly_sweeps() == 0  # queued already: not twice
    for organization in (org_a, org_b):
        with tenant_context(organization):
            assert Job.objects.filter(kind=SWEEP_JOB).count() == 1
    app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_the_platforms_own_tables_are_swept_by_their_registry_rules(platform_db, alice):
    from allauth.usersessions.models import UserSession

    from logicnet.tenancy.context import platform_reads, user_context
    from retention.services.sweep import sweep_platform_tables

    period = registry.retention["session"].duration
    with user_context(alice):
        old = UserSession.objects.create(
            user=alice, ip="192.0.2.1", session_key="old-session", user_agent="test", last_seen_at=NOW - period * 2
        )
        kept = UserSession.objects.create(
            user=alice, ip="192.0.2.2", session_key="new-session", user_agent="test", last_seen_at=NOW
        )
    assert sweep_platform_tables(now=NOW)["usersessions.UserSession"] == 1
    assert sweep_platform_tables(now=NOW) == {}
    with platform_reads():
        assert list(UserSession.objects.values_list("pk", flat=True)) == [kept.pk]
        event = AuditEvent.objects.filter(action="retention.delete").get()
    assert event.details["ids"] == [str(old.pk)] and event.details["rule"] == "session"


# --- the pages ---------------------------------------------------------------------------------------------


def _client(client, user):
    client.login(email=user.email, password=PASSWORD)
    return client


def test_the_retention_pages_are_the_owners_and_admins(client, org_a, org_b, alice, bob, charlie):
    urls = [
        reverse(name, kwargs={"org_slug": org_a.slug})
        for name in ("retention_settings", "retention_preview", "retention_history")
    ]
    for url in urls:
        assert _client(client, alice).get(url).status_code == 200
    client.logout()
    for url in urls:
        assert _client(client, bob).get(url).status_code == 403  # a member
    client.logout()
    for url in urls:
        assert _client(client, charlie).get(url).status_code == 404  # another organization


def test_owners_set_periods_place_holds_and_see_tonights_counts(client, world, org_a, alice):
    _client(client, alice)
    settings_url = reverse("retention_settings", kwargs={"org_slug": org_a.slug})
    response = client.post(settings_url, {"contact": "6", "interaction": ""})
    assert response.status_code == 302
    with tenant_context(org_a):
        periods = dict(RetentionOverride.objects.values_list("rule", "period_days"))
    assert periods == {"contact": 183, "interaction": None}

    # The person to hold is found by name or email, POSTed (never in the URL), then chosen.
    find_url = reverse("retention_hold_find", kwargs={"org_slug": org_a.slug})
    stale = world["stale"][0]
    assert client.get(find_url).status_code == 405
    by_email = client.post(find_url, {"q": "stale0@example.net"})
    assert [row["contact"] for row in by_email.context["found"]["contacts"]] == [stale]
    assert f'value="contact:{stale.pk}"' in by_email.content.decode()
    by_name = client.post(find_url, {"q": "stal"})
    assert len(by_name.context["found"]["contacts"]) == 5
    by_name = client.post(find_url, {"q": "fresh0"})
    (row,) = by_name.context["found"]["contacts"]
    assert {i.pk for i in row["interactions"]} == {i.pk for i in world["old"]}
    assert f'value="interaction:{row["interactions"][0].pk}"' in by_name.content.decode()
    assert client.post(find_url, {"q": "Other"}).context["found"]["contacts"] == []  # B's look-alike

    hold_url = reverse("retention_hold_add", kwargs={"org_slug": org_a.slug})
    added = client.post(hold_url, {"target": f"contact:{stale.pk}", "reference": "CASE-9", "q": "stale0@example.net"})
    assert added.status_code == 302
    missing = client.post(hold_url, {"target": f"contact:{world['outsider'].pk}", "reference": "X", "q": "Other"})
    assert missing.status_code == 400  # another organization's contact is not found here
    assert client.post(hold_url, {"target": "contact:abc", "reference": "X"}).status_code == 400
    page = client.get(settings_url).content.decode()
    assert "Stale0 Popescu" in page and "CASE-9" in page

    page = client.get(reverse("retention_preview", kwargs={"org_slug": org_a.slug}))
    assert page.status_code == 200
    lines = {line["rule"]: line for line in page.context["lines"]}
    assert (lines["contact"]["expired"], lines["contact"]["held"], lines["contact"]["to_do"]) == (6, 2, 4)
    assert lines["interaction"]["period_days"] is None and lines["interaction"]["to_do"] == 0

    with tenant_context(org_a):
        hold = LegalHold.objects.get(contact=stale)
    release_url = reverse("retention_hold_release", kwargs={"org_slug": org_a.slug})
    assert client.post(release_url, {"hold": hold.pk}).status_code == 302
    with tenant_context(org_a):
        hold.refresh_from_db()
    assert hold.released_at is not None
    assert [e.details["rule"] for e in _events(org_a, "retention.period_changed")][-2:] == ["contact", "interaction"]


def test_the_history_lists_past_sweeps_with_their_counts(
    client, world, org_a, alice, eager_tasks, django_capture_on_commit_callbacks
):
    _client(client, alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("retention_run", kwargs={"org_slug": org_a.slug}))
    assert response.status_code == 302
    with tenant_context(org_a):
        job = Job.objects.get(kind=SWEEP_JOB)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.result["rows"] == 9  # five contacts anonymised, four interactions deleted
    page = client.get(reverse("retention_history", kwargs={"org_slug": org_a.slug}))
    assert page.status_code == 200 and page.context["sweeps"] == [job]
    assert b"contact: 5" in page.content


# --- the promise and the rule ------------------------------------------------------------------------------


def _policy_text(language: str) -> str:
    from pathlib import Path

    from django.conf import settings

    return (Path(settings.BASE_DIR) / "templates" / "accounts" / f"privacy_policy_{language}.html").read_text()


@pytest.mark.parametrize(
    ("language", "session_pattern", "cookie_device_pattern"),
    [
        ("en", r"at most (\d+) days after its last use", r"the last two kept (\d+) days"),
        ("ro", r"cel mult (\d+) zile după ultima folosire", r"ultimele două păstrate (\d+) de zile"),
    ],
)
def test_the_privacy_policy_promises_the_periods_the_sweeps_apply(language, session_pattern, cookie_device_pattern):
    """Session and IP data: the policy (both languages) states how long a session's IP
    address and browser, and a cookie choice's, are kept; the registry's rules, which the
    sweeps apply, say the same, and so does the session cookie's lifetime."""
    import re

    from django.conf import settings

    from usage.personal_data import COOKIE_CHOICE_DEVICE

    text = _policy_text(language)
    session_days = int(re.search(session_pattern, text).group(1))
    cookie_device_days = int(re.search(cookie_device_pattern, text).group(1))
    assert registry.retention["session"].duration == datetime.timedelta(days=session_days)
    assert registry.retention["session"].anchor == "last_seen_at"  # "after its last use"
    assert session_days * 24 * 3600 == settings.SESSION_COOKIE_AGE
    assert registry.retention[COOKIE_CHOICE_DEVICE].duration == datetime.timedelta(days=cookie_device_days)


@pytest.mark.django_db(transaction=True)
def test_a_sessions_ip_address_goes_on_the_day_the_policy_says(platform_db, alice):
    from allauth.usersessions.models import UserSession

    from logicnet.tenancy.context import platform_reads, user_context
    from retention.services.sweep import sweep_platform_tables

    period = registry.retention["session"].duration
    day = datetime.timedelta(days=1)
    with user_context(alice):
        within = UserSession.objects.create(
            user=alice, ip="192.0.2.3", session_key="within", user_agent="test", last_seen_at=NOW - period + day
        )
        UserSession.objects.create(
            user=alice, ip="192.0.2.4", session_key="past", user_agent="test", last_seen_at=NOW - period - day
        )
    assert sweep_platform_tables(now=NOW)["usersessions.UserSession"] == 1
    with platform_reads():
        assert list(UserSession.objects.values_list("pk", flat=True)) == [within.pk]
