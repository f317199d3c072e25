"""The public privacy page of an organization (/p/<org_slug>/privacy/): the request form,
the confirmation link, the status page, and beat's mail sweep; end to end over the Django
test client, real PostgreSQL and Redis, real SMTP (aiosmtpd) and a real Celery worker."""

from __future__ import annotations

import datetime
import html
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from celery.signals import task_postrun
from django.core import signing
from django.db import connections
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from logicnet.tenancy.context import tenant_context
from privacy.forms_public import CORRECTION_MAX_LENGTH
from privacy.models import PrivacyRequest, PrivacySettings, RequestEvent
from privacy.services.requests import (
    confirmation_token,
    deny,
    extend,
    privacy_settings,
    request_from_status_token,
    send_request_mail,
    status_token,
    submit_request,
    sweep_request_mail,
)
from tests.shared_fixtures import naughty_strings
from tests.smtp import first_link

Status = PrivacyRequest.Status
Event = RequestEvent.Kind
NO_LIMITS = {"client": "1000/h", "email": "1000/h"}


# --- fixtures and helpers ----------------------------------------------------------------------------


def _close_worker_connections(**kwargs) -> None:
    # The worker thread's connection would otherwise outlive the test and hold the test
    # database open (as in tests/test_jobs.py).
    connections.close_all()


@pytest.fixture
def start_worker(committed_db) -> Iterator[Callable[[], None]]:
    """Starts a real Celery worker (a thread, solo pool, on the test Redis) when called, so
    a test can first show that nothing waits on it; stopped before the database is flushed."""
    from celery.contrib.testing.worker import start_worker as celery_worker

    from logicnet.celery import app

    with ExitStack() as stack:

        def start() -> None:
            task_postrun.connect(_close_worker_connections, weak=False)
            stack.callback(task_postrun.disconnect, _close_worker_connections)
            stack.enter_context(celery_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30))

        yield start


def page_url(organization) -> str:
    return reverse("public_privacy", kwargs={"org_slug": organization.slug})


def status_url(organization, privacy_request) -> str:
    return reverse(
        "privacy_request_status", kwargs={"org_slug": organization.slug, "token": status_token(privacy_request)}
    )


def status_link_names(organization, location: str) -> int | None:
    """The request a status link names. Links are signed with their time, so two links to the
    same request made in different seconds differ: compare what they name, not their text."""
    prefix = f"/p/{organization.slug}/privacy/requests/"
    if not location.startswith(prefix):
        return None
    found = request_from_status_token(organization, location[len(prefix) :].rstrip("/"))
    return found.pk if found else None


def confirm_url(organization, token: str) -> str:
    return reverse("privacy_confirm", kwargs={"org_slug": organization.slug, "token": token})


def form_data(**overrides) -> dict:
    data = {
        "rights": ["access"],
        "email": "ana.pop@example.com",
        "phone": "",
        "message": "",
        "correction": "",
        "objection_scope": "",
        "website": "",
        "submission": uuid.uuid4().hex,  # a fresh page load each time, unless a test says otherwise
    }
    data.update(overrides)
    return data


def requests_of(organization) -> list[PrivacyRequest]:
    with tenant_context(organization):
        return list(PrivacyRequest.objects.filter(organization=organization).order_by("received_at"))


def events_of(organization, privacy_request) -> list[str]:
    with tenant_context(organization):
        return list(privacy_request.events.order_by("created_at", "pk").values_list("kind", flat=True))


def set_privacy_settings(organization, **values) -> None:
    privacy_settings(organization)  # created on first use
    with tenant_context(organization):
        assert PrivacySettings.objects.filter(organization=organization).update(**values) == 1


def submitted(organization, **kwargs) -> PrivacyRequest:
    values = {"rights": ["access"], "email": "ana.pop@example.com", **kwargs}
    return submit_request(organization=organization, **values)


def text_of(response) -> str:
    return response.content.decode()


# --- the page ---------------------------------------------------------------------------------------


