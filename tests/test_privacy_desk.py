"""The privacy desk (/o/<org_slug>/privacy/): the queue, each request's actions end to end,
the privacy settings and the appointment of privacy officers.

Mail goes over real SMTP (the aiosmtpd mailbox in conftest). Celery runs its tasks in the
test's own process and transaction (task_always_eager), so the task code that a worker runs
is what sends the mail; one test runs a real worker for the refusal, end to end."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from accounts.services import change_member_role, set_privacy_officer
from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role
from privacy import deadlines
from privacy.models import PrivacyRequest, PrivacySettings, RequestEvent
from privacy.services.requests import assign, submit_request
from tests.factories import make_member, make_user

Status = PrivacyRequest.Status
Event = RequestEvent.Kind
STAFF = PrivacyRequest.Channel.STAFF
MAIL_URLS = pytest.mark.urls("tests.privacy_mail_urls")


# --- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture
def officer(org_a, alice):
    """A plain member appointed privacy officer."""
    user = make_user("dana@example.com", "Dana Delta")
    membership = make_member(org_a, user, Role.MEMBER)
    set_privacy_officer(organization=org_a, actor=alice, membership=membership, value=True)
    return user


@pytest.fixture
def reader(org_a):
    user = make_user("reader@example.com", "Read Only")
    make_member(org_a, user, Role.READ_ONLY)
    return user


def make_request(organization, *, email="ana.pop@example.com", phone="", rights=("access",), days_ago=0, **kwargs):
    received = timezone.now() - datetime.timedelta(days=days_ago)
    return submit_request(
        organization=organization,
        rights=list(rights),
        email=email,
        phone=phone,
        channel=STAFF,
        received_at=received,
        **kwargs,
    )


def _decrypted(organization, rows):
    """Rows with their encrypted values read (decrypted) inside the organization's context."""
    with tenant_context(organization):
        rows = list(rows)
        for row in rows:
            for field in row._meta.concrete_fields:
                if getattr(field, "encrypted", False):
                    getattr(row, field.attname)
    return rows


def fresh(organization, privacy_request) -> PrivacyRequest:
    with tenant_context(organization):
        return _decrypted(organization, PrivacyRequest.objects.filter(pk=privacy_request.pk))[0]


def events(organization, privacy_request) -> list[RequestEvent]:
    with tenant_context(organization):
        return _decrypted(
            organization, RequestEvent.objects.filter(request=privacy_request).order_by("created_at", "pk")
        )


def kinds(organization, privacy_request) -> list[str]:
    return [e.kind for e in events(organization, privacy_request)]


def queue_url(organization, **params) -> str:
    url = reverse("privacy_desk", kwargs={"org_slug": organization.slug})
    if params:
        from urllib.parse import urlencode

        url += "?" + urlencode(params)
    return url


def request_url(organization, privacy_request, name="privacy_desk_request") -> str:
    return reverse(name, kwargs={"org_slug": organization.slug, "request_id": privacy_request.pk})


def token() -> str:
    import uuid

    return uuid.uuid4().hex


def mails_to(mailbox, address: str) -> list:
    return [message for recipients, message in mailbox.messages if address in recipients]


# --- the queue ---------------------------------------------------------------------------------------


