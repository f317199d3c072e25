"""Platform administration: the admin shows organizations, users, memberships, jobs, the audit
log, privacy requests and breaches as metadata, and no tenant personal data unless the
organization granted time-limited support access, which is audited and listed to it."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from django.contrib import admin as django_admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Organization, User
from contacts.models import Contact
from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditEvent
from logicnet.encryption.exceptions import OrganizationKeyMissing
from logicnet.encryption.keys import organization_keys
from logicnet.personal_data.registry import registry
from logicnet.tenancy.context import platform_reads, tenant_context, withhold_tenant_keys
from logicnet.tenancy.rls import tenant_models
from privacy.models import PrivacyRequest
from privacy.services.requests import submit_request
from support.models import SupportAccessGrant, SupportAccessLog
from support.services import grants
from tests.factories import make_user
from tests.test_admin import _verified_admin

SECRET_NAME = "Zamfira"
SECRET_EMAIL = "zamfira.unica@client.example"


@pytest.fixture
def staff(platform_db):
    user = make_user("root@logicnet.example", "Platform Admin")
    User.objects.using("platform").filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return user


@pytest.fixture
def secret_contact(org_a, alice):
    return create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": SECRET_NAME, "last_name": "Unică", "email": SECRET_EMAIL, "notes": "Prefers mornings."},
    )


def _events(action: str) -> list[AuditEvent]:
    with scopes_disabled():
        return list(AuditEvent.objects.using("platform").filter(action=action).order_by("pk"))


# --- two-factor -------------------------------------------------------------------------------------


def test_the_admin_refuses_staff_without_two_factor(client, staff):
    """Signed in with the password alone (no device, or a device not verified in this
    session): every admin page sends staff to the admin's sign-in, which asks for the code."""
    client.force_login(staff)
    for name in ("admin:index", "admin:accounts_organization_changelist", "admin:support_supportrequest_changelist"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), name
    login = client.get(reverse("admin:login"))
    assert b'name="otp_token"' in login.content


def test_the_admin_sign_in_needs_the_code(staff):
    from django.test import Client

    from tests.factories import PASSWORD
    from tests.test_admin import _enable

    device = _enable(staff)
    client = Client()
    refused = client.post(
        reverse("admin:login"),
        {"username": staff.email, "password": PASSWORD, "otp_device": device.persistent_id, "otp_token": "000000"},
    )
    assert refused.status_code == 200  # the form again, with its error
    assert client.get(reverse("admin:index")).status_code == 302


# --- metadata only ------------------------------------------------------------------------------------


def _registered_tenant_admins():
    tenant = set(tenant_models())
    return [(model, model_admin) for model, model_admin in django_admin.site._registry.items() if model in tenant]


def test_no_admin_page_shows_an_encrypted_field_of_a_tenant_model():
    """An encrypted field is tenant personal data: no registered admin lists, shows or
    searches one (the support views, under a grant, are the only way to it)."""
    offending = []
    for model, model_admin in django_admin.site._registry.items():
        encrypted = {f.name for f in model._meta.concrete_fields if getattr(f, "encrypted", False)}
        if not encrypted:
            continue
        shown = set(model_admin.list_display) | set(model_admin.search_fields)
        shown |= set(model_admin.fields or [])
        for _name, options in model_admin.fieldsets or []:
            shown |= set(options.get("fields", []))
        if model_admin.fields is None and not model_admin.fieldsets:
            shown |= {f.name for f in model._meta.concrete_fields if f.editable}
        if shown & encrypted:
            offending.append(f"{model._meta.label}: {sorted(shown & encrypted)}")
    assert offending == []


def test_admin_pages_do_not_reveal_tenant_personal_data(client, staff, org_a, alice, secret_contact):
    submit_request(organization=org_a, rights=["access"], email=SECRET_EMAIL, channel=PrivacyRequest.Channel.STAFF)
    _verified_admin(client, staff)
    pages = [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in django_admin.site._registry]
    with scopes_disabled():
        for model, _model_admin in _registered_tenant_admins():
            row = model.objects.using("platform").filter(organization=org_a).first()
            if row is not None:
                with contextlib.suppress(NoReverseMatch):
                    pages.append(
                        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[row.pk])
                    )
    assert any("privacyrequest" in page for page in pages)
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert SECRET_NAME.encode() not in response.content, page
        assert SECRET_EMAIL.encode() not in response.content, page


