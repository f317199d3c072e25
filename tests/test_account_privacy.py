"""The account holder's rights over their own data at /account/privacy/ (Logicnet is the
controller), and Logicnet's own privacy policy at /privacy/."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import AccountDataPackage, Membership, Organization, User
from accounts.services import change_member_role
from contacts.models import Contact
from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditEvent
from logicnet.audit.services import verify_audit_log
from logicnet.tenancy.context import platform_reads, tenant_context, user_context
from logicnet.tenancy.roles import Role
from tests.factories import PASSWORD, make_organization


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    """Each test its own audit anchor file and package folder."""
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"
    settings.ACCOUNT_PACKAGES_DIR = tmp_path / "account-packages"


def _mail_to(mailbox, address: str) -> list:
    return [message for to, message in mailbox.messages if to == [address]]


# --- correct my data -----------------------------------------------------------------------------


def test_the_page_is_linked_from_the_account_menu(client, alice):
    client.force_login(alice)
    page = client.get(reverse("sessions")).content.decode()
    assert reverse("account_privacy") in page
    response = client.get(reverse("account_privacy"))
    assert response.status_code == 200
    assert reverse("account_email") in response.content.decode()  # email changes stay with allauth


def test_correcting_my_details_changes_them_and_audits_without_values(platform_db, client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("account_details"), {"full_name": "  Alice   Albescu ", "phone": "12", "language": "ro"}
    )
    assert response.status_code == 400  # not a phone number
    response = client.post(
        reverse("account_details"), {"full_name": "  Alice   Albescu ", "phone": "+40 721 234 567", "language": "ro"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.full_name, alice.phone, alice.language) == ("Alice Albescu", "+40721234567", "ro")
    with platform_reads():
        event = AuditEvent.objects.get(action="account.details_corrected", actor_id=alice.pk)
    assert sorted(event.details["fields"]) == ["full_name", "language", "phone"]
    assert "Albescu" not in str(event.details) and "721" not in str(event.details)


# --- download my data ------------------------------------------------------------------------------


def test_download_my_data_builds_a_sealed_package_with_my_data_only(
    platform_db, client, alice, bob, charlie, org_a, org_b, mailbox, eager_tasks, settings
):
    client.force_login(alice)
    response = client.post(reverse("account_package_request"))
    assert response.status_code == 302

    with user_context(alice):
        package = AccountDataPackage.objects.get(user=alice)
    assert package.state == AccountDataPackage.State.READY and package.size > 0
    sealed = (settings.ACCOUNT_PACKAGES_DIR / f"package-{package.pk}.zip.sealed").read_bytes()
    assert b"alice@example.com" not in sealed and not sealed.startswith(b"PK")  # sealed at rest

    [mail] = _mail_to(mailbox, "alice@example.com")
    link = re.search(r"https?://\S+", mail.get_content()).group(0)
    path = link.removeprefix(settings.SITE_URL)
    assert path.startswith("/account/privacy/package/")

    # Another user (even one holding the link) gets nothing, as if it did not exist.
    client.force_login(bob)
    assert client.get(path).status_code == 404

    client.force_login(alice)
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        everything = "\n".join(archive.read(name).decode("utf-8-sig") for name in names)
    assert {"data.json", "index.html", "schema.json", "tables/accounts_user.csv"} <= names
    assert "alice@example.com" in everything and "Alice Alpha" in everything
    for other in ("bob@example.com", "Bob Beta", "charlie@example.org", "Charlie Gamma"):
        assert other not in everything
    with platform_reads():
        assert AuditEvent.objects.filter(action="account.package_downloaded", actor_id=alice.pk).count() == 1

    # The page offers it too, to its owner.
    assert "Download your data (zip)" in client.get(reverse("account_privacy")).content.decode()


def test_an_old_package_is_gone(platform_db, client, alice, eager_tasks, settings):
    import os
    import time

    from accounts.account_rights import delete_expired_packages, download_url

    client.force_login(alice)
    client.post(reverse("account_package_request"))
    with user_context(alice):
        package = AccountDataPackage.objects.get(user=alice)
    path = settings.ACCOUNT_PACKAGES_DIR / f"package-{package.pk}.zip.sealed"
    old = time.time() - settings.ACCOUNT_PACKAGE_RETENTION.total_seconds() - 60
    os.utime(path, (old, old))
    assert delete_expired_packages() == 1
    assert not path.exists()
    assert client.get(download_url(package)).status_code == 404


# --- marketing objection and restriction -------------------------------------------------------------


def test_objecting_to_marketing_takes_effect_at_once(client, alice):
    assert alice.may_receive_marketing
    client.force_login(alice)
    client.post(reverse("account_marketing"), {"objected": "1"})
    alice.refresh_from_db()
    assert alice.marketing_opt_out_at is not None and not alice.may_receive_marketing
    assert "Withdraw my objection" in client.get(reverse("account_privacy")).content.decode()
    client.post(reverse("account_marketing"), {"objected": "0"})
    alice.refresh_from_db()
    assert alice.marketing_opt_out_at is None and alice.may_receive_marketing


def test_restricting_processing_is_recorded_shown_and_stops_marketing(client, alice):
    client.force_login(alice)
    client.post(reverse("account_restriction"), {"restricted": "1"})
    alice.refresh_from_db()
    assert alice.processing_restricted_at is not None and not alice.may_receive_marketing
    assert "Lift the restriction" in client.get(reverse("account_privacy")).content.decode()


# --- delete my account ---------------------------------------------------------------------------------


def test_deleting_is_blocked_while_sole_owner_then_erases_the_account(
    platform_db, client, alice, bob, org_a, mailbox, eager_tasks
):
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "owner": alice})
    solo = make_organization("Solo SRL", owner=alice)
    client.force_login(alice)

    page = client.get(reverse("account_privacy")).content.decode()
    assert "Alpha SRL" in page and reverse("members", args=[org_a.slug]) in page  # the way out
    response = client.post(reverse("account_delete"), {"confirmation": "alice@example.com"})
    assert response.status_code == 400
    assert "only owner of Alpha SRL" in response.content.decode()
    assert User.objects.filter(pk=alice.pk, is_active=True, deletion_requested_at=None).exists()

    # The way out: make bob owner. Solo SRL (alice alone) goes with the account.
    change_member_role(organization=org_a, actor=alice, membership=Membership.objects.get(user=bob), role=Role.OWNER)
    page = client.get(reverse("account_privacy")).content.decode()
    assert "Solo SRL" in page and "deleted with your account" in page

    wrong = client.post(reverse("account_delete"), {"confirmation": "not-my-password"})
    assert wrong.status_code == 400 and User.objects.filter(pk=alice.pk).exists()

    response = client.post(reverse("account_delete"), {"confirmation": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("account_login")

    assert not User.objects.filter(pk=alice.pk).exists()
    assert client.get(reverse("account_privacy")).status_code == 302  # signed out
    assert not client.login(email="alice@example.com", password=PASSWORD)
    [mail] = _mail_to(mailbox, "alice@example.com")
    assert "deleted" in mail["Subject"] and "Solo SRL" in mail.get_content()
    # Alpha SRL, its other owner and its contacts stay; the contact just lost its owner.
    assert Organization.objects.get(pk=org_a.pk).is_active
    assert list(Membership.objects.filter(organization=org_a).values_list("user_id", "role")) == [(bob.pk, Role.OWNER)]
    with tenant_context(org_a):
        kept = Contact.objects.get(pk=contact.pk)
        assert kept.first_name == "Ana" and kept.owner_id is None
    # Solo SRL was offboarded with the account.
    assert not Organization.objects.get(pk=solo.pk).is_active
    assert not Membership.objects.filter(organization=solo).exists()
    with platform_reads():
        assert AuditEvent.objects.filter(action="account.erased").count() == 1
    assert verify_audit_log().intact


# --- Logicnet's own privacy policy --------------------------------------------------------------------


def test_the_privacy_policy_is_public_in_english_and_romanian(client, settings, db):
    # The pages activate the language they serve; the block puts the test's own back, so the
    # Romanian page leaves no Romanian behind for the tests that follow.
    with translation.override("en"):
        english = client.get(reverse("privacy_policy"), HTTP_ACCEPT_LANGUAGE="en")
        assert english.status_code == 200
        text = english.content.decode()
        assert "Logicnet privacy policy" in text and "ANSPDCP" in text
        assert "Version 1." in text and settings.PRIVACY_CONTACT_EMAIL in text
        assert "/p/&lt;organization&gt;/privacy/" in text and reverse("account_privacy") in text
        assert "GDPR Art. 6(1)(b)" in text  # the legal bases, from the registry

        romanian = client.get(reverse("privacy_policy"), HTTP_ACCEPT_LANGUAGE="ro")
        assert "Politica de confidențialitate Logicnet" in romanian.content.decode()
        assert "ANSPDCP" in romanian.content.decode()

        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ro"
        assert "Drepturile dumneavoastră" in client.get(reverse("privacy_policy")).content.decode()


def test_the_policy_is_linked_from_the_footer_and_sign_up(client):
    page = client.get(reverse("account_signup")).content.decode()
    assert page.count(reverse("privacy_policy")) >= 2  # the footer and the consent checkbox


def test_an_interrupted_erasure_is_resumed_by_the_sweep(platform_db, bob, charlie, mailbox, eager_tasks):
    """A worker killed after the confirmation leaves the user inactive with the request time
    set; the beat sweep queues the erasure again, and it completes."""
    import datetime

    from django.utils import timezone

    from accounts.account_rights import resume_account_deletions

    long_ago = timezone.now() - datetime.timedelta(hours=1)
    User.objects.filter(pk=bob.pk).update(deletion_requested_at=long_ago, is_active=False)
    User.objects.filter(pk=charlie.pk).update(deletion_requested_at=timezone.now())  # just asked: not yet

    assert resume_account_deletions() == 1
    assert not User.objects.filter(pk=bob.pk).exists()
    assert User.objects.filter(pk=charlie.pk).exists()
    assert _mail_to(mailbox, "bob@example.com")
