"""Consent (GDPR Art. 7): purposes with versioned, hashed notices; the append-only ledger,
refused UPDATE and DELETE by the database; the status derived from it; withdrawal by one
click (RFC 8058), from the preference centre and by staff; the double-opt-in sign-up form;
the CSV export. Real PostgreSQL, Redis and SMTP (aiosmtpd)."""

from __future__ import annotations

import csv
import hashlib
import io
from urllib.parse import urlparse

import pytest
from django.db import connection, connections, transaction
from django.db.utils import ProgrammingError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from consent import selectors
from consent.models import ConsentEvidence, ConsentRecord, NoticeVersion, PendingSignup
from consent.services.ledger import create_purpose, give_consent, publish_notice, record_by_staff, withdraw_consent
from consent.services.links import preferences_token, unsubscribe_token
from consent.services.signup import form_token
from contacts.models import Contact
from contacts.services.contacts import create_contact
from contacts.services.merge import merge_contacts
from logicnet.personal_data.erasure import execute, plan
from logicnet.tenancy.context import tenant_context
from tests.conftest import use_database_role
from tests.factories import make_member, make_user
from tests.smtp import first_link

Action = ConsentRecord.Action
Method = ConsentRecord.Method
NEWSLETTER_TEXT = "We send the Alpha newsletter once a month. Withdraw at any time."
PERSON = "ana.pop@client.example"


# --- fixtures and helpers ----------------------------------------------------------------------------


@pytest.fixture
def newsletter(org_a, alice):
    return create_purpose(
        organization=org_a, actor=alice, key="newsletter", name="Newsletter", notice_text=NEWSLETTER_TEXT
    )


@pytest.fixture
def events_purpose(org_a, alice):
    return create_purpose(
        organization=org_a,
        actor=alice,
        key="events",
        name="Event invitations",
        notice_text="Invitations to our events.",
    )


@pytest.fixture
def ana(org_a, alice):
    return create_contact(
        organization=org_a, actor=alice, data={"first_name": "Ana", "last_name": "Pop", "email": PERSON}
    )


def ledger(organization) -> list[tuple]:
    with tenant_context(organization):
        return list(
            ConsentRecord.objects.filter(organization=organization)
            .order_by("recorded_at", "pk")
            .values_list("contact_id", "purpose__key", "notice__version", "action", "method")
        )


def status(organization, contact, purpose) -> str | None:
    return selectors.status_of(organization, contact.pk, purpose)


def give(organization, contact, purpose, **kwargs):
    return give_consent(organization=organization, contact=contact, purpose=purpose, method=Method.API, **kwargs)


def withdraw(organization, contact, purpose, **kwargs):
    return withdraw_consent(organization=organization, contact=contact, purpose=purpose, method=Method.API, **kwargs)


def csrf_client() -> Client:
    """A browser that enforces CSRF, as a mail client or another website would meet it."""
    return Client(enforce_csrf_checks=True)


# --- the ledger and the status derived from it ---------------------------------------------------------


def test_status_after_give_withdraw_give(org_a, ana, newsletter, events_purpose):
    assert status(org_a, ana, newsletter) is None
    give(org_a, ana, newsletter)
    assert status(org_a, ana, newsletter) == Action.GIVEN
    withdraw(org_a, ana, newsletter)
    assert status(org_a, ana, newsletter) == Action.WITHDRAWN
    give(org_a, ana, newsletter)
    assert status(org_a, ana, newsletter) == Action.GIVEN
    # Another purpose is untouched, and every step is a row of its own.
    assert status(org_a, ana, events_purpose) is None
    assert [row[3] for row in ledger(org_a)] == ["given", "withdrawn", "given"]
    history = selectors.history(org_a, ana.pk)
    assert [record.action for record in history] == ["given", "withdrawn", "given"]


def test_withdrawal_names_the_version_that_was_given(org_a, alice, ana, newsletter):
    give(org_a, ana, newsletter)
    publish_notice(organization=org_a, actor=alice, purpose=newsletter, text="Now weekly.")
    withdraw(org_a, ana, newsletter)
    give(org_a, ana, newsletter)
    assert [(row[2], row[3]) for row in ledger(org_a)] == [(1, "given"), (1, "withdrawn"), (2, "given")]
    (current,) = [s for s in selectors.statuses(org_a, ana.pk) if s.purpose.pk == newsletter.pk]
    assert current.given and not current.given_to_older_notice


