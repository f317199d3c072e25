"""The breach register: the 72-hour clock, the affected scope computed organization by
organization, and the notification batches over real SMTP (tests/smtp.py), with the
platform's incident table out of the application role's reach."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from celery.signals import task_postrun
from django.core.exceptions import ValidationError
from django.db import ProgrammingError, connections, transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Membership, User
from accounts.services import set_privacy_officer
from breaches import clock, jobs, services
from breaches.models import BreachIncident, BreachNotice, BreachRecipient, RiskLevel
from contacts.models import Contact
from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditEvent
from logicnet.jobs.models import Job
from logicnet.personal_data.registry import Category
from logicnet.tenancy.context import platform_bypass, tenant_context
from tests.factories import make_member, make_user
from tests.smtp import Mailbox
from tests.test_admin import _verified_admin

NOW = timezone.now()


@pytest.fixture
def staff(platform_db):
    """A platform administrator (the flags only the platform role may set, as test_admin does)."""
    user = make_user("root@logicnet.example", "Platform Admin")
    User.objects.using("platform").filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return user


# --- the clock -------------------------------------------------------------------------------------


def _incident(**facts) -> BreachIncident:
    values = {"reference": "BR-T-1", "title": "Leaked export", "aware_at": NOW - timedelta(hours=10), **facts}
    return BreachIncident(**values)


def test_the_clock_runs_72_hours_from_awareness():
    incident = _incident()
    c = clock.authority_clock(incident, now=NOW)
    assert c.deadline == incident.aware_at + timedelta(hours=72)
    assert c.running and not c.overdue and not c.late
    assert c.hours_left == 62
    assert c.countdown == "62h 00m"


def test_past_72_hours_unnotified_is_overdue_and_late():
    c = clock.authority_clock(_incident(aware_at=NOW - timedelta(hours=75, minutes=30)), now=NOW)
    assert c.overdue and c.late
    assert c.countdown == "-3h 30m"


def test_the_clock_stops_at_the_notification():
    notified = _incident(aware_at=NOW - timedelta(hours=100), authority_notified_at=NOW - timedelta(hours=50))
    c = clock.authority_clock(notified, now=NOW)
    assert not c.running and not c.overdue and not c.late
    assert c.countdown == "22h 00m"  # what was left when it stopped


def test_a_risk_unlikely_incident_needs_no_notification():
    c = clock.authority_clock(_incident(aware_at=NOW - timedelta(days=10), risk_level=RiskLevel.UNLIKELY), now=NOW)
    assert not c.required and not c.overdue and not c.late


def test_a_late_notification_requires_its_reasons():
    late = _incident(aware_at=NOW - timedelta(hours=80), authority_notified_at=NOW - timedelta(hours=1))
    with pytest.raises(ValidationError) as refused:
        services.validate_incident(late)
    assert "late_reasons" in refused.value.message_dict
    late.late_reasons = "The scope took a day to establish."
    services.validate_incident(late)
    in_time = _incident(aware_at=NOW - timedelta(hours=80), authority_notified_at=NOW - timedelta(hours=9))
    services.validate_incident(in_time)


def test_the_organizations_clock_starts_when_logicnet_tells_it():
    notice = BreachNotice(aware_at=NOW - timedelta(hours=90), risk_level=RiskLevel.RISK)
    assert clock.organization_clock(notice, now=NOW) is None
    notice.organization_notified_at = NOW - timedelta(hours=2)
    c = clock.organization_clock(notice, now=NOW)
    assert c.deadline == notice.organization_notified_at + timedelta(hours=72)
    assert not c.overdue and c.hours_left == 70


# --- the walls ------------------------------------------------------------------------------------


def test_the_application_role_cannot_read_the_platforms_register(db):
    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        list(BreachIncident.objects.all())


# --- scope and mail, end to end ---------------------------------------------------------------------


class BouncingMailbox(Mailbox):
    """A mailbox whose server refuses some recipients outright (a hard bounce, 550)."""

    def __init__(self, refused: set[str]) -> None:
        super().__init__()
        self.refused = {address.lower() for address in refused}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.lower() in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def bouncing_mailbox(settings):
    box = BouncingMailbox({"gone@example.net"})
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = box.host, box.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield box
    controller.stop()


@pytest.fixture
def people(org_a, org_b, alice, charlie):
    """Organization A: two contacts changed in the period, one long before it, one without
    an address; organization B (not in scope) a look-alike."""
    ana = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "ana@example.net"})
    gone = create_contact(organization=org_a, actor=alice, data={"first_name": "Gone", "email": "gone@example.net"})
    old = create_contact(organization=org_a, actor=alice, data={"first_name": "Old", "email": "old@example.net"})
    create_contact(organization=org_a, actor=alice, data={"first_name": "Nomail"})
    create_contact(organization=org_b, actor=charlie, data={"first_name": "Ana", "email": "ana@example.org"})
    long_ago = NOW - timedelta(days=400)
    with tenant_context(org_a):
        Contact.objects.filter(pk=old.pk).update(created_at=long_ago, updated_at=long_ago)
    return {"ana": ana, "gone": gone, "old": old}


def _open_incident(admin, org) -> BreachIncident:
    with platform_bypass(actor=admin, reason="test: open an incident"):
        incident = services.save_incident(
            incident=BreachIncident(
                title="Backup bucket readable",
                aware_at=timezone.now() - timedelta(hours=5),
                confidentiality=True,
                data_categories=[Category.CONTACT],
                period_start=NOW - timedelta(days=30),
                period_end=timezone.now() + timedelta(minutes=5),
                consequences="Addresses may be used for phishing.",
                measures_taken="Bucket closed; keys rotated.",
                contact_point="privacy@logicnet.example",
                risk_level=RiskLevel.HIGH,
            ),
            actor=admin,
        )
        incident.organization_ids = [org.pk]
        incident.save(update_fields=["organization_ids"])
    return incident


def _notice(org) -> BreachNotice:
    with tenant_context(org):
        return BreachNotice.objects.get(organization=org)


def _jobs(org, kind: str) -> list[Job]:
    with tenant_context(org):
        return list(Job.objects.filter(kind=kind).order_by("created_at", "pk"))


def test_scope_and_notifications_over_real_smtp(
    platform_db,
    staff,
    org_a,
    org_b,
    alice,
    bob,
    people,
    bouncing_mailbox,
    eager_tasks,
    client,
    monkeypatch,
    django_assert_max_num_queries,
):
    monkeypatch.setattr(jobs, "MAIL_BATCH", 1)  # one person a batch: the batches are exercised
    officer = make_user("officer@example.com", "Privacy Officer")
    make_member(org_a, officer, "member")
    set_privacy_officer(
        organization=org_a, actor=alice, membership=Membership.objects.get(user=officer, organization=org_a), value=True
    )
    incident = _open_incident(staff, org_a)
    assert incident.reference.startswith(f"BR-{timezone.now().year}-")

    # Scope: one job in organization A only, counts without reading a value.
    with platform_bypass(actor=staff, reason="test: compute scope"):
        assert services.compute_scope(incident=incident, actor=staff) == 1
    (job,) = _jobs(org_a, "breaches.scope")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert _jobs(org_b, "breaches.scope") == []
    notice = _notice(org_a)
    assert (notice.contacts_in_scope, notice.users_in_scope) == (3, 3)  # ana, gone, nomail; alice, bob, officer
    assert notice.records_in_scope >= 3
    assert notice.published_at is None
    with tenant_context(org_b):
        assert not BreachNotice.objects.exists()

    # Not published yet: the organization sees nothing.
    client.force_login(alice)
    page = client.get(reverse("breach_notices", args=[org_a.slug]))
    assert page.status_code == 200 and incident.reference not in page.content.decode()

    # Art. 33(2): the owner and the privacy officer are told; a plain member is not.
    with platform_bypass(actor=staff, reason="test: notify organizations"):
        services.notify_organizations(incident=incident, actor=staff)
    message = bouncing_mailbox.wait_for("alice@example.com", subject=incident.reference)
    assert "72 hours" in message.get_body(preferencelist=("plain",)).get_content()
    bouncing_mailbox.wait_for("officer@example.com", subject=incident.reference)
    assert not [r for r, _m in bouncing_mailbox.messages if "bob@example.com" in r]
    notice = _notice(org_a)
    assert notice.organization_notified_at is not None and notice.published_at is not None
    assert notice.consequences == "Addresses may be used for phishing."

    # A phased update reaches the published notice at once.
    with platform_bypass(actor=staff, reason="test: update"):
        services.add_update(incident=incident, actor=staff, text="Logs show two downloads.")
    assert [u["text"] for u in _notice(org_a).updates] == ["Logs show two downloads."]

    # Art. 34: the people in scope with an address, one refused by their server.
    with platform_bypass(actor=staff, reason="test: notify subjects"):
        services.notify_subjects(incident=incident, actor=staff)
    (job,) = _jobs(org_a, "breaches.notify_subjects")
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.result == {
        "contacts": {"pending": 0, "sent": 1, "failed": 0, "bounced": 1},
        # Account data (the address) is in the categories: Logicnet tells its users itself.
        "users": {"pending": 0, "sent": 3, "failed": 0, "bounced": 0},
        # The controller's team (owner and privacy officer) gets a copy of what was sent.
        "organization": {"pending": 0, "sent": 2, "failed": 0, "bounced": 0},
    }
    bouncing_mailbox.wait_for("ana@example.net", subject=org_a.name)
    bouncing_mailbox.wait_for("bob@example.com", subject="your account")
    assert not [r for r, _m in bouncing_mailbox.messages if "old@example.net" in r or "ana@example.org" in r]
    with tenant_context(org_a):
        statuses = dict(
            BreachRecipient.objects.filter(kind="contact").values_list("subject_id", "status").order_by("subject_id")
        )
        stored = list(BreachRecipient.objects.values_list("subject_id", "status", "error_code", "kind"))
    assert statuses == {people["ana"].pk: "sent", people["gone"].pk: "bounced"}
    assert {(kind, status) for _id, status, _code, kind in stored} == {
        ("contact", "sent"),
        ("contact", "bounced"),
        ("member", "sent"),
        ("member_34", "sent"),
        ("user", "sent"),
    }
    assert not any("@" in str(value) for row in stored for value in row)  # no address kept

    # Run again (a double click): nobody is mailed twice.
    before = len(bouncing_mailbox.messages)
    with platform_bypass(actor=staff, reason="test: notify subjects again"):
        services.notify_subjects(incident=incident, actor=staff)
    assert len(bouncing_mailbox.messages) == before

    # The organization's page: its clock, what Logicnet did, the delivery.
    with django_assert_max_num_queries(18):  # one query for the notices, one for the delivery
        page = client.get(reverse("breach_notices", args=[org_a.slug])).content.decode()
    assert incident.reference in page and "Logs show two downloads." in page
    assert "1 sent, 0 failed, 1 bounced, 0 pending" in page
    assert "Bucket closed; keys rotated." in page


def _mails_to(box, address: str) -> list:
    return [message for recipients, message in box.messages if address in recipients]


def test_the_privacy_contact_is_told_too_and_nobody_gets_the_same_mail_twice(
    platform_db, staff, org_a, org_b, alice, charlie, eager_tasks, mailbox
):
    """Art. 33(2) and 34 reach the privacy contact address of each organization's privacy
    settings beside its admins; an address that is both gets one mail; an account holder in
    two affected organizations gets one mail per organization's notice, and the mail about
    their one account once."""
    from privacy.services.settings import update_privacy_settings

    update_privacy_settings(organization=org_a, actor=alice, data={"contact_email": "dpo@alpha.example"})
    update_privacy_settings(organization=org_b, actor=charlie, data={"contact_email": "Charlie@Example.com"})
    make_member(org_b, alice, "admin")  # alice is an owner in A and an admin in B
    incident = _open_incident(staff, org_a)
    with platform_bypass(actor=staff, reason="test: scope on two organizations"):
        incident.organization_ids = [org_a.pk, org_b.pk]
        incident.save(update_fields=["organization_ids"])
        services.notify_organizations(incident=incident, actor=staff)
    mailbox.wait_for("dpo@alpha.example", subject=incident.reference)
    assert len(_mails_to(mailbox, "dpo@alpha.example")) == 1
    # B's privacy contact is charlie's own address: one mail, not two of the same content.
    assert len(_mails_to(mailbox, "charlie@example.com")) + len(_mails_to(mailbox, "Charlie@Example.com")) == 1
    # alice is on both teams: one mail per organization's notice, each naming its organization.
    alices = _mails_to(mailbox, "alice@example.com")
    assert sorted(m["Subject"].split(" touching ")[1] for m in alices) == sorted([org_a.name, org_b.name])

    before = len(mailbox.messages)
    with platform_bypass(actor=staff, reason="test: notify subjects"):
        services.notify_subjects(incident=incident, actor=staff)
    new = mailbox.messages[before:]
    account_mails = [r for r, m in new if "your account" in m["Subject"]]
    addresses = [r[0] for r in account_mails]
    assert "alice@example.com" in addresses and len(addresses) == len(set(addresses))  # once each
    copies = [(r[0], m["Subject"]) for r, m in new if "are being told" in m["Subject"]]
    told = [address for address, _s in copies]
    assert told.count("alice@example.com") == 2 and told.count("charlie@example.com") == 1
    assert told.count("dpo@alpha.example") == 1
    assert len(set(copies)) == len(copies)  # the same content never twice to one address
    with tenant_context(org_a):
        kinds = set(BreachRecipient.objects.values_list("kind", "status"))
    assert ("privacy", "sent") in kinds and ("privacy_34", "sent") in kinds


def test_only_the_desk_sees_breaches_and_each_organization_only_its_own(
    platform_db, staff, org_a, org_b, alice, bob, charlie, eager_tasks, mailbox, client
):
    incident = _open_incident(staff, org_a)
    with platform_bypass(actor=staff, reason="test: notify organizations"):
        services.notify_organizations(incident=incident, actor=staff)
    url = reverse("breach_notices", args=[org_a.slug])
    client.force_login(bob)  # a plain member
    assert client.get(url).status_code == 403
    client.force_login(charlie)
    assert client.get(url).status_code == 404
    own = client.get(reverse("breach_notices", args=[org_b.slug]))
    assert own.status_code == 200 and incident.reference not in own.content.decode()
    client.force_login(alice)
    desk = client.get(reverse("privacy_desk", args=[org_a.slug])).content.decode()
    assert url in desk


def _bypass_events() -> int:
    with scopes_disabled():
        return AuditEvent.objects.using("platform").filter(action="platform.bypass").count()


def test_the_admin_register_pages_and_actions(platform_db, staff, org_a, alice, eager_tasks, mailbox, client):
    _verified_admin(client, staff)
    incident = _open_incident(staff, org_a)
    with scopes_disabled():
        BreachIncident.objects.using("platform").filter(pk=incident.pk).update(
            aware_at=timezone.now() - timedelta(hours=80)
        )
    register = client.get(reverse("admin:breaches_breachincident_changelist")).content.decode()
    assert incident.reference in register and 'class="overdue"' in register

    page_url = reverse("admin:breaches_incident_page", args=[incident.pk])
    assert client.get(page_url).status_code == 200
    before = _bypass_events()
    response = client.post(reverse("admin:breaches_incident_scope", args=[incident.pk]))
    assert response.status_code == 302
    response = client.post(reverse("admin:breaches_incident_notify_organizations", args=[incident.pk]))
    assert response.status_code == 302
    mailbox.wait_for("alice@example.com", subject=incident.reference)
    assert _bypass_events() == before + 2  # one per change
    page = client.get(page_url).content.decode()
    assert org_a.name in page

    draft = client.get(reverse("admin:breaches_incident_draft", args=[incident.pk]))
    assert draft.status_code == 200
    text = draft.content.decode()
    assert "REQUIRED: give the reasons" in text  # 80 hours: late, no reasons yet
    assert "Addresses may be used for phishing." in text


def _split(value) -> tuple[str, str]:
    local = timezone.localtime(value)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def test_the_admin_form_refuses_a_late_notification_without_reasons(staff, org_a, client):
    _verified_admin(client, staff)
    url = reverse("admin:breaches_breachincident_add")
    assert client.get(url).status_code == 200
    aware, notified = _split(timezone.now() - timedelta(hours=100)), _split(timezone.now() - timedelta(hours=1))
    data = {
        "reference": "BR-TEST-0001",
        "title": "Lost laptop",
        "aware_at_0": aware[0],
        "aware_at_1": aware[1],
        "authority_notified_at_0": notified[0],
        "authority_notified_at_1": notified[1],
        "authority_reference": "ANSPDCP-123",
        "risk_level": RiskLevel.RISK,
        "data_categories": [Category.CONTACT, Category.IDENTITY],
        "organizations": [org_a.pk],
    }
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "late_reasons" in refused.context["adminform"].form.errors
    response = client.post(url, {**data, "late_reasons": "The laptop's loss was reported four days late."})
    assert response.status_code == 302
    with scopes_disabled():
        incident = BreachIncident.objects.using("platform").get(reference="BR-TEST-0001")
        assert incident.created_by_id == staff.pk
        assert incident.data_categories == [Category.CONTACT, Category.IDENTITY]
        assert incident.organization_ids == [org_a.pk]


# --- on a real worker ---------------------------------------------------------------------------------


def _close_worker_connections(**kwargs) -> None:
    connections.close_all()


@pytest.fixture
def breach_worker(platform_db) -> Iterator[None]:
    """A real Celery worker in a thread (as tests/test_jobs.py starts one): the jobs run as
    the application role, each inside its organization's tenant context."""
    from celery.contrib.testing.worker import start_worker

    from logicnet.celery import app

    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        task_postrun.disconnect(_close_worker_connections)


