"""Logicnet's own privacy page (/privacy/): the request form for the account holders and
visitors whose data Logicnet controls, on the privacy app's request lifecycle; platform staff
answer in the admin, from the registry's user subject kind. Over real PostgreSQL, Redis and
SMTP (aiosmtpd), with Celery tasks run where they are sent."""

from __future__ import annotations

import datetime
import html
import re
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountDataPackage, Membership, Organization, User
from accounts.services import change_member_role
from logicnet.audit.models import AuditEvent
from logicnet.audit.services import verify_audit_log
from logicnet.tenancy.context import platform_reads, tenant_context, user_context
from logicnet.tenancy.roles import Role
from privacy.forms_public import CORRECTION_MAX_LENGTH
from privacy.models import PrivacyRequest, RequestEvent
from privacy.services import platform
from tests.factories import make_user
from tests.shared_fixtures import naughty_strings
from tests.smtp import first_link
from tests.test_admin import _verified_admin

Status = PrivacyRequest.Status
Event = RequestEvent.Kind
NO_LIMITS = {"client": "1000/h", "email": "1000/h"}


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"
    settings.ACCOUNT_PACKAGES_DIR = tmp_path / "account-packages"


@pytest.fixture
def staff(platform_db):
    user = make_user("root@logicnet.example", "Platform Admin")
    User.objects.using("platform").filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return user