def test_one_click_links_record_nothing_when_nothing_changes(org_a, ana, newsletter):
    # Saying no before ever saying yes is recorded: the person asked not to be sent it.
    assert withdraw(org_a, ana, newsletter, when_changed=True) is not None
    assert withdraw(org_a, ana, newsletter, when_changed=True) is None
    assert give(org_a, ana, newsletter, when_changed=True) is not None
    assert give(org_a, ana, newsletter, when_changed=True) is None
    assert [row[3] for row in ledger(org_a)] == ["withdrawn", "given"]


def test_notices_are_versioned_and_hashed(org_a, alice, newsletter):
    second = publish_notice(organization=org_a, actor=alice, purpose=newsletter, text="Weekly now.\r\nStill free.")
    versions = selectors.notice_versions(newsletter)
    assert [notice.version for notice in versions] == [2, 1]
    for notice in versions:
        assert notice.text_sha256 == hashlib.sha256(notice.text.encode()).hexdigest()
        assert notice.text_intact
    assert second.text == "Weekly now.\nStill free."
    with pytest.raises(Exception, match="current version already"):
        publish_notice(organization=org_a, actor=alice, purpose=newsletter, text="Weekly now.\nStill free.")


LEDGER_STATEMENTS = [
    "UPDATE consent_consentrecord SET action = 'given'",
    "DELETE FROM consent_consentrecord",
    "TRUNCATE consent_consentrecord CASCADE",
    "UPDATE consent_noticeversion SET text = 'rewritten'",
    "DELETE FROM consent_noticeversion",
]


@pytest.mark.parametrize("statement", LEDGER_STATEMENTS)
def test_the_application_role_cannot_change_the_ledger(statement, org_a, ana, newsletter):
    withdraw(org_a, ana, newsletter)
    before = ledger(org_a)
    with (
        tenant_context(org_a),
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert ledger(org_a) == before == [(ana.pk, "newsletter", 1, "withdrawn", "api")]
    with tenant_context(org_a):
        assert NoticeVersion.objects.get().text == NEWSLETTER_TEXT


def test_the_orm_cannot_change_a_ledger_row_either(org_a, ana, newsletter):
    record = give(org_a, ana, newsletter)
    with tenant_context(org_a):
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
            ConsentRecord.objects.filter(pk=record.pk).update(action=Action.WITHDRAWN)
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
            ConsentRecord.objects.filter(pk=record.pk).delete()
    assert status(org_a, ana, newsletter) == Action.GIVEN


@pytest.mark.parametrize("statement", LEDGER_STATEMENTS[:3])
def test_the_platform_role_cannot_change_the_ledger(statement, platform_db, org_a, ana, newsletter):
    give(org_a, ana, newsletter)
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(using="platform"),
        connections["platform"].cursor() as cursor,
    ):
        cursor.execute(statement)
    with scopes_disabled():
        assert ConsentRecord.objects.using("platform").count() == 1


@pytest.mark.parametrize(
    "statement", ["UPDATE consent_consentrecord SET action = 'withdrawn'", "DELETE FROM consent_consentrecord"]
)
def test_the_trigger_stops_even_the_owner(statement, committed_db, org_a, ana, newsletter):
    give(org_a, ana, newsletter)
    use_database_role("owner")
    try:
        with (
            pytest.raises(ProgrammingError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    finally:
        use_database_role("app")
    assert ledger(org_a) == [(ana.pk, "newsletter", 1, "given", "api")]


# --- erasure, deletion and merge leave the ledger alone ---------------------------------------------------


def test_erasure_deletes_the_evidence_and_keeps_the_ledger(org_a, alice, ana, newsletter):
    record_by_staff(
        organization=org_a, actor=alice, contact=ana, purpose=newsletter, action=Action.GIVEN, note="Said yes by phone"
    )
    withdraw(org_a, ana, newsletter, ip_address="203.0.113.9", user_agent="Mail/1.0")
    with tenant_context(org_a):
        PendingSignup.objects.create(
            organization=org_a, purpose=newsletter, notice=newsletter.versions.get(), email=PERSON, ip_address="1.2.3.4"
        )
        assert ConsentEvidence.objects.count() == 2
    preview = plan("contact", ana, audit=False)
    by_model = {step.model: step for step in preview.steps}
    assert by_model["consent.ConsentRecord"].action == "keep"
    assert by_model["consent.ConsentEvidence"].action == "delete_row"
    execute(preview, audit=False)
    with tenant_context(org_a):
        assert not Contact.objects.filter(pk=ana.pk).exists()
        assert not ConsentEvidence.objects.exists()
        assert not PendingSignup.objects.exists()
    # The proof stays: an id that names nobody any more, the purpose, the version, the action.
    assert ledger(org_a) == [(ana.pk, "newsletter", 1, "given", "staff"), (ana.pk, "newsletter", 1, "withdrawn", "api")]


def test_deleting_or_merging_contacts_leaves_the_ledger(org_a, alice, ana, newsletter):
    other = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "ana@home.example"})
    give(org_a, other, newsletter)
    give(org_a, ana, newsletter)
    merge_contacts(organization=org_a, actor=alice, survivor=ana, duplicate=other, choices={})
    from contacts.services.contacts import delete_contact

    delete_contact(organization=org_a, actor=alice, contact=ana)
    # The originals stay as recorded; the duplicate's row was appended again for the survivor.
    assert sorted(ledger(org_a)) == sorted(
        [
            (other.pk, "newsletter", 1, "given", "api"),
            (ana.pk, "newsletter", 1, "given", "api"),
            (ana.pk, "newsletter", 1, "given", "api"),
        ]
    )


