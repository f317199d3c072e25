"""Records and notices: the records of processing (GDPR Art. 30) generated from the
personal-data registry, the sub-processor list and its change notices, privacy policy
versions with their acceptance, and the public report of a child's data. Real PostgreSQL
and Redis, real SMTP (aiosmtpd); Celery runs eagerly where a test sends work after commit."""

from __future__ import annotations

import csv
import datetime
import html
import io
import uuid

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from accounts.services import set_privacy_officer
from logicnet.audit.models import AuditEvent
from logicnet.personal_data.registry import Category, Role, registry
from logicnet.tenancy.context import tenant_context, user_context
from logicnet.tenancy.roles import Role as MemberRole
from notices import records
from notices.models import PolicyAcceptance, PolicyVersion, SubProcessorChange, SubProcessorObjection
from notices.services import policy, subprocessors
from privacy.models import PrivacyRequest
from privacy.services.requests import submit_request
from tests.factories import make_member, make_user
from tests.smtp import first_link

NO_LIMITS = {"client": "1000/h", "email": "1000/h"}


@pytest.fixture
def officer(org_a, alice):
    user = make_user("dana@example.com", "Dana Delta")
    membership = make_member(org_a, user, MemberRole.MEMBER)
    set_privacy_officer(organization=org_a, actor=alice, membership=membership, value=True)
    return user


def _classified_personal_rules():
    for model in registry.models_to_check(apps.get_models()):
        for name, rule in registry.rules_for(model).items():
            if rule.personal:
                yield f"{model._meta.label}.{name}", rule


# --- records of processing ---------------------------------------------------------------------------


def test_the_records_of_processing_list_every_classified_category_and_purpose(db, org_a):
    with tenant_context(org_a):
        processor = records.processor_record(org_a)
    controller = records.controller_record()
    activities = {a.key: a for a in [*controller.activities, *processor.activities]}

    # Every purpose of the registry is an activity, in the record of its role.
    assert set(activities) == set(registry.purposes)
    assert {a.key for a in controller.activities} == {
        k for k, p in registry.purposes.items() if p.role == Role.CONTROLLER
    }
    assert {a.key for a in processor.activities} == {
        k for k, p in registry.purposes.items() if p.role == Role.PROCESSOR
    }

    # Every classified personal field is listed under its purpose, with its category.
    classified = list(_classified_personal_rules())
    assert len(classified) > 50
    categories_used = set()
    for where, rule in classified:
        activity = activities[rule.purpose]
        assert where in activity.fields, f"{where} is missing from the activity {rule.purpose}"
        assert str(Category(rule.category).label) in activity.categories, where
        categories_used.add(rule.category)
    listed = {c for a in activities.values() for c in a.categories}
    assert listed == {str(Category(c).label) for c in categories_used}

    # A field classified today is in today's record: nothing is listed that is not classified.
    assert sum(len(a.fields) for a in activities.values()) == len(classified)
    assert processor.controller["name"] == org_a.name and processor.processor["name"] == "Logicnet"


def test_a_new_classified_purpose_appears_in_the_record_without_any_other_change(db, monkeypatch):
    from logicnet.personal_data.registry import Purpose

    monkeypatch.setitem(
        registry.purposes, "test_only", Purpose("test_only", "a purpose declared just now", "f", Role.CONTROLLER)
    )
    assert "a purpose declared just now" in [a.name for a in records.controller_record().activities]


def test_the_organization_record_as_html_and_csv_for_admins_owners_and_officers(
    client, org_a, org_b, alice, bob, charlie, officer
):
    html_url = reverse("processing_records", kwargs={"org_slug": org_a.slug})
    csv_url = reverse("processing_records_csv", kwargs={"org_slug": org_a.slug})
    customer_purpose = str(registry.purposes["customer_relationships"].name)

    for user in (alice, officer):
        client.force_login(user)
        page = client.get(html_url)
        assert page.status_code == 200
        text = page.content.decode()
        assert "Art. 30(2)" in text and "Alpha SRL" in text
        assert html.escape(capfirst(customer_purpose)) in text
        assert str(Category.CONTACT.label) in text

    download = client.get(csv_url)
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    purposes = {row[3] for row in rows[1:]}
    assert purposes == {str(p.name) for p in registry.purposes.values() if p.role == Role.PROCESSOR}
    assert all(row[0] == "Art. 30(2)" and row[1] == "Alpha SRL" for row in rows[1:])
    assert any("contacts.Contact.email" in row[-1] for row in rows[1:])

    client.force_login(bob)  # a plain member
    assert client.get(html_url).status_code == 403
    assert client.get(csv_url).status_code == 403
    client.force_login(charlie)  # another organization's owner
    assert client.get(html_url).status_code == 404
    assert client.get(csv_url).status_code == 404