def test_no_data_key_is_handed_out_to_an_admin_page(org_a, secret_contact, platform_db):
    """The database wall's twin: the platform role reads the row, but outside the
    organization's own tenant context its data key is refused under the admin's pages."""
    with withhold_tenant_keys(), platform_reads():
        with pytest.raises(OrganizationKeyMissing):
            organization_keys(org_a.pk)
        with tenant_context(org_a):
            assert organization_keys(org_a.pk) is not None
    with platform_reads():  # an audited platform job still decrypts (a sweep, an erasure)
        assert organization_keys(org_a.pk) is not None


# --- support access ------------------------------------------------------------------------------------


def _contacts_url(organization) -> str:
    return reverse("admin:support_access_contacts", args=[organization.pk])


def test_tenant_data_is_unreadable_without_a_grant_and_readable_with_one(
    client, staff, org_a, org_b, alice, charlie, secret_contact
):
    _verified_admin(client, staff)
    refused = client.get(_contacts_url(org_a))
    assert refused.status_code == 403
    assert SECRET_NAME.encode() not in refused.content
    assert client.get(reverse("admin:support_access_contact", args=[org_a.pk, secret_contact.pk])).status_code == 403
    assert [e.organization_id for e in _events("support_access.refused")] == [org_a.pk, org_a.pk]

    # The organization's admin grants access from its settings.
    owner = client.__class__()
    owner.force_login(alice)
    response = owner.post(reverse("support_access", args=[org_a.slug]), {"duration": "1d"})
    assert response.status_code == 302
    (granted,) = _events("support_access.granted")
    assert (granted.organization_id, granted.actor_id) == (org_a.pk, alice.pk)

    listing = client.get(_contacts_url(org_a))
    assert listing.status_code == 200
    assert SECRET_NAME.encode() in listing.content
    detail = client.get(reverse("admin:support_access_contact", args=[org_a.pk, secret_contact.pk]))
    assert detail.status_code == 200
    assert SECRET_EMAIL.encode() in detail.content and b"Prefers mornings." not in detail.content

    # Another organization's grant opens nothing of B, and B's ids are not reachable through A.
    assert client.get(_contacts_url(org_b)).status_code == 403
    other = create_contact(organization=org_b, actor=charlie, data={"first_name": "Beta"})
    assert client.get(reverse("admin:support_access_contact", args=[org_a.pk, other.pk])).status_code == 404

    # Every opening is logged for the organization and audited.
    with tenant_context(org_a):
        openings = list(
            SupportAccessLog.objects.order_by("opened_at", "pk").values_list("what", "target_id", "staff_id")
        )
    assert openings == [("contact_list", None, staff.pk), ("contact", secret_contact.pk, staff.pk)]
    assert [e.actor_id for e in _events("support_access.opened")] == [staff.pk, staff.pk]
    page = owner.get(reverse("support_access", args=[org_a.slug]))
    assert page.status_code == 200
    assert page.content.count(b'class="support-opening"') == 2
    assert b"Platform Admin" in page.content
    assert b"Support has access until" in page.content


def test_a_grant_expires_and_can_be_revoked(client, staff, org_a, alice, secret_contact):
    _verified_admin(client, staff)
    grant = grants.grant_support_access(organization=org_a, actor=alice, duration="1h")
    assert client.get(_contacts_url(org_a)).status_code == 200
    with tenant_context(org_a):
        SupportAccessGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.get(_contacts_url(org_a))
    assert expired.status_code == 403 and SECRET_NAME.encode() not in expired.content

    grant = grants.grant_support_access(organization=org_a, actor=alice, duration="7d")
    assert grant.expires_at - grant.granted_at == timedelta(days=7)
    assert client.get(_contacts_url(org_a)).status_code == 200
    owner = client.__class__()
    owner.force_login(alice)
    assert owner.post(reverse("support_access_revoke", args=[org_a.slug, grant.pk])).status_code == 302
    assert client.get(_contacts_url(org_a)).status_code == 403
    assert [e.actor_id for e in _events("support_access.revoked")] == [alice.pk]
    assert grants.live_grant(organization=org_a) is None