def test_a_merge_carries_the_duplicates_consent_to_the_survivor(org_a, alice, ana, newsletter, events_purpose):
    """Both contacts' decisions follow the survivor; per purpose the newest one wins, whoever
    made it; the evidence moves with the copies, so erasing the survivor erases it all."""
    other = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "ana@home.example"})
    give(org_a, ana, newsletter)
    give(org_a, other, events_purpose, ip_address="203.0.113.7", user_agent="Form/1.0")
    withdraw(org_a, other, newsletter)  # newer than ana's consent: the survivor withdrew
    assert status(org_a, ana, newsletter) == Action.GIVEN and status(org_a, ana, events_purpose) is None
    before = ledger(org_a)

    merge_contacts(organization=org_a, actor=alice, survivor=ana, duplicate=other, choices={})

    assert status(org_a, ana, newsletter) == Action.WITHDRAWN
    assert status(org_a, ana, events_purpose) == Action.GIVEN
    after = ledger(org_a)
    assert set(before) <= set(after) and len(after) == len(before) + 2  # appended, nothing changed
    with tenant_context(org_a):
        originals = ConsentRecord.objects.filter(contact_id=other.pk)
        copies = ConsentRecord.objects.filter(contact_id=ana.pk, carried_from__isnull=False)
        assert originals.count() == 2 and copies.count() == 2
        assert set(copies.values_list("carried_from", flat=True)) == set(originals.values_list("pk", flat=True))
        assert set(copies.values_list("recorded_at", flat=True)) == set(originals.values_list("recorded_at", flat=True))
        (evidence,) = ConsentEvidence.objects.all()
        assert evidence.record.contact_id == ana.pk and evidence.ip_address == "203.0.113.7"
    assert len(selectors.history(org_a, ana.pk)) == 3

    execute(plan("contact", ana, audit=False), audit=False)
    with tenant_context(org_a):
        assert not ConsentEvidence.objects.exists()


# --- one click from a mail (RFC 8058) ---------------------------------------------------------------------


def unsubscribe_path(organization, contact, purpose) -> str:
    return reverse(
        "consent_unsubscribe", kwargs={"org_slug": organization.slug, "token": unsubscribe_token(contact, purpose)}
    )


def test_a_mail_clients_one_click_post_withdraws_at_once(org_a, ana, newsletter):
    give(org_a, ana, newsletter)
    client = csrf_client()
    url = unsubscribe_path(org_a, ana, newsletter)
    # Opening the link (or a mail scanner prefetching it) changes nothing.
    page = client.get(url)
    assert page.status_code == 200
    assert status(org_a, ana, newsletter) == Action.GIVEN
    # RFC 8058: POST with the body List-Unsubscribe=One-Click, no cookie, no CSRF token.
    response = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert status(org_a, ana, newsletter) == Action.WITHDRAWN
    assert (
        client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded").status_code
        == 200
    )
    assert [row[3:] for row in ledger(org_a)] == [("given", "api"), ("withdrawn", "mail_link")]