def test_the_csv_neutralises_a_formula_in_the_controllers_name(client, alice, db):
    from accounts.services import create_organization

    organization = create_organization(name="=HYPERLINK(1)", owner=alice)
    client.force_login(alice)
    download = client.get(reverse("processing_records_csv", kwargs={"org_slug": organization.slug}))
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[1][1] == "'=HYPERLINK(1)"


# --- sub-processors ------------------------------------------------------------------------------------


def test_the_subprocessor_list_is_public_and_comes_from_the_registry(client, db):
    page = client.get("/privacy/subprocessors/")
    assert page.status_code == 200
    text = page.content.decode()
    assert registry.sub_processors
    for sub in registry.sub_processors.values():
        assert str(sub.name) in text and str(sub.location) in text
        assert sub.in_eea
    # The policy links to it.
    assert reverse("subprocessors") in client.get(reverse("privacy_policy")).content.decode()


def test_a_subprocessor_change_is_mailed_to_owners_who_may_object_in_the_window(
    client, org_a, org_b, alice, bob, charlie, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        change = subprocessors.announce_change(actor=None, summary="Added: Example Mail GmbH (mail; Germany)")
    for owner in (alice, charlie):
        message = mailbox.wait_for(owner.email, subject="sub-processors")
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "Example Mail GmbH" in body
    assert not [m for rcpt, m in mailbox.messages if bob.email in rcpt]  # a plain member is not mailed
    change.refresh_from_db()
    assert change.notices_finished_at is not None
    assert change.objection_until - change.announced_at == datetime.timedelta(days=30)

    url = reverse("organization_subprocessors", kwargs={"org_slug": org_a.slug})
    client.force_login(bob)
    assert client.post(url, {"change": change.pk}).status_code == 403
    client.force_login(charlie)
    assert client.get(url).status_code == 404

    client.force_login(alice)
    page = client.get(url)
    assert "Object to this change" in page.content.decode()
    assert client.post(url, {"change": change.pk}).status_code == 302
    assert client.post(url, {"change": change.pk}).status_code == 302  # twice: one objection
    with tenant_context(org_a):
        objections = list(SubProcessorObjection.objects.filter(organization=org_a))
    assert [(o.change_id, o.objected_by_id) for o in objections] == [(change.pk, alice.pk)]
    with tenant_context(org_a):
        assert AuditEvent.objects.filter(action="subprocessors.objected").count() == 1
    assert "Objected on" in client.get(url).content.decode()


def test_no_objection_after_the_window_closes(client, org_a, alice):
    change = SubProcessorChange.objects.create(
        summary="Removed: Old Host", objection_until=timezone.now() - datetime.timedelta(minutes=1)
    )
    client.force_login(alice)
    url = reverse("organization_subprocessors", kwargs={"org_slug": org_a.slug})
    response = client.post(url, {"change": change.pk}, follow=True)
    assert "The time to object to this change has passed." in response.content.decode()
    with tenant_context(org_a):
        assert not SubProcessorObjection.objects.filter(organization=org_a).exists()


# --- privacy policy versions ---------------------------------------------------------------------------


def _signed_up(user):
    """As sign-up leaves an account: the current version accepted."""
    policy.accept_current(user=user)
    user.refresh_from_db()
    return user


def test_version_one_is_the_seed_policy_and_sign_up_accepts_it(client, db):
    version = policy.current_version()
    assert version.number == 1 and version.template == "accounts/privacy_policy_{language}.html"
    assert version.content_hash == policy.template_hash(version.template)
    from accounts.services import complete_signup

    user = make_user("ioana@firma.ro", "Ioana")
    complete_signup(user=user, full_name="Ioana Pop", phone="", company_name="", ip_address=None)
    user.refresh_from_db()
    assert user.age_confirmed_at is not None
    assert user.privacy_policy_version == "1"
    with user_context(user):
        assert list(PolicyAcceptance.objects.values_list("version__number", flat=True)) == [1]
    # Under row-level security nobody else sees them: another user's context shows none.
    with user_context(make_user("other@example.com")):
        assert not PolicyAcceptance.objects.filter(user=user).exists()


def test_a_new_version_is_mailed_shown_as_a_banner_until_accepted_and_the_acceptance_recorded(
    client, org_a, alice, bob, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    alice, bob = _signed_up(alice), _signed_up(bob)
    client.force_login(alice)
    home = reverse("dashboard", kwargs={"org_slug": org_a.slug})
    assert "Our privacy policy has changed" not in client.get(home).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        version = policy.publish_version(
            actor=None,
            text_en="We now keep sessions for 7 days.",
            text_ro="Păstrăm acum sesiunile 7 zile.",
            changes_en="Sessions are kept 7 days instead of 14.",
            changes_ro="Sesiunile se păstrează 7 zile în loc de 14.",
        )
    assert version.number == 2
    for user in (alice, bob):
        message = mailbox.wait_for(user.email, subject="version 2")
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "Sessions are kept 7 days instead of 14." in body
        assert first_link(message).endswith(reverse("privacy_policy"))
    version.refresh_from_db()
    assert version.notices_finished_at is not None and version.notified_through >= bob.pk
    # Running the notice again (a retry, beat's sweep) mails nobody twice.
    assert policy.send_policy_notices(version_id=version.pk) == 0

    page = client.get(home).content.decode()
    assert "Our privacy policy has changed" in page
    policy_page = client.get(reverse("privacy_policy"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "We now keep sessions for 7 days." in policy_page and "Version 2" in policy_page

    response = client.post(reverse("privacy_policy_accept"), {"next": home})
    assert response.status_code == 302 and response["Location"] == home
    assert "Our privacy policy has changed" not in client.get(home).content.decode()
    alice.refresh_from_db()
    assert alice.privacy_policy_version == "2"
    with user_context(alice):
        accepted = PolicyAcceptance.objects.filter(user=alice).order_by("version__number")
        assert [a.version.number for a in accepted] == [1, 2]
    # An offsite "next" is not followed.
    response = client.post(reverse("privacy_policy_accept"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_publishing_needs_both_languages_and_a_summary(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        policy.publish_version(actor=None, text_en="Only English.", changes_en="x", changes_ro="y")
    with pytest.raises(ValidationError):
        policy.publish_version(actor=None, text_en="a", text_ro="b")
    assert PolicyVersion.objects.filter(number__gt=1).count() == 0


# --- a report of a child's data -------------------------------------------------------------------------


def _child_url(organization) -> str:
    return reverse("public_privacy_child", kwargs={"org_slug": organization.slug})


def test_a_report_of_a_childs_data_is_a_priority_request_first_in_the_desk(
    client, org_a, alice, settings, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    settings.PRIVACY_REQUEST_RATE_LIMITS = NO_LIMITS
    with tenant_context(org_a):
        earlier = submit_request(
            organization=org_a,
            rights=["access"],
            email="older@example.com",
            channel=PrivacyRequest.Channel.STAFF,
            received_at=timezone.now() - datetime.timedelta(days=20),
        )
    page = client.get(_child_url(org_a))
    assert page.status_code == 200
    data = {
        "relationship": "parent",
        "details": "My son Matei, 12, gets your newsletter at matei@example.com",
        "email": "parent@example.com",
        "website": "",
        "submission": uuid.uuid4().hex,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_child_url(org_a), data)
    assert response.status_code == 302
    mailbox.wait_for("parent@example.com", subject="Confirm")
    with tenant_context(org_a):
        report = PrivacyRequest.objects.get(organization=org_a, email_index__isnull=False, priority=True)
        assert report.rights == ["erasure"]
        assert "matei@example.com" in report.message and "parent or guardian" in report.message

    client.force_login(alice)
    queue = client.get(reverse("privacy_desk", kwargs={"org_slug": org_a.slug})).content.decode()
    assert queue.index(report.reference) < queue.index(earlier.reference)  # first, though due later
    assert "Priority: a child's data" in queue


def test_the_child_report_form_keeps_the_honeypot_and_the_double_submit_guard(client, org_a, settings):
    settings.PRIVACY_REQUEST_RATE_LIMITS = NO_LIMITS
    data = {"relationship": "other", "details": "A child's profile", "email": "x@example.com", "website": "http://spam"}
    assert client.post(_child_url(org_a), {**data, "submission": uuid.uuid4().hex}).status_code == 302
    nonce = uuid.uuid4().hex
    data["website"] = ""
    client.post(_child_url(org_a), {**data, "submission": nonce})
    client.post(_child_url(org_a), {**data, "submission": nonce})
    with tenant_context(org_a):
        assert PrivacyRequest.objects.filter(organization=org_a, priority=True).count() == 1
    invalid = client.post(_child_url(org_a), {"relationship": "nobody", "details": "", "email": "not-an-email"})
    assert invalid.status_code == 200


# --- the admin (platform staff, in the admin process) ---------------------------------------------------


@pytest.fixture
def platform_admin(platform_db):
    from accounts.models import User

    user = make_user("root@logicnet.example", "Platform Admin")
    User.objects.using("platform").filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return user


def _verified(client, user) -> None:
    from tests.test_admin import _verified_admin

    _verified_admin(client, user)


def test_staff_read_logicnets_own_record_in_the_admin_as_html_and_csv(client, platform_admin):
    _verified(client, platform_admin)
    page = client.get(reverse("admin:notices_records_of_processing"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Art. 30(1)" in text
    for purpose in registry.purposes.values():
        if purpose.role == Role.CONTROLLER:
            assert html.escape(capfirst(str(purpose.name))) in text
    download = client.get(reverse("admin:notices_records_of_processing_csv"))
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert {row[0] for row in rows[1:]} == {"Art. 30(1)"}
    assert "accounts.User.email" in " ".join(row[-1] for row in rows[1:])


def test_staff_publish_a_version_and_add_a_subprocessor_from_the_admin(
    client, platform_admin, mailbox, eager_tasks, settings
):
    from django_scopes import scopes_disabled

    owner = make_user("owner@example.com", "Olga Owner")
    from accounts.services import create_organization

    organization = create_organization(name="Gamma SRL", owner=owner)
    _signed_up(owner)
    _verified(client, platform_admin)

    response = client.post(
        reverse("admin:notices_policyversion_add"),
        {
            "template": "",
            "text_en": "New text.",
            "text_ro": "Text nou.",
            "changes_en": "We shortened the retention of sessions.",
            "changes_ro": "Am scurtat păstrarea sesiunilor.",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    message = mailbox.wait_for(owner.email, subject="version 2")
    assert "We shortened the retention of sessions." in message.get_body(preferencelist=("plain",)).get_content()
    with scopes_disabled():
        version = PolicyVersion.objects.using("platform").get(number=2)
    assert version.content_hash == policy.text_hash("New text.", "Text nou.")
    # A published version is never edited.
    assert client.post(reverse("admin:notices_policyversion_change", args=[version.pk]), {}).status_code == 403

    response = client.post(
        reverse("admin:notices_subprocessor_add"),
        {"key": "backup", "name": "Example Backup SA", "service": "off-site backups", "location": "Romania"},
    )
    assert response.status_code == 302
    message = mailbox.wait_for(owner.email, subject="sub-processors")
    assert "Added: Example Backup SA" in message.get_body(preferencelist=("plain",)).get_content()
    assert "Example Backup SA" in client.get(reverse("subprocessors")).content.decode()
    assert organization.slug in first_link(message) or "/privacy/subprocessors/" in first_link(message)


def test_the_records_command_prints_either_record_as_csv(org_a):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("records_of_processing", stdout=out)
    assert {row[0] for row in list(csv.reader(io.StringIO(out.getvalue())))[1:]} == {"Art. 30(1)"}
    out = io.StringIO()
    call_command("records_of_processing", organization=org_a.slug, stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    assert {(row[0], row[1]) for row in rows} == {("Art. 30(2)", "Alpha SRL")}