def test_the_page_names_the_controller_explains_the_rights_and_offers_the_form(client, org_a):
    page = text_of(client.get(page_url(org_a)))
    assert "Privacy at Alpha SRL" in page
    # Without privacy settings the organization itself is named as the controller.
    assert re.search(r"<dt>Controller</dt>\s*<dd>Alpha SRL</dd>", page)
    for right in ("Access", "Rectification", "Erasure", "Restriction", "Portability", "Objection"):
        assert f"<dt>{right}</dt>" in page
        assert f'value="{right.lower()}"' in page  # a checkbox for each
    for field in ("email", "phone", "message", "correction", "objection_scope", "submission"):
        assert f'name="{field}"' in page
    # The honeypot is hidden by a class (the CSP forbids inline styles), out of the tab order.
    assert re.search(r'<div class="privacy-hp" aria-hidden="true">.*?name="website"[^>]*tabindex="-1"', page, re.S)
    assert "style=" not in page
    assert "<script>" not in page

    set_privacy_settings(
        org_a, controller_name="Alpha Servicii SRL", contact_email="dpo@alpha.example", dpo_contact="Maria Ionescu"
    )
    page = text_of(client.get(page_url(org_a)))
    assert re.search(r"<dt>Controller</dt>\s*<dd>Alpha Servicii SRL</dd>", page)
    assert 'href="mailto:dpo@alpha.example"' in page
    assert "Maria Ionescu" in page


def test_every_field_is_labelled_for_keyboard_and_screen_reader_users(client, org_a):
    page = text_of(client.get(page_url(org_a)))
    ids = re.findall(r'<input type="(?:checkbox|radio|email|text|tel)"[^>]*\bid="([^"]+)"', page)
    ids += re.findall(r'<textarea[^>]*\bid="([^"]+)"', page)
    assert len(ids) >= 6 + 2 + 4
    for element_id in ids:
        assert f'for="{element_id}"' in page, element_id


def test_the_page_follows_the_chosen_language(client, org_a):
    client.cookies["django_language"] = "ro"
    response = client.get(page_url(org_a))
    assert 'lang="ro"' in text_of(response)
    with override_settings(PRIVACY_REQUEST_RATE_LIMITS=NO_LIMITS):
        client.post(page_url(org_a), form_data())
    assert [r.language for r in requests_of(org_a)] == ["ro"]


# --- submitting -------------------------------------------------------------------------------------


def test_a_request_is_stored_before_any_mail_then_confirmed_from_the_real_mail(client, org_a, mailbox, start_worker):
    response = client.post(page_url(org_a), form_data(rights=["access", "erasure"], phone="0721 234 567"))
    assert response.status_code == 302
    assert response["Location"] == reverse("public_privacy_thanks", kwargs={"org_slug": org_a.slug})

    # Stored in PostgreSQL, received now, while no worker has run: no mail exists yet.
    (stored,) = requests_of(org_a)
    assert stored.status == Status.AWAITING_VERIFICATION
    assert stored.rights == ["access", "erasure"]
    with tenant_context(org_a):
        assert (stored.email, stored.phone) == ("ana.pop@example.com", "+40721234567")
    assert stored.channel == PrivacyRequest.Channel.PUBLIC_FORM
    assert stored.confirmation_sent_at is None
    assert events_of(org_a, stored) == [Event.RECEIVED]

    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert stored.reference in text_of(thanks)
    assert "check your email" in text_of(thanks)
    assert "ana.pop@example.com" not in response["Location"] + text_of(thanks)

    # The mail goes from a worker, after the commit.
    start_worker()
    message = mailbox.wait_for("ana.pop@example.com", subject="Confirm your privacy request to Alpha SRL", timeout=30)
    assert stored.reference in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert stored.reference in body
    link = first_link(message)
    assert "/privacy/confirm/" in link
    path = link.split("://", 1)[1].split("/", 1)[1]

    # Opening the link (or a mail scanner prefetching it) confirms nothing.
    page = client.get(f"/{path}")
    assert page.status_code == 200
    assert re.search(r'<form method="post">.*?<button type="submit">Confirm</button>', text_of(page), re.S)
    assert requests_of(org_a)[0].status == Status.AWAITING_VERIFICATION

    confirmed = client.post(f"/{path}")
    assert confirmed.status_code == 302
    (stored,) = requests_of(org_a)
    assert status_link_names(org_a, confirmed["Location"]) == stored.pk
    assert stored.status == Status.RECEIVED
    assert stored.email_confirmed_at is not None
    # The worker records the sending just after the mail server took it: in either order.
    assert sorted(events_of(org_a, stored)) == sorted([Event.RECEIVED, Event.CONFIRMATION_SENT, Event.EMAIL_CONFIRMED])

    status = client.get(confirmed["Location"])
    assert status.status_code == 200
    page = text_of(status)
    assert '<span class="request-status">Received</span>' in page
    assert stored.reference in page
    assert "Access, Erasure" in page
    assert re.search(r'<dd class="request-deadline">\d{1,2} \w+ \d{4}</dd>', page)
    assert "Send the confirmation link again" not in page

    # A second press of the button changes nothing and leads to the same page.
    again = client.post(f"/{path}")
    assert status_link_names(org_a, again["Location"]) == stored.pk
    assert events_of(org_a, stored).count(Event.EMAIL_CONFIRMED) == 1