def test_a_forged_or_foreign_unsubscribe_link_is_refused(org_a, org_b, ana, newsletter, charlie):
    give(org_a, ana, newsletter)
    token = unsubscribe_token(ana, newsletter)
    client = csrf_client()
    forged = reverse("consent_unsubscribe", kwargs={"org_slug": org_a.slug, "token": token[:-2] + "xx"})
    foreign = reverse("consent_unsubscribe", kwargs={"org_slug": org_b.slug, "token": token})
    for url in (forged, foreign):
        assert client.post(url).status_code == 404
    assert status(org_a, ana, newsletter) == Action.GIVEN


# --- the preference centre --------------------------------------------------------------------------------


def test_the_preference_centre_gives_and_withdraws(org_a, ana, newsletter, events_purpose):
    give(org_a, ana, newsletter)
    client = Client()
    url = reverse("consent_preferences", kwargs={"org_slug": org_a.slug, "token": preferences_token(ana)})
    page = client.get(url)
    assert page.status_code == 200
    assert NEWSLETTER_TEXT in page.content.decode()
    response = client.post(url, {"purposes": [str(events_purpose.pk)]})
    assert response.status_code == 302
    assert status(org_a, ana, newsletter) == Action.WITHDRAWN
    assert status(org_a, ana, events_purpose) == Action.GIVEN
    client.post(url, {"purposes": [str(events_purpose.pk)]})  # saved again: nothing changes
    assert sorted(row[1:] for row in ledger(org_a)[1:]) == [
        ("events", 1, "given", "preference_centre"),
        ("newsletter", 1, "withdrawn", "preference_centre"),
    ]
    other_org = reverse("consent_preferences", kwargs={"org_slug": "no-such-org", "token": preferences_token(ana)})
    assert client.get(other_org).status_code == 404


# --- the double-opt-in sign-up form ------------------------------------------------------------------------


def signup_url(organization, purpose) -> str:
    return reverse("consent_signup", kwargs={"org_slug": organization.slug, "purpose_key": purpose.key})


def signup_data(purpose, **overrides) -> dict:
    return {"email": PERSON, "first_name": "Ana", "form_token": form_token(purpose), "notice": "1", **overrides}