def test_queue_shows_each_request_with_its_clock_and_overdue_in_red(client, org_a, alice):
    overdue = make_request(org_a, email="old@example.com", days_ago=40)
    recent = make_request(org_a, email="new@example.com", rights=("erasure", "access"))
    client.force_login(alice)
    response = client.get(queue_url(org_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert overdue.reference in html and recent.reference in html
    assert "2 open" in html and "1 overdue" in html
    rows = {r["item"].pk: r for r in response.context["rows"]}
    assert rows[overdue.pk]["clock"].overdue and not rows[recent.pk]["clock"].overdue
    assert rows[recent.pk]["clock"].days_left >= 27
    assert html.count('<tr class="is-overdue">') == 1
    # The most urgent first; no personal value on the queue.
    assert [r["item"].pk for r in response.context["rows"]] == [overdue.pk, recent.pk]
    assert "old@example.com" not in html and "new@example.com" not in html
    assert "Access" in html and "Erasure" in html


def test_queue_filters_by_status_right_assignee_and_overdue(client, org_a, alice, officer):
    access = make_request(org_a, email="a@example.com", rights=("access",), days_ago=40)
    erasure = make_request(org_a, email="b@example.com", rights=("erasure",))
    closed = make_request(org_a, email="c@example.com", rights=("access",))
    assign(erasure, assignee=officer, actor=alice)
    client.force_login(officer)
    client.post(request_url(org_a, closed, "privacy_desk_deny"), {"reason": "Not ours", "submit_token": token()})

    def listed(**params) -> set[int]:
        response = client.get(queue_url(org_a, **params))
        assert response.status_code == 200
        return {r["item"].pk for r in response.context["rows"]}

    assert listed() == {access.pk, erasure.pk}
    assert listed(state="closed") == {closed.pk}
    assert listed(state="all") == {access.pk, erasure.pk, closed.pk}
    assert listed(state="all", right="access") == {access.pk, closed.pk}
    assert listed(mine="on") == {erasure.pk}
    assert listed(overdue="on") == {access.pk}
    assert listed(state="nonsense", right="nonsense") == {access.pk, erasure.pk}  # ignored


def test_queue_paginates_with_a_bounded_number_of_queries(client, org_a, alice, django_assert_max_num_queries):
    for number in range(30):
        make_request(org_a, email=f"person{number}@example.com")
    client.force_login(alice)
    client.get(queue_url(org_a))  # the session's first page records the session
    # Two of them: the request acts for its user (app.user_id), and the organization's block
    # hands the setting back to the request's on its way out.
    with django_assert_max_num_queries(22):
        first = client.get(queue_url(org_a, right="access"))
    assert len(first.context["rows"]) == 25
    assert first.context["next_url"] and not first.context["previous_url"]
    assert "right=access" in first.context["next_url"]
    second = client.get(queue_url(org_a) + first.context["next_url"])
    assert len(second.context["rows"]) == 5
    assert second.context["previous_url"] and not second.context["next_url"]
    seen = {r["item"].pk for r in first.context["rows"]} | {r["item"].pk for r in second.context["rows"]}
    assert len(seen) == 30


def test_empty_queue_says_so(client, org_a, alice):
    client.force_login(alice)
    response = client.get(queue_url(org_a))
    assert response.status_code == 200
    assert "No open privacy requests" in response.content.decode()
    filtered = client.get(queue_url(org_a, state="closed")).content.decode()
    assert "No requests match these filters" in filtered


# --- who may use the desk ----------------------------------------------------------------------------


def test_a_privacy_officer_works_the_desk_a_plain_member_and_a_reader_may_not(
    client, org_a, alice, bob, officer, reader
):
    privacy_request = make_request(org_a)
    client.force_login(officer)
    assert client.get(queue_url(org_a)).status_code == 200
    assert client.get(request_url(org_a, privacy_request)).status_code == 200
    response = client.post(
        request_url(org_a, privacy_request, "privacy_desk_note"),
        {"note": "Checked the letter", "submit_token": token()},
    )
    assert response.status_code == 302
    assert Event.NOTE in kinds(org_a, privacy_request)
    # The settings stay the admins'.
    assert client.get(reverse("privacy_desk_settings", kwargs={"org_slug": org_a.slug})).status_code == 403
    for user in (bob, reader):
        client.force_login(user)
        assert client.get(queue_url(org_a)).status_code == 403
        assert client.get(request_url(org_a, privacy_request)).status_code == 403
        note = client.post(request_url(org_a, privacy_request, "privacy_desk_note"), {"note": "x"})
        assert note.status_code == 403
    assert kinds(org_a, privacy_request).count(Event.NOTE) == 1


def test_the_privacy_link_shows_only_to_those_who_work_the_desk(client, org_a, alice, bob, officer):
    link = f'href="{queue_url(org_a)}"'
    dashboard = reverse("dashboard", kwargs={"org_slug": org_a.slug})
    for user, shown in ((alice, True), (officer, True), (bob, False)):
        client.force_login(user)
        assert (link in client.get(dashboard).content.decode()) is shown, user


def test_another_organizations_request_is_not_found(client, org_a, org_b, alice, charlie):
    theirs = make_request(org_b, email="b-person@example.com")
    client.force_login(alice)
    for name in ("privacy_desk_request", "privacy_desk_note", "privacy_desk_deny"):
        url = reverse(name, kwargs={"org_slug": org_a.slug, "request_id": theirs.pk})
        response = client.get(url) if name == "privacy_desk_request" else client.post(url, {"note": "x", "reason": "x"})
        assert response.status_code == 404, name
    # Nor through organization A's URL by B's owner.
    client.force_login(charlie)
    assert client.get(queue_url(org_a)).status_code == 404
    assert fresh(org_b, theirs).status == Status.RECEIVED
    assert kinds(org_b, theirs) == [Event.RECEIVED]


# --- recording a request received by mail or phone -------------------------------------------------


@MAIL_URLS
def test_staff_record_a_request_once_with_its_receipt(
    client, org_a, alice, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    time_zone = "Europe/Bucharest"
    five_days_ago = deadlines.today(time_zone) - datetime.timedelta(days=5)
    form = {
        "rights": ["access", "rectification"],
        "email": "Ion.Popescu@Example.com",
        "phone": "0721 234 567",
        "message": "Letter of 3 March",
        "correction": "My address is Str. Lunga 1",
        "language": "ro",
        "received_on": five_days_ago.isoformat(),
        "submit_token": token(),
    }
    client.force_login(alice)
    url = reverse("privacy_desk_record", kwargs={"org_slug": org_a.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert response.status_code == 302
    with tenant_context(org_a):
        created = fresh(org_a, PrivacyRequest.objects.get())
    assert response["Location"] == request_url(org_a, created)
    assert "example" not in response["Location"].lower()
    assert created.channel == STAFF and created.status == Status.RECEIVED
    assert created.phone == "+40721234567"
    assert created.due_on == five_days_ago + datetime.timedelta(days=0) + _one_month(five_days_ago)
    # The same form sent again lands on the same request.
    again = client.post(url, form)
    assert again["Location"] == request_url(org_a, created)
    with tenant_context(org_a):
        assert PrivacyRequest.objects.count() == 1
    receipts = mails_to(mailbox, "ion.popescu@example.com")
    assert len(receipts) == 1 and created.reference in receipts[0]["Subject"]


def _one_month(day: datetime.date) -> datetime.timedelta:
    from dateutil.relativedelta import relativedelta

    return (day + relativedelta(months=1)) - day


def test_recording_refuses_a_future_day_and_a_rectification_without_the_correction(client, org_a, alice):
    client.force_login(alice)
    url = reverse("privacy_desk_record", kwargs={"org_slug": org_a.slug})
    tomorrow = timezone.localdate() + datetime.timedelta(days=2)
    response = client.post(
        url, {"rights": ["rectification"], "email": "x@example.com", "language": "en", "received_on": tomorrow}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "received_on" in errors and "correction" in errors
    with tenant_context(org_a):
        assert not PrivacyRequest.objects.exists()


# --- identity: candidates through the blind indexes -----------------------------------------------


def test_candidates_by_email_and_by_a_further_phone_and_the_confirmation(client, org_a, alice):
    by_email = create_contact(
        organization=org_a, actor=alice, data={"first_name": "Ana", "last_name": "Pop", "email": "ana.pop@example.com"}
    )
    by_phone = create_contact(
        organization=org_a,
        actor=alice,
        data={
            "first_name": "Ana",
            "last_name": "Popa",
            "phone": "0744 000 999",
            "extra_phones": [{"phone": "0721 234 567", "label": "home"}],
        },
    )
    create_contact(organization=org_a, actor=alice, data={"first_name": "Other", "email": "other@example.com"})
    privacy_request = make_request(org_a, email="ANA.POP@example.com", phone="+40 721 234 567")
    client.force_login(alice)
    page = client.get(request_url(org_a, privacy_request))
    assert {c.pk for c in page.context["candidates"]} == {by_email.pk, by_phone.pk}
    html = page.content.decode()
    assert "Ana Popa" in html and "ana.pop@example.com" in html and "Other" not in html

    response = client.post(
        request_url(org_a, privacy_request, "privacy_desk_identity"), {"contact": by_phone.pk, "submit_token": token()}
    )
    assert response.status_code == 302
    confirmed = fresh(org_a, privacy_request)
    assert confirmed.contact_id == by_phone.pk and confirmed.status == Status.VERIFIED
    assert confirmed.identity_confirmed_by_id == alice.pk
    matched = [e for e in events(org_a, privacy_request) if e.kind == Event.CONTACT_MATCHED]
    assert len(matched) == 1 and matched[0].actor_id == alice.pk


def test_a_contact_that_does_not_match_cannot_be_confirmed(client, org_a, org_b, alice, charlie):
    stranger = create_contact(organization=org_a, actor=alice, data={"first_name": "Stranger"})
    theirs = create_contact(
        organization=org_b, actor=charlie, data={"first_name": "Ana", "email": "ana.pop@example.com"}
    )
    privacy_request = make_request(org_a)
    client.force_login(alice)
    for contact in (stranger, theirs):
        response = client.post(
            request_url(org_a, privacy_request, "privacy_desk_identity"),
            {"contact": contact.pk, "submit_token": token()},
        )
        assert response.status_code == 400
        assert "does not match" in response.content.decode()
    assert fresh(org_a, privacy_request).contact_id is None


# --- the actions -----------------------------------------------------------------------------------


@MAIL_URLS
def test_extend_within_the_first_month_tells_the_person(
    client, org_a, alice, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    privacy_request = make_request(org_a, days_ago=10)
    client.force_login(alice)
    url = request_url(org_a, privacy_request, "privacy_desk_extend")
    missing = client.post(url, {"reason": "  ", "submit_token": token()})
    assert missing.status_code == 400 and fresh(org_a, privacy_request).extended_due_on is None

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Forty years of records to search", "submit_token": token()})
    assert response.status_code == 302
    extended = fresh(org_a, privacy_request)
    received_day = deadlines.local_day(extended.received_at, "Europe/Bucharest")
    from dateutil.relativedelta import relativedelta

    assert extended.extended_due_on == received_day + relativedelta(months=3)
    assert extended.extension_reason == "Forty years of records to search"
    [mail] = mails_to(mailbox, "ana.pop@example.com")
    assert "deadline is extended" in mail["Subject"]
    assert "Forty years of records to search" in mail.get_content()
    assert kinds(org_a, privacy_request)[-2:] == [Event.EXTENDED, Event.PERSON_NOTIFIED]

    # Once only.
    again = client.post(url, {"reason": "Again", "submit_token": token()})
    assert again.status_code == 400 and "extended already" in again.content.decode()


def test_extension_is_refused_after_the_first_month(client, org_a, alice):
    privacy_request = make_request(org_a, days_ago=40)
    client.force_login(alice)
    page = client.get(request_url(org_a, privacy_request)).content.decode()
    assert "can no longer be extended" in page
    assert request_url(org_a, privacy_request, "privacy_desk_extend") not in page
    response = client.post(
        request_url(org_a, privacy_request, "privacy_desk_extend"), {"reason": "Busy", "submit_token": token()}
    )
    assert response.status_code == 400
    assert "The first month has passed" in response.content.decode()
    assert fresh(org_a, privacy_request).extended_due_on is None


@MAIL_URLS
def test_deny_needs_a_reason_and_a_justification_when_unfounded(
    client, org_a, alice, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    privacy_request = make_request(org_a)
    client.force_login(alice)
    url = request_url(org_a, privacy_request, "privacy_desk_deny")
    assert client.post(url, {"reason": "", "submit_token": token()}).status_code == 400
    unjustified = client.post(url, {"reason": "Fifth this month", "unfounded": "on", "submit_token": token()})
    assert unjustified.status_code == 400
    assert "manifestly unfounded or excessive" in unjustified.content.decode()
    assert fresh(org_a, privacy_request).status == Status.RECEIVED
    assert mails_to(mailbox, "ana.pop@example.com") == []

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "reason": "Fifth identical request this month",
                "unfounded": "on",
                "unfounded_justification": "Five requests in 30 days, each answered",
                "submit_token": token(),
            },
        )
    assert response.status_code == 302
    denied = fresh(org_a, privacy_request)
    assert denied.status == Status.DENIED and denied.closed_at is not None
    assert denied.denial_reason == "Fifth identical request this month"
    assert denied.unfounded_justification == "Five requests in 30 days, each answered"
    [mail] = mails_to(mailbox, "ana.pop@example.com")
    body = mail.get_content()
    assert "was refused" in mail["Subject"]
    assert "Fifth identical request this month" in body
    assert "complaint with the supervisory authority" in body and "courts" in body
    # A closed request takes no further action.
    again = client.post(url, {"reason": "Again", "submit_token": token()})
    assert again.status_code == 400 and "This request is closed" in again.content.decode()
    assert len(mails_to(mailbox, "ana.pop@example.com")) == 1


@MAIL_URLS
def test_asking_for_information_is_logged_and_mailed_once_even_when_sent_twice(
    client, org_a, alice, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    privacy_request = make_request(org_a)
    client.force_login(alice)
    form = {"message": "Which shop did you buy from?", "submit_token": token()}
    url = request_url(org_a, privacy_request, "privacy_desk_ask")
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, form)
        second = client.post(url, form)
    assert first.status_code == second.status_code == 302
    asked = [e for e in events(org_a, privacy_request) if e.kind == Event.INFO_REQUESTED]
    assert len(asked) == 1 and asked[0].note == "Which shop did you buy from?"
    [mail] = mails_to(mailbox, "ana.pop@example.com")
    assert "Which shop did you buy from?" in mail.get_content()


def test_assignment_to_desk_members_only_and_notes(client, org_a, alice, bob, officer):
    privacy_request = make_request(org_a)
    client.force_login(alice)
    url = request_url(org_a, privacy_request, "privacy_desk_assign")
    refused = client.post(url, {"assignee": bob.pk, "submit_token": token()})
    assert refused.status_code == 400  # bob does not work the desk: not among the choices
    assert client.post(url, {"assignee": officer.pk, "submit_token": token()}).status_code == 302
    assert client.post(url, {"assignee": officer.pk, "submit_token": token()}).status_code == 302
    assert fresh(org_a, privacy_request).assigned_to_id == officer.pk
    assert kinds(org_a, privacy_request).count(Event.ASSIGNED) == 1  # the same again logs nothing
    client.post(request_url(org_a, privacy_request, "privacy_desk_note"), {"note": "Rang her", "submit_token": token()})
    page = client.get(request_url(org_a, privacy_request)).content.decode()
    assert "to Dana Delta" in page and "Rang her" in page and "Alice Alpha" in page
    entries = client.get(request_url(org_a, privacy_request)).context["entries"]
    assert [e["event"].kind for e in entries][:2] == [Event.NOTE, Event.ASSIGNED]  # newest first


def test_a_repeated_request_is_grouped_with_the_earlier_one(client, org_a, alice):
    earlier = make_request(org_a, days_ago=3)
    repeat = make_request(org_a, rights=("access", "portability"))
    assert repeat.duplicate_of_id == earlier.pk
    client.force_login(alice)
    page = client.get(request_url(org_a, repeat))
    assert page.context["forms"]["group"]["earlier"].value() == earlier.pk
    response = client.post(
        request_url(org_a, repeat, "privacy_desk_group"), {"earlier": earlier.pk, "submit_token": token()}
    )
    assert response.status_code == 302
    grouped = fresh(org_a, repeat)
    assert grouped.status == Status.COMPLETED and grouped.duplicate_of_id == earlier.pk
    assert Event.GROUPED in kinds(org_a, repeat)
    assert (
        f"{repeat.reference} was grouped with this request" in client.get(request_url(org_a, earlier)).content.decode()
    )
    # The earlier one cannot now be grouped into the closed repeat.
    assert (
        client.post(
            request_url(org_a, earlier, "privacy_desk_group"), {"earlier": repeat.pk, "submit_token": token()}
        ).status_code
        == 400
    )
    assert fresh(org_a, earlier).is_open


@MAIL_URLS
def test_status_moves_and_completion_mail(
    client, org_a, alice, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    privacy_request = make_request(org_a)
    client.force_login(alice)
    url = request_url(org_a, privacy_request, "privacy_desk_move")
    assert client.post(url, {"status": "in_progress", "submit_token": token()}).status_code == 302
    assert client.post(url, {"status": "in_progress", "submit_token": token()}).status_code == 400
    assert client.post(url, {"status": "awaiting_approval", "submit_token": token()}).status_code == 302
    assert client.post(url, {"status": "denied", "submit_token": token()}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"status": "completed", "submit_token": token()}).status_code == 302
    done = fresh(org_a, privacy_request)
    assert done.status == Status.COMPLETED and done.closed_at is not None
    assert kinds(org_a, privacy_request)[1:] == [
        Event.STATUS_CHANGED,
        Event.STATUS_CHANGED,
        Event.COMPLETED,
        Event.PERSON_NOTIFIED,
    ]
    [mail] = mails_to(mailbox, "ana.pop@example.com")
    assert "is answered" in mail["Subject"]


def test_an_unconfirmed_public_request_is_not_worked_on(client, org_a, alice):
    unconfirmed = submit_request(organization=org_a, rights=["access"], email="web@example.com")
    assert unconfirmed.status == Status.AWAITING_VERIFICATION
    client.force_login(alice)
    response = client.post(
        request_url(org_a, unconfirmed, "privacy_desk_move"), {"status": "in_progress", "submit_token": token()}
    )
    assert response.status_code == 400 and "not confirmed their email address" in response.content.decode()


# --- the refusal on a real worker ------------------------------------------------------------------


@pytest.fixture
def worker(committed_db) -> Iterator[None]:
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from logicnet.celery import app

    def close_connections(**kwargs) -> None:
        connections.close_all()

    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        task_postrun.disconnect(close_connections)


@MAIL_URLS
def test_a_refusal_reaches_the_person_through_the_worker(client, worker, mailbox, org_a, alice):
    privacy_request = make_request(org_a, email="worker.case@example.com")
    client.force_login(alice)
    response = client.post(
        request_url(org_a, privacy_request, "privacy_desk_deny"),
        {"reason": "We hold no data about you", "submit_token": token()},
    )
    assert response.status_code == 302
    deadline = time.monotonic() + 30

    def refusals() -> list:
        return [m for m in mails_to(mailbox, "worker.case@example.com") if "was refused" in m["Subject"]]

    while time.monotonic() < deadline and not refusals():
        time.sleep(0.1)
    refusals = refusals()
    assert len(refusals) == 1
    assert "We hold no data about you" in refusals[0].get_content()


# --- settings and privacy officers -----------------------------------------------------------------


def test_privacy_settings_are_the_admins_and_the_time_zone_is_checked(client, org_a, alice):
    url = reverse("privacy_desk_settings", kwargs={"org_slug": org_a.slug})
    client.force_login(alice)
    assert client.get(url).status_code == 200
    form = {
        "controller_name": "Alpha SRL",
        "controller_address": "Str. Lunga 1, Cluj",
        "contact_email": "privacy@alpha.example",
        "dpo_contact": "",
        "time_zone": "Mars/Olympus",
    }
    bad = client.post(url, form)
    assert bad.status_code == 200 and "time_zone" in bad.context["form"].errors
    assert client.post(url, {**form, "time_zone": "Europe/London"}).status_code == 302
    with tenant_context(org_a):
        saved = PrivacySettings.objects.get(organization=org_a)
        audit = AuditEvent.objects.filter(action="privacy.settings_changed").get()
    assert saved.time_zone == "Europe/London" and saved.contact_email == "privacy@alpha.example"
    assert "Str. Lunga" not in str(audit.details)
    # Deadlines are counted there from now on.
    assert make_request(org_a).due_on == deadlines.due_on(timezone.now(), "Europe/London")


def test_admins_appoint_privacy_officers_from_the_members_page(client, org_a, alice, bob, reader):
    membership = Membership.objects.get(organization=org_a, user=bob)
    url = reverse("member_privacy_officer", kwargs={"org_slug": org_a.slug, "membership_id": membership.pk})
    client.force_login(bob)
    assert client.post(url, {"privacy_officer": "1"}).status_code == 403
    client.force_login(alice)
    members_page = client.get(reverse("members", kwargs={"org_slug": org_a.slug})).content.decode()
    assert url in members_page
    assert client.post(url, {"privacy_officer": "1"}).status_code == 302
    membership.refresh_from_db()
    assert membership.is_privacy_officer
    with tenant_context(org_a):
        assert AuditEvent.objects.filter(action="member.privacy_officer_appointed", target_id=str(bob.pk)).exists()
    client.force_login(bob)
    assert client.get(queue_url(org_a)).status_code == 200
    client.force_login(alice)
    client.post(url, {"privacy_officer": "0"})
    membership.refresh_from_db()
    assert not membership.is_privacy_officer
    client.force_login(bob)
    assert client.get(queue_url(org_a)).status_code == 403

    # A read-only member cannot be appointed, and a demotion to read-only ends the appointment.
    client.force_login(alice)
    reader_membership = Membership.objects.get(organization=org_a, user=reader)
    client.post(
        reverse("member_privacy_officer", kwargs={"org_slug": org_a.slug, "membership_id": reader_membership.pk}),
        {"privacy_officer": "1"},
    )
    reader_membership.refresh_from_db()
    assert not reader_membership.is_privacy_officer
    set_privacy_officer(organization=org_a, actor=alice, membership=membership, value=True)
    change_member_role(organization=org_a, actor=alice, membership=membership, role=Role.READ_ONLY)
    membership.refresh_from_db()
    assert not membership.is_privacy_officer