def form_data(**overrides) -> dict:
    data = {
        "rights": ["access"],
        "email": "visitor@example.com",
        "phone": "",
        "message": "",
        "correction": "",
        "objection_scope": "",
        "website": "",
        "submission": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def platform_requests() -> list[PrivacyRequest]:
    controller = platform.platform_controller()
    with tenant_context(controller):
        return list(PrivacyRequest.objects.filter(organization=controller).order_by("received_at", "pk"))


def events_of(privacy_request) -> list[str]:
    with tenant_context(privacy_request.organization):
        return list(privacy_request.events.order_by("created_at", "pk").values_list("kind", flat=True))


def text_of(response) -> str:
    return response.content.decode()


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


# --- the page and the form -----------------------------------------------------------------------


def test_the_privacy_page_keeps_its_policy_and_adds_the_form(client, db):
    page = text_of(client.get(reverse("privacy_policy")))
    assert "Logicnet privacy policy" in page  # the versioned text, unchanged
    assert '<section class="card privacy-request-form"' in page
    for right in ("Access", "Rectification", "Erasure", "Restriction", "Portability", "Objection"):
        assert f"{right}:" in page
    assert 'name="website"' in page  # the honeypot

    # The controller is a row no customer can be: no members, a slug without a suffix.
    controller = platform.platform_controller()
    assert controller.slug == "logicnet" and controller.name == "Logicnet"
    assert not Membership.objects.filter(organization=controller).exists()
    assert platform.controller_settings().contact_email == "privacy@logicnet.example"
    # Its per-organization page leads to this one.
    assert client.get(reverse("public_privacy", args=[controller.slug]))["Location"] == reverse("privacy_policy")


def test_a_slug_with_members_is_refused_rather_than_used(db, org_a, settings):
    settings.PLATFORM_PRIVACY_SLUG = org_a.slug
    with pytest.raises(ImproperlyConfigured):
        platform.platform_controller()


def test_a_request_is_stored_first_then_confirmed_from_the_real_mail(platform_db, client, mailbox, eager_tasks):
    response = client.post(
        reverse("privacy_policy"), form_data(rights=["access", "objection"], objection_scope="other")
    )
    assert response.status_code == 302
    controller = platform.platform_controller()
    assert response["Location"] == reverse("public_privacy_thanks", args=[controller.slug])
    (stored,) = platform_requests()
    assert stored.status == Status.AWAITING_VERIFICATION
    assert stored.rights == ["access", "objection"] and not stored.objects_to_marketing
    assert stored.channel == PrivacyRequest.Channel.PUBLIC_FORM
    assert stored.reference in text_of(client.get(response["Location"]))
    # One calendar month from receipt (Art. 12(3)), in the controller's time zone.
    assert stored.due_on > stored.received_at.date()

    message = mailbox.wait_for("visitor@example.com", subject="Confirm your privacy request to Logicnet")
    assert stored.reference in message["Subject"]
    link = path_of(first_link(message))
    assert link.startswith(f"/p/{controller.slug}/privacy/confirm/")
    assert client.get(link).status_code == 200
    assert platform_requests()[0].status == Status.AWAITING_VERIFICATION  # a GET confirms nothing
    confirmed = client.post(link)
    assert confirmed.status_code == 302
    (stored,) = platform_requests()
    assert stored.status == Status.RECEIVED and stored.email_confirmed_at is not None
    status_page = text_of(client.get(confirmed["Location"]))
    assert stored.reference in status_page and "Received" in status_page
    assert Event.EMAIL_CONFIRMED in events_of(stored)
    # Logicnet's privacy address is told a request waits in the admin, without the person's data.
    told = mailbox.wait_for("privacy@logicnet.example", subject=f"New privacy request to Logicnet: {stored.reference}")
    body = told.get_content()
    assert reverse("admin:privacy_platform_request", args=[stored.pk]) in body and "Access, Objection" in body
    assert "visitor@example.com" not in body
    with platform_reads():
        assert AuditEvent.objects.filter(
            action="privacy.request_email_confirmed", organization_id=controller.pk, target_id=str(stored.pk)
        ).exists()


def test_an_objection_to_logicnets_marketing_applies_on_confirmation(platform_db, client, alice, mailbox, eager_tasks):
    client.post(
        reverse("privacy_policy"), form_data(email=alice.email, rights=["objection"], objection_scope="marketing")
    )
    link = path_of(first_link(mailbox.wait_for(alice.email, subject="Confirm your privacy request to Logicnet")))
    assert client.post(link).status_code == 302
    alice.refresh_from_db()
    assert alice.marketing_opt_out_at is not None  # without staff (Art. 21(3))
    assert Event.OBJECTION_MARKETING in events_of(platform_requests()[0])


def test_the_same_form_twice_stores_one_request_and_a_filled_honeypot_none(client, db):
    data = form_data()
    assert client.post(reverse("privacy_policy"), data).status_code == 302
    assert client.post(reverse("privacy_policy"), data).status_code == 302
    assert len(platform_requests()) == 1
    assert client.post(reverse("privacy_policy"), form_data(website="http://spam.example")).status_code == 302
    assert len(platform_requests()) == 1


@override_settings(PRIVACY_REQUEST_RATE_LIMITS={"client": "2/h", "email": "100/h"})
def test_submissions_are_limited_per_client_address(client, db):
    for n in range(2):
        sent = client.post(reverse("privacy_policy"), form_data(email=f"p{n}@example.com"), REMOTE_ADDR="192.0.2.7")
        assert sent.status_code == 302
    refused = client.post(reverse("privacy_policy"), form_data(email="p3@example.com"), REMOTE_ADDR="192.0.2.7")
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert "Too many requests" in text_of(refused)
    assert "Logicnet privacy policy" in text_of(refused)  # the page, with the form as typed
    assert 'value="p3@example.com"' in text_of(refused)
    other = client.post(reverse("privacy_policy"), form_data(email="p4@example.com"), REMOTE_ADDR="192.0.2.8")
    assert other.status_code == 302
    assert len(platform_requests()) == 3


@override_settings(PRIVACY_REQUEST_RATE_LIMITS={"client": "100/h", "email": "2/h"})
def test_submissions_are_limited_per_email_address_across_controllers(client, org_a):
    for _n in range(2):
        assert client.post(reverse("privacy_policy"), form_data(email="Ana.Pop@Example.com")).status_code == 302
    # The same person through an organization's page: the same mailbox budget.
    refused = client.post(reverse("public_privacy", args=[org_a.slug]), form_data(email="ana.pop@example.com"))
    assert refused.status_code == 429


@override_settings(
    PRIVACY_REQUEST_RATE_LIMITS=NO_LIMITS, PUBLIC_RATE_LIMITS={"client": "10000/m", "organization": "10000/m"}
)
def test_hostile_input_is_stored_as_typed_and_shown_escaped(client, db):
    strings = [s for s in naughty_strings() if "\x00" not in s]
    chunks: list[list[str]] = [[]]
    for text in strings:
        if sum(len(s) + 1 for s in chunks[-1]) + len(text) > CORRECTION_MAX_LENGTH:
            chunks.append([])
        chunks[-1].append(text)
    for n, chunk in enumerate(chunks):
        text = "\n".join(chunk)
        response = client.post(
            reverse("privacy_policy"),
            form_data(email=f"hostile{n}@example.com", rights=["rectification"], correction=text, message=text),
        )
        assert response.status_code == 302, text_of(response)[:500]
    stored = platform_requests()
    assert len(stored) == len(chunks)
    controller = platform.platform_controller()
    with tenant_context(controller):
        for privacy_request, chunk in zip(stored, chunks, strict=True):
            assert privacy_request.message == privacy_request.correction == "\n".join(chunk).strip()
    # In the address and phone fields: field errors on the page, never a server error.
    for text in strings[::7]:
        response = client.post(reverse("privacy_policy"), form_data(email=text, phone=text))
        assert response.status_code in (200, 302), text
        assert "<script>alert(" not in text_of(response)


def test_the_admin_shows_the_request_escaped(staff, client, eager_tasks):
    hostile = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"
    client.post(reverse("privacy_policy"), form_data(message=hostile))
    (stored,) = platform_requests()
    _verified_admin(client, staff)
    page = text_of(client.get(reverse("admin:privacy_platform_request", args=[stored.pk])))
    assert html.escape(hostile) in page and hostile not in page


def test_beat_reminds_once_then_expires_an_unconfirmed_request_to_logicnet(db, mailbox):
    from privacy.services.requests import submit_request, sweep_request_mail

    received = timezone.now() - datetime.timedelta(days=30)
    stored = submit_request(
        organization=platform.platform_controller(), rights=["erasure"], email="late@example.com", received_at=received
    )
    assert sweep_request_mail(now=received + datetime.timedelta(minutes=6)) == 1  # the confirmation owed
    mailbox.wait_for("late@example.com", subject="Confirm your privacy request to Logicnet", timeout=1)
    assert sweep_request_mail(now=received + datetime.timedelta(hours=25)) == 1
    mailbox.wait_for("late@example.com", subject="Reminder: confirm your privacy request to Logicnet", timeout=1)
    assert sweep_request_mail(now=received + datetime.timedelta(days=7, minutes=6)) == 1
    (expired,) = platform_requests()
    assert expired.pk == stored.pk and expired.status == Status.EXPIRED


# --- the staff's side ---------------------------------------------------------------------------------


def _action(client, privacy_request, action: str, **data):
    return client.post(reverse("admin:privacy_platform_request", args=[privacy_request.pk]), {"action": action, **data})


def test_staff_answer_access_and_erasure_for_an_account_holder(
    staff, client, alice, bob, org_a, mailbox, eager_tasks, settings
):
    # Alice, an account holder, asks Logicnet for her data and its erasure.
    client.post(
        reverse("privacy_policy"), form_data(email=alice.email, rights=["access", "erasure"], message="Alice here")
    )
    (stored,) = platform_requests()
    link = path_of(first_link(mailbox.wait_for(alice.email, subject="Confirm your privacy request to Logicnet")))
    client.post(link)

    # Only platform staff see Logicnet's requests; customers' staff do not reach the admin.
    client.force_login(alice)
    assert client.get(reverse("admin:privacy_platform_requests")).status_code in (302, 403)
    desk = Client()  # the platform administrator, in the admin
    _verified_admin(desk, staff)
    queue = text_of(desk.get(reverse("admin:privacy_platform_requests")))
    assert stored.reference in queue
    assert reverse("admin:privacy_platform_requests") in text_of(
        desk.get(reverse("admin:privacy_privacyrequest_changelist"))
    )
    page = text_of(desk.get(reverse("admin:privacy_platform_request", args=[stored.pk])))
    assert alice.email in page and "Alice here" in page and "This is the person" in page

    # Before the account holder is confirmed nothing is fulfilled.
    refused = _action(desk, stored, "package")
    assert refused.status_code == 400 and "Confirm the account holder first" in text_of(refused)
    assert _action(desk, stored, "confirm_account", user=str(bob.pk)).status_code == 400  # not the address's
    assert _action(desk, stored, "confirm_account", user=str(alice.pk)).status_code == 302
    controller = platform.platform_controller()
    with tenant_context(controller):
        stored = PrivacyRequest.objects.get(pk=stored.pk)
    assert stored.account_holder_id == alice.pk and stored.status == Status.VERIFIED

    # Access: the package is built from the registry's user subject kind and mailed to Alice.
    assert _action(desk, stored, "package").status_code == 302
    with user_context(alice):
        package = AccountDataPackage.objects.get(user=alice)
    assert package.state == AccountDataPackage.State.READY
    mail = mailbox.wait_for(alice.email, subject="Your data is ready to download")
    client.force_login(alice)  # the link opens only signed in as Alice
    download = client.get(re.search(r"https?://\S+", mail.get_content()).group(0).removeprefix(settings.SITE_URL))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"

    # Erasure is refused while Alice is the only owner of an organization with other members.
    refused = _action(desk, stored, "erase")
    assert refused.status_code == 400 and "only owner of Alpha SRL" in text_of(refused)
    assert User.objects.filter(pk=alice.pk, is_active=True).exists()
    change_member_role(organization=org_a, actor=alice, membership=Membership.objects.get(user=bob), role=Role.OWNER)
    assert _action(desk, stored, "erase").status_code == 302

    # The account is erased through the registry; what must be kept stays.
    assert not User.objects.filter(pk=alice.pk).exists()
    assert Organization.objects.get(pk=org_a.pk).is_active
    assert list(Membership.objects.filter(organization=org_a).values_list("user_id", flat=True)) == [bob.pk]
    with tenant_context(controller):
        kept = PrivacyRequest.objects.get(pk=stored.pk)
        # The request stays as proof it was answered (Art. 5(2)); what identifies the person
        # is blanked by the registry, as for an organization's contact.
        assert kept.account_holder_id is None
        assert (kept.email, kept.message) == ("", "")
        assert (kept.reference, kept.due_on) == (stored.reference, stored.due_on)
    assert events_of(kept).count(Event.JOB_STARTED) == 2
    with platform_reads():
        actions = set(AuditEvent.objects.filter(actor_id=staff.pk).values_list("action", flat=True))
        assert {
            "privacy.account_holder_confirmed",
            "privacy.platform_account_package",
            "privacy.platform_account_erasure",
            "account.deletion_requested",
        } <= actions
        assert AuditEvent.objects.filter(action="account.erased").count() == 1
    assert verify_audit_log().intact

    assert _action(desk, kept, "move", status=Status.COMPLETED).status_code == 302
    with tenant_context(controller):
        assert PrivacyRequest.objects.get(pk=stored.pk).status == Status.COMPLETED


def test_staff_extend_and_refuse_with_reasons_and_the_right_to_complain(staff, client, mailbox, eager_tasks):
    client.post(reverse("privacy_policy"), form_data())
    (stored,) = platform_requests()
    client.post(path_of(first_link(mailbox.wait_for("visitor@example.com", subject="Confirm"))))
    _verified_admin(client, staff)
    assert _action(client, stored, "extend", text="").status_code == 400  # a reason is required
    assert _action(client, stored, "extend", text="Many systems to search").status_code == 302
    extended = mailbox.wait_for("visitor@example.com", subject="the deadline is extended")
    assert "Many systems to search" in extended.get_content()
    assert _action(client, stored, "deny", text="").status_code == 400
    assert _action(client, stored, "deny", text="We hold no data about this address").status_code == 302
    refusal = mailbox.wait_for("visitor@example.com", subject="was refused")
    body = refusal.get_content()
    assert "We hold no data about this address" in body and "ANSPDCP" in body
    with tenant_context(platform.platform_controller()):
        assert PrivacyRequest.objects.get(pk=stored.pk).status == Status.DENIED


# --- who reaches the staff's pages ------------------------------------------------------------------


def test_only_verified_platform_staff_reach_the_pages_and_only_logicnets_requests(
    staff, client, alice, org_a, settings
):
    from privacy.services.requests import submit_request

    client.post(reverse("privacy_policy"), form_data())
    (own,) = platform_requests()
    customers = submit_request(
        organization=org_a, rights=["access"], email="secret.customer@example.com", channel="staff"
    )
    pages = [
        reverse("admin:privacy_platform_requests"),
        reverse("admin:privacy_platform_request", args=[own.pk]),
    ]
    for page in pages:
        anonymous = Client().get(page)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("admin:login"))
    client.force_login(alice)  # an account holder, not staff
    for page in pages:
        assert client.get(page).status_code == 302
        assert client.post(page, {"action": "note", "text": "x"}).status_code == 302

    desk = Client()
    _verified_admin(desk, staff)
    for page in pages:
        assert desk.get(page).status_code == 200
    # A customer's request is not Logicnet's: the same 404 as an id that does not exist.
    other = desk.get(reverse("admin:privacy_platform_request", args=[customers.pk]))
    assert other.status_code == 404 and b"secret.customer@example.com" not in other.content
    assert (
        desk.post(
            reverse("admin:privacy_platform_request", args=[customers.pk]), {"action": "deny", "text": "no"}
        ).status_code
        == 404
    )
    with tenant_context(org_a):
        assert PrivacyRequest.objects.get(pk=customers.pk).status == Status.RECEIVED
    assert b"secret.customer@example.com" not in desk.get(reverse("admin:privacy_platform_requests") + "?all=1").content
    # The customer web process serves no admin page.
    settings.PLATFORM_DATABASE = None
    for page in pages:
        assert desk.get(page).status_code == 404