def test_double_opt_in_from_a_form_on_another_website(
    org_a, alice, newsletter, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    publish_notice(organization=org_a, actor=alice, purpose=newsletter, text="Version two of the notice.")
    client = csrf_client()
    # A cross-site POST from the organization's website: no CSRF cookie, the signed form token;
    # the pasted form still shows version 1, which is what the person agrees to.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            signup_url(org_a, newsletter),
            signup_data(newsletter),
            HTTP_REFERER="https://alpha.example/newsletter",
            HTTP_USER_AGENT="Firefox/140",
        )
    assert response.status_code == 302
    assert response["Location"].endswith("/consent/newsletter/sent/")
    message = mailbox.wait_for(PERSON, subject="Confirm your subscription to Newsletter from Alpha SRL")
    link = first_link(message)
    assert PERSON not in link
    with tenant_context(org_a):
        assert not Contact.objects.exists()
    person = Client()  # the confirmation page is ours: Django's CSRF protection applies (not enforced here)
    assert person.get(urlparse(link).path).status_code == 200  # a scanner opening it confirms nothing
    assert ledger(org_a) == []

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = person.post(urlparse(link).path, HTTP_USER_AGENT="Firefox/140")
    assert confirmed.status_code == 302
    with tenant_context(org_a):
        contact = Contact.objects.get()
        assert contact.email == PERSON and contact.first_name == "Ana" and contact.source == Contact.Source.WEB_FORM
        evidence = ConsentEvidence.objects.get()
        assert "alpha.example/newsletter" in evidence.details and "Firefox/140" in evidence.details
        assert evidence.user_agent == "Firefox/140"
        assert not PendingSignup.objects.exists()
    assert ledger(org_a) == [(contact.pk, "newsletter", 1, "given", "form")]

    welcome = mailbox.wait_for(PERSON, subject="You are subscribed to Newsletter from Alpha SRL")
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(welcome["List-Unsubscribe"]).strip().strip("<>")
    assert first_link(welcome) == unsubscribe
    csrf_client().post(
        urlparse(unsubscribe).path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert status(org_a, contact, newsletter) == Action.WITHDRAWN

    # The link is used up.
    assert person.post(urlparse(link).path).status_code == 404


def test_a_sign_up_finds_the_contact_by_any_of_their_addresses(
    org_a, alice, newsletter, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    known = create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Ana", "email": "work@alpha.example", "extra_emails": [{"email": PERSON, "label": "home"}]},
    )
    client = csrf_client()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(signup_url(org_a, newsletter), signup_data(newsletter, email="  ANA.Pop@Client.Example "))
    link = first_link(mailbox.wait_for(PERSON))
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(urlparse(link).path)
    with tenant_context(org_a):
        assert list(Contact.objects.values_list("pk", flat=True)) == [known.pk]
    assert status(org_a, known, newsletter) == Action.GIVEN


def test_a_bot_filling_the_honeypot_is_answered_alike_and_nothing_is_stored(
    org_a, newsletter, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = csrf_client().post(signup_url(org_a, newsletter), signup_data(newsletter, website="http://spam"))
    assert response.status_code == 302 and response["Location"].endswith("/sent/")
    assert callbacks == []
    with tenant_context(org_a):
        assert not PendingSignup.objects.exists()
    assert mailbox.messages == []


def test_a_forged_form_token_or_another_purposes_token_is_refused(org_a, newsletter, events_purpose):
    client = csrf_client()
    for token in ("forged", form_token(events_purpose)):
        response = client.post(signup_url(org_a, newsletter), signup_data(newsletter, form_token=token))
        assert response.status_code == 400
    with tenant_context(org_a):
        assert not PendingSignup.objects.exists()


def test_sign_ups_are_limited_per_email_address(org_a, newsletter, settings, eager_tasks, mailbox):
    settings.CONSENT_SIGNUP_RATE_LIMITS = {"client": "100/h", "email": "2/h"}
    client = csrf_client()
    for _ in range(2):
        assert client.post(signup_url(org_a, newsletter), signup_data(newsletter)).status_code == 302
    refused = client.post(signup_url(org_a, newsletter), signup_data(newsletter))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 3600
    assert (
        client.post(signup_url(org_a, newsletter), signup_data(newsletter, email="other@client.example")).status_code
        == 302
    )
    with tenant_context(org_a):
        assert PendingSignup.objects.count() == 3


def test_sign_ups_are_limited_per_client_address(org_a, newsletter, settings, eager_tasks, mailbox):
    settings.CONSENT_SIGNUP_RATE_LIMITS = {"client": "2/h", "email": "100/h"}
    client = csrf_client()
    codes = [
        client.post(signup_url(org_a, newsletter), signup_data(newsletter, email=f"p{n}@client.example")).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]


def test_the_hosted_form_and_an_unknown_purpose(org_a, org_b, charlie, newsletter):
    page = Client().get(signup_url(org_a, newsletter))
    assert page.status_code == 200
    body = page.content.decode()
    assert NEWSLETTER_TEXT in body and 'name="website"' in body and form_token(newsletter) in body
    # The purpose is organization A's: organization B has none of that key.
    assert Client().get(signup_url(org_b, newsletter)).status_code == 404


# --- staff pages -------------------------------------------------------------------------------------------


def contact_consent_url(organization, contact) -> str:
    return reverse("consent_contact", kwargs={"org_slug": organization.slug, "contact_id": contact.pk})


def test_staff_record_consent_with_a_note_on_the_contact_page(client, org_a, alice, bob, ana, newsletter):
    client.force_login(bob)  # a member
    url = contact_consent_url(org_a, ana)
    refused = client.post(url, {"purpose": newsletter.pk, "action": "given", "note": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert ledger(org_a) == []
    response = client.post(
        url, {"purpose": newsletter.pk, "action": "given", "note": "Asked at the fair"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "consent-given" in response.content.decode()
    client.post(url, {"purpose": newsletter.pk, "action": "withdrawn", "note": "Phoned to stop"})
    assert [row[3:] for row in ledger(org_a)] == [("given", "staff"), ("withdrawn", "staff")]
    panel = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Asked at the fair" in panel and "Phoned to stop" in panel and "Withdrawn" in panel
    detail = client.get(reverse("contact_detail", kwargs={"org_slug": org_a.slug, "contact_id": ana.pk}))
    assert url in detail.content.decode()


def test_read_only_members_see_the_panel_but_cannot_record(client, org_a, ana, newsletter):
    reader = make_user("reader@example.com")
    make_member(org_a, reader, "read_only")
    client.force_login(reader)
    url = contact_consent_url(org_a, ana)
    assert client.get(url).status_code == 200
    assert client.post(url, {"purpose": newsletter.pk, "action": "given", "note": "x"}).status_code == 403
    assert ledger(org_a) == []


def test_another_organization_gets_404(client, org_a, org_b, charlie, ana, newsletter):
    client.force_login(charlie)
    urls = [
        contact_consent_url(org_a, ana),
        reverse("consent_purposes", kwargs={"org_slug": org_a.slug}),
        reverse("consent_purpose", kwargs={"org_slug": org_a.slug, "purpose_id": newsletter.pk}),
        reverse("consent_export", kwargs={"org_slug": org_a.slug}),
        # In their own organization, A's ids name nothing.
        reverse("consent_contact", kwargs={"org_slug": org_b.slug, "contact_id": ana.pk}),
        reverse("consent_purpose", kwargs={"org_slug": org_b.slug, "purpose_id": newsletter.pk}),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url


def test_admins_manage_purposes_and_members_may_not(client, org_a, alice, bob):
    url = reverse("consent_purposes", kwargs={"org_slug": org_a.slug})
    client.force_login(bob)
    assert client.get(url).status_code == 403
    client.force_login(alice)
    response = client.post(url, {"name": "Newsletter", "key": "newsletter", "notice_text": "Monthly news."})
    assert response.status_code == 302
    purpose = selectors.purpose_by_key(org_a, "newsletter")
    detail_url = reverse("consent_purpose", kwargs={"org_slug": org_a.slug, "purpose_id": purpose.pk})
    page = client.get(detail_url).content.decode()
    assert hashlib.sha256(b"Monthly news.").hexdigest() in page
    assert "form_token" in page and signup_url(org_a, purpose) in page
    client.post(detail_url, {"text": "Weekly news."})
    assert [n.version for n in selectors.notice_versions(purpose)] == [2, 1]
    duplicate = client.post(url, {"name": "Other", "key": "newsletter", "notice_text": "x"})
    assert duplicate.status_code == 400


def export_csv(client, organization, **params) -> list[dict]:
    response = client.get(reverse("consent_export", kwargs={"org_slug": organization.slug}), params)
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_ledger_exports_as_csv_by_date_purpose_and_version(client, org_a, alice, ana, newsletter, events_purpose):
    give(org_a, ana, newsletter)
    publish_notice(organization=org_a, actor=alice, purpose=newsletter, text="Second version.")
    give(org_a, ana, events_purpose)
    withdraw(org_a, ana, newsletter)
    give(org_a, ana, newsletter)
    client.force_login(alice)
    everything = export_csv(client, org_a)
    assert [(r["purpose"], r["notice_version"], r["consent"]) for r in everything] == [
        ("newsletter", "1", "given"),
        ("events", "1", "given"),
        ("newsletter", "1", "withdrawn"),
        ("newsletter", "2", "given"),
    ]
    assert everything[0]["notice_sha256"] == hashlib.sha256(NEWSLETTER_TEXT.encode()).hexdigest()
    assert {r["contact_id"] for r in everything} == {str(ana.pk)}
    assert len(export_csv(client, org_a, purpose=newsletter.pk)) == 3
    assert [r["consent"] for r in export_csv(client, org_a, purpose=newsletter.pk, version=2)] == ["given"]
    # The filter's days are the platform's calendar days (Europe/Bucharest), not UTC's.
    today = timezone.localdate(selectors.history(org_a, ana.pk)[0].recorded_at)
    assert len(export_csv(client, org_a, date_from=today.isoformat(), date_to=today.isoformat())) == 4
    assert export_csv(client, org_a, date_to="2020-01-01") == []


def test_an_appointed_privacy_officer_manages_consent(client, org_a, alice, newsletter):
    from accounts.services import set_privacy_officer

    officer = make_user("officer@example.com", "Olga Officer")
    membership = make_member(org_a, officer, "member")
    set_privacy_officer(organization=org_a, actor=alice, membership=membership, value=True)
    client.force_login(officer)
    assert client.get(reverse("consent_purposes", kwargs={"org_slug": org_a.slug})).status_code == 200
    url = reverse("consent_purpose", kwargs={"org_slug": org_a.slug, "purpose_id": newsletter.pk})
    assert client.post(url, {"text": "A new text."}).status_code == 302
    assert [n.version for n in selectors.notice_versions(newsletter)] == [2, 1]