def test_the_same_form_sent_twice_stores_one_request(client, org_a):
    data = form_data()
    first = client.post(page_url(org_a), data)
    second = client.post(page_url(org_a), data)
    assert first.status_code == second.status_code == 302
    (stored,) = requests_of(org_a)
    assert stored.reference in text_of(client.get(second["Location"]))
    # A new page load is a new request (grouped by staff as a repeat, not refused).
    assert client.post(page_url(org_a), form_data()).status_code == 302
    assert len(requests_of(org_a)) == 2


def test_a_filled_honeypot_stores_nothing_and_looks_like_success(client, org_a):
    response = client.post(page_url(org_a), form_data(website="http://spam.example"))
    assert response.status_code == 302
    thanks = text_of(client.get(response["Location"]))
    assert re.search(r'<strong class="reference">PR-[0-9A-Z]{4}-[0-9A-Z]{4}</strong>', thanks)
    assert requests_of(org_a) == []


def test_the_thank_you_page_without_a_submission_leads_to_the_form(client, org_a, org_b):
    thanks_b = reverse("public_privacy_thanks", kwargs={"org_slug": org_b.slug})
    assert client.get(thanks_b)["Location"] == page_url(org_b)
    client.post(page_url(org_a), form_data())
    # The reference of a request to A is not shown on B's page.
    assert client.get(thanks_b)["Location"] == page_url(org_b)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"rights": []}, "rights", "Choose at least one right."),
        ({"email": ""}, "email", "This field is required."),
        ({"email": "not an address"}, "email", "Enter a valid email address."),
        ({"phone": "12"}, "phone", "This phone number has too few or too many digits."),
        ({"rights": ["rectification"]}, "correction", "Say what should be corrected, and to what."),
        ({"rights": ["objection"]}, "objection_scope", "Choose what you object to."),
        ({"rights": ["access"], "objection_scope": "sideways"}, "objection_scope", "Select a valid choice."),
    ],
)
def test_errors_are_shown_on_their_fields_and_nothing_is_stored(client, org_a, overrides, field, message):
    response = client.post(page_url(org_a), form_data(**overrides))
    assert response.status_code == 200
    page = text_of(response)
    assert 'class="error-summary" role="alert"' in page
    assert re.search(rf'<li><a href="#id_{field}">[^<]+</a>: {re.escape(html.escape(message))}', page)
    assert requests_of(org_a) == []
    # The page keeps its nonce, so the corrected form can be sent.
    nonce = re.search(r'name="submission" value="([^"]+)"', page)[1]
    assert client.post(page_url(org_a), form_data(submission=nonce)).status_code == 302


def test_rectification_and_objection_carry_their_details(client, org_a):
    with override_settings(PRIVACY_REQUEST_RATE_LIMITS=NO_LIMITS):
        client.post(
            page_url(org_a),
            form_data(
                rights=["rectification", "objection"], correction="Surname: Popa, not Pop", objection_scope="marketing"
            ),
        )
        client.post(page_url(org_a), form_data(rights=["objection"], objection_scope="other"))
        client.post(page_url(org_a), form_data(rights=["access"], correction="ignored", objection_scope="marketing"))
    first, second, third = requests_of(org_a)
    with tenant_context(org_a):
        assert (first.rights, first.correction, first.objects_to_marketing) == (
            ["objection", "rectification"],
            "Surname: Popa, not Pop",
            True,
        )
        assert (second.rights, second.objects_to_marketing) == (["objection"], False)
        assert (third.correction, third.objects_to_marketing) == ("", False)


@override_settings(PRIVACY_REQUEST_RATE_LIMITS={"client": "100/h", "email": "2/h"})
def test_submissions_are_limited_per_email_address(client, org_a, org_b):
    for _n in range(2):
        assert client.post(page_url(org_a), form_data(email="Ana.Pop@Example.com")).status_code == 302
    # The same address, written otherwise, through another organization: still the same person.
    refused = client.post(page_url(org_b), form_data(email="ana.pop@example.com"))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Too many requests were sent from your connection or for this email address" in text_of(refused)
    assert 'value="ana.pop@example.com"' in text_of(refused)  # what was typed is kept
    assert requests_of(org_b) == []
    assert client.post(page_url(org_b), form_data(email="ion@example.com")).status_code == 302