def _finished(org, kind: str) -> Job:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _jobs(org, kind)
        if found and found[-1].is_finished:
            return found[-1]
        time.sleep(0.2)
    pytest.fail(f"no finished {kind} job in {org} after 60s")


def test_each_organization_counts_its_own_scope_on_the_worker(
    breach_worker, staff, org_a, org_b, alice, charlie, people
):
    create_contact(organization=org_b, actor=charlie, data={"first_name": "Bea", "email": "bea@example.org"})
    incident = _open_incident(staff, org_a)
    with platform_bypass(actor=staff, reason="test: scope of two organizations"):
        incident.organization_ids = [org_a.pk, org_b.pk]
        incident.save(update_fields=["organization_ids"])
        assert services.compute_scope(incident=incident, actor=staff) == 2
    assert _finished(org_a, "breaches.scope").state == Job.State.SUCCEEDED
    assert _finished(org_b, "breaches.scope").state == Job.State.SUCCEEDED
    a, b = _notice(org_a), _notice(org_b)
    assert (a.contacts_in_scope, a.users_in_scope) == (3, 2)
    assert (b.contacts_in_scope, b.users_in_scope) == (2, 1)


# --- the registry: who was told goes with the person ----------------------------------------------


def test_erasing_a_contact_deletes_the_record_that_they_were_told(org_a, alice):
    from logicnet.personal_data.erasure import execute, plan

    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "ana@example.net"})
    other = create_contact(organization=org_a, actor=alice, data={"first_name": "Bea", "email": "bea@example.net"})
    with tenant_context(org_a):
        # As the platform publishes it (its incident is in the platform's table: only its id here).
        notice = BreachNotice.objects.create(
            organization=org_a, incident_id=10**6, reference="BR-T-1", title="Incident", aware_at=timezone.now()
        )
        for person in (contact, other):
            BreachRecipient.objects.create(
                organization=org_a, notice=notice, kind="contact", subject_id=person.pk, status="sent"
            )
        # A team member with the same id as the contact is someone else.
        BreachRecipient.objects.create(organization=org_a, notice=notice, kind="member", subject_id=contact.pk)
    steps = {(step.model, step.path): step for step in plan("contact", contact, audit=False).steps}
    assert steps[("breaches.BreachRecipient", "subject_id")].rows == 1
    execute(contact, audit=False)
    with tenant_context(org_a):
        left = set(BreachRecipient.objects.values_list("kind", "subject_id"))
    assert left == {("contact", other.pk), ("member", contact.pk)}


def test_the_customer_web_process_serves_no_register(staff, org_a, client, settings):
    """The register's pages are the admin process's: in the web process (no platform alias)
    they are 404 like every admin URL, even for a verified administrator."""
    _verified_admin(client, staff)
    incident = _open_incident(staff, org_a)
    urls = [
        reverse("admin:breaches_breachincident_changelist"),
        reverse("admin:breaches_incident_page", args=[incident.pk]),
        reverse("admin:breaches_incident_draft", args=[incident.pk]),
    ]
    assert all(client.get(url).status_code == 200 for url in urls)
    settings.PLATFORM_DATABASE = None
    assert [client.get(url).status_code for url in urls] == [404, 404, 404]
    assert client.post(reverse("admin:breaches_incident_scope", args=[incident.pk])).status_code == 404