def test_a_new_grant_replaces_the_live_one(org_a, alice):
    first = grants.grant_support_access(organization=org_a, actor=alice, duration="7d")
    second = grants.grant_support_access(organization=org_a, actor=alice, duration="1h")
    with tenant_context(org_a):
        first.refresh_from_db()
    assert first.revoked_at is not None
    assert grants.live_grant(organization=org_a).pk == second.pk


def test_members_below_admin_cannot_grant(client, org_a, bob):
    client.force_login(bob)
    assert client.get(reverse("support_access", args=[org_a.slug])).status_code == 403
    assert client.post(reverse("support_access", args=[org_a.slug]), {"duration": "7d"}).status_code == 403
    assert grants.live_grant(organization=org_a) is None


# --- admin tools ------------------------------------------------------------------------------------------


def test_the_audit_log_is_verified_from_the_admin(client, staff, org_a, alice):
    """The admin's action verifies the whole chain with the audit log's own verification."""
    from logicnet.audit.services import record_event, seal_audit_log

    record_event(action="test.event", actor=alice, organization=org_a)
    seal_audit_log(wait_seconds=0)
    _verified_admin(client, staff)
    with scopes_disabled():
        any_event = AuditEvent.objects.using("platform").order_by("pk").first()
    response = client.post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "verify_chain", "_selected_action": [any_event.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert b"Audit log verified" in response.content


def test_organizations_metadata_is_exported_and_imported_through_the_service(client, staff, org_a, org_b):
    _verified_admin(client, staff)
    export = client.post(
        reverse("admin:accounts_organization_export"),
        {
            "format": "0",
            "resource": "0",
            **{
                f"organizationresource_{f}": "on"
                for f in ("id", "name", "slug", "country", "require_two_factor", "is_active", "created_at")
            },
        },
    )
    assert export.status_code == 200, export.content[:500]
    body = export.content.decode()
    assert "Alpha SRL" in body and "Beta SRL" in body and org_a.slug in body

    csv = f"id,name,country,require_two_factor\n{org_a.pk},Alpha Renamed SRL,RO,1\n".encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    preview = client.post(
        reverse("admin:accounts_organization_import"),
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("orgs.csv", csv, content_type="text/csv")},
    )
    assert preview.status_code == 200, preview.content[:500]
    confirm = preview.context["confirm_form"]
    data = dict(confirm.initial)
    done = client.post(reverse("admin:accounts_organization_process_import"), data)
    assert done.status_code == 302, done.content[:1000]
    with scopes_disabled():
        renamed = Organization.objects.using("platform").get(pk=org_a.pk)
    assert (renamed.name, renamed.require_two_factor) == ("Alpha Renamed SRL", True)
    (changed,) = _events("organization.settings_changed")
    assert (changed.organization_id, changed.actor_id) == (org_a.pk, staff.pk)

    unknown = f"id,name,country,require_two_factor\n{org_a.pk + 99991},Nobody,RO,0\n".encode()
    refused = client.post(
        reverse("admin:accounts_organization_import"),
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("o.csv", unknown, content_type="text/csv")},
    )
    assert b"only existing rows" in refused.content


def test_the_support_models_are_classified_with_a_retention_rule():
    from django.apps import apps

    for label in ("support.SupportAccessGrant", "support.SupportAccessLog", "support.SupportRequest"):
        assert registry.rules_for(apps.get_model(label))
    rule = registry.retention["support_thread"]
    assert (rule.anchor, rule.duration, rule.applies_to) == (
        "last_activity_at",
        timedelta(days=730),
        ("support.SupportRequest",),
    )
    assert registry.rule_for(Contact, "first_name").personal  # what a grant opens is tenant personal data