@override_settings(PRIVACY_REQUEST_RATE_LIMITS={"client": "2/h", "email": "100/h"})
def test_submissions_are_limited_per_client_address(client, org_a):
    # A form sent back with an error does not use the budget.
    assert client.post(page_url(org_a), form_data(rights=[]), REMOTE_ADDR="192.0.2.7").status_code == 200
    for n in range(2):
        response = client.post(page_url(org_a), form_data(email=f"p{n}@example.com"), REMOTE_ADDR="192.0.2.7")
        assert response.status_code == 302
    assert client.post(page_url(org_a), form_data(email="p3@example.com"), REMOTE_ADDR="192.0.2.7").status_code == 429
    # Another client address has its own budget.
    assert client.post(page_url(org_a), form_data(email="p4@example.com"), REMOTE_ADDR="192.0.2.8").status_code == 302
    assert len(requests_of(org_a)) == 3


@override_settings(
    PRIVACY_REQUEST_RATE_LIMITS=NO_LIMITS, PUBLIC_RATE_LIMITS={"client": "10000/m", "organization": "10000/m"}
)
def test_hostile_input_is_stored_as_typed_and_shown_escaped(client, org_a):
    strings = [s for s in naughty_strings() if "\x00" not in s]
    chunks: list[list[str]] = [[]]
    for text in strings:  # as many strings per request as the correction field takes
        if sum(len(s) + 1 for s in chunks[-1]) + len(text) > CORRECTION_MAX_LENGTH:
            chunks.append([])
        chunks[-1].append(text)
    for n, chunk in enumerate(chunks):
        text = "\n".join(chunk)
        response = client.post(
            page_url(org_a),
            form_data(email=f"hostile{n}@example.com", rights=["rectification"], correction=text, message=text),
        )
        assert response.status_code == 302, text_of(response)[:500]
    stored = requests_of(org_a)
    assert len(stored) == len(chunks)
    for privacy_request, chunk in zip(stored, chunks, strict=True):
        expected = "\n".join(chunk).strip()
        with tenant_context(org_a):
            assert privacy_request.message == privacy_request.correction == expected
        page = text_of(client.get(status_url(org_a, privacy_request)))
        assert f'<p class="prewrap request-message">{html.escape(expected)}</p>' in page
    pages = "".join(text_of(client.get(status_url(org_a, r))) for r in stored)
    assert "<script>alert(" not in pages
    assert "<img src=x onerror" not in pages.lower()

    # In the address and phone fields the same strings get field errors, never a server error.
    for text in strings[::7]:
        response = client.post(page_url(org_a), form_data(email=text, phone=text))
        assert response.status_code in (200, 302), text


# --- the links -----------------------------------------------------------------------------------


def test_a_token_of_another_organization_or_a_forged_one_is_a_404(client, org_a, org_b):
    privacy_request = submitted(org_a)
    status_token_a, confirm_token_a = status_token(privacy_request), confirmation_token(privacy_request)
    tampered = status_token_a[:-2] + ("AA" if not status_token_a.endswith("AA") else "BB")
    for url in (
        reverse("privacy_request_status", kwargs={"org_slug": org_b.slug, "token": status_token_a}),
        reverse("privacy_request_status", kwargs={"org_slug": org_a.slug, "token": tampered}),
        reverse("privacy_request_status", kwargs={"org_slug": org_a.slug, "token": confirm_token_a}),
        confirm_url(org_b, confirm_token_a),
        confirm_url(org_a, status_token_a),
    ):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 404, url
            assert "This link does not work" in text_of(response)
            assert privacy_request.reference not in text_of(response)
    assert requests_of(org_a)[0].status == Status.AWAITING_VERIFICATION
    assert client.get(status_url(org_a, privacy_request)).status_code == 200


class SignedEightDaysAgo(signing.TimestampSigner):
    """A genuine signature made eight days ago, as the link in an old mail carries."""

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - 8 * 86400)


def test_an_expired_confirmation_link_offers_to_ask_again(client, org_a):
    privacy_request = submitted(org_a)
    old = SignedEightDaysAgo(salt="privacy.request.confirm").sign_object(
        {"o": org_a.pk, "r": privacy_request.pk}, compress=True
    )
    for method in (client.get, client.post):
        response = method(confirm_url(org_a, old))
        assert response.status_code == 404
        assert "it has expired" in text_of(response)
        assert f'href="{page_url(org_a)}">Make a request again' in text_of(response)
    assert requests_of(org_a)[0].status == Status.AWAITING_VERIFICATION


@override_settings(PRIVACY_REQUEST_RATE_LIMITS={"client": "100/h", "email": "2/h"})
def test_the_confirmation_link_can_be_sent_again_a_limited_number_of_times(client, org_a):
    privacy_request = submitted(org_a)
    url = status_url(org_a, privacy_request)
    page = text_of(client.get(url))
    assert '<span class="request-status">Awaiting email confirmation</span>' in page
    assert "Send the confirmation link again" in page
    for _n in range(2):
        response = client.post(url)
        assert response["Location"] == url
        assert "A new confirmation link is on its way" in text_of(client.get(url))
    refused = client.post(url)
    assert refused.status_code == 429
    assert "Please wait an hour" in text_of(refused)


def test_the_status_page_tells_an_extension_and_a_refusal_with_the_remedies(client, org_a, alice):
    privacy_request = submitted(org_a, rights=["erasure"])
    extend(privacy_request, reason="Many requests this month.", actor=alice)
    page = text_of(client.get(status_url(org_a, privacy_request)))
    (stored,) = requests_of(org_a)
    assert stored.extended_due_on is not None
    assert "The deadline was extended from" in page
    assert "Many requests this month." in page
    assert f"{stored.extended_due_on.day} " in re.search(r'<dd class="request-deadline">([^<]+)</dd>', page)[1]

    deny(stored, reason="We are required to keep invoices for 10 years.", actor=alice)
    page = text_of(client.get(status_url(org_a, privacy_request)))
    assert '<span class="request-status">Denied</span>' in page
    assert "We are required to keep invoices for 10 years." in page
    assert "lodge a complaint with the supervisory authority (ANSPDCP" in page
    assert "and to go to court" in page
    assert "Make a new request" in page


# --- beat's sweep: the reminder and the expiry -----------------------------------------------------


def test_one_reminder_after_a_day_and_expiry_after_seven_days(client, org_a, mailbox):
    received = timezone.now() - datetime.timedelta(days=30)
    privacy_request = submitted(org_a, received_at=received)

    def hours(n: float) -> datetime.datetime:
        return received + datetime.timedelta(hours=n)

    # The confirmation the broker never delivered is sent by the sweep.
    assert sweep_request_mail(now=hours(0.1)) == 1
    mailbox.wait_for("ana.pop@example.com", subject="Confirm your privacy request", timeout=1)
    assert sweep_request_mail(now=hours(23)) == 0

    assert sweep_request_mail(now=hours(25)) == 1
    reminder = mailbox.wait_for("ana.pop@example.com", subject="Reminder: confirm", timeout=1)
    assert privacy_request.reference in reminder["Subject"]
    assert "/privacy/confirm/" in first_link(reminder)
    assert sweep_request_mail(now=hours(26)) == 0
    assert sweep_request_mail(now=hours(6 * 24 + 23)) == 0

    assert sweep_request_mail(now=hours(7 * 24 + 0.1)) == 1
    (stored,) = requests_of(org_a)
    assert stored.status == Status.EXPIRED
    assert events_of(org_a, stored) == [
        Event.RECEIVED,
        Event.CONFIRMATION_SENT,
        Event.REMINDER_SENT,
        Event.EXPIRED,
    ]
    assert sweep_request_mail(now=hours(8 * 24)) == 0

    # The link, still within its own week, does not bring an expired request back.
    response = client.post(confirm_url(org_a, confirmation_token(stored)))
    page = text_of(client.get(response["Location"]))
    assert '<span class="request-status">Expired (never confirmed)</span>' in page
    assert "Make a new request" in page
    assert requests_of(org_a)[0].status == Status.EXPIRED


def test_the_mail_dates_the_request_in_the_organizations_time_zone(org_a, mailbox):
    set_privacy_settings(org_a, time_zone="America/New_York")
    # 03:00 UTC on 1 January is still 31 December in New York: the month runs from then.
    received = datetime.datetime(2027, 1, 1, 3, 0, tzinfo=datetime.UTC)
    privacy_request = submitted(org_a, received_at=received)
    assert send_request_mail(organization_id=org_a.pk, request_id=privacy_request.pk, kind="confirmation")
    message = mailbox.wait_for("ana.pop@example.com", subject="Confirm your privacy request", timeout=1)
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Received: 31 December 2026" in body
    assert "Answer due by: 31 January 2027" in body
