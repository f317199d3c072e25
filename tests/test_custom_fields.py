"""Custom fields: definitions managed by admins, form fields of every kind, values split
into plain and encrypted JSON, display; and the organization's CRM settings page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.db import connection
from django.urls import reverse

from accounts.models import Organization
from contacts.custom_fields import (
    definitions_for,
    display_values,
    form_fields_for,
    initial_values,
    merged_values,
    split_values,
)
from contacts.models import Company, CustomField
from contacts.services.companies import create_company, update_company
from contacts.services.custom_fields import create_custom_field, delete_custom_field
from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role
from tests.factories import make_member, make_user

SECRET = "Zebra-Ledger-7781"


def url(name: str, organization, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": organization.slug, **kwargs})


@pytest.fixture
def admin(org_a):
    user = make_user("admin@example.com", "Admin User")
    make_member(org_a, user, Role.ADMIN)
    return user


@pytest.fixture
def every_kind(org_a, alice) -> list[CustomField]:
    """One company field of each kind; the date and the text are personal."""
    specs = [
        ("Account code", "text", None, True),
        ("Employees counted", "number", None, False),
        ("Contract start", "date", None, True),
        ("Tier", "choice", ["Gold", "Silver"], False),
        ("Products", "multi", ["CRM", "ERP", "Payroll"], False),
        ("Newsletter", "checkbox", None, False),
    ]
    return [
        create_custom_field(
            organization=org_a, actor=alice, entity="company", label=label, kind=kind, choices=choices, is_personal=p
        )
        for label, kind, choices, p in specs
    ]


CLEANED = {
    "cf_account_code": SECRET,
    "cf_employees_counted": Decimal("12.50"),
    "cf_contract_start": datetime.date(2025, 3, 1),
    "cf_tier": "Gold",
    "cf_products": ["CRM", "Payroll"],
    "cf_newsletter": True,
}


# --- helpers ----------------------------------------------------------------------------------


def test_keys_are_derived_from_labels_and_unique(org_a, alice):
    first = create_custom_field(
        organization=org_a, actor=alice, entity="contact", label="Cod fiscal (CUI)", kind="text"
    )
    second = create_custom_field(organization=org_a, actor=alice, entity="contact", label="Cod fiscal CUI", kind="text")
    other_entity = create_custom_field(
        organization=org_a, actor=alice, entity="company", label="Cod fiscal", kind="text"
    )
    odd = create_custom_field(organization=org_a, actor=alice, entity="contact", label="日本語", kind="text")
    assert (first.key, second.key, other_entity.key, odd.key) == (
        "cod_fiscal_cui",
        "cod_fiscal_cui_2",
        "cod_fiscal",
        "field",
    )
    assert first.position < second.position
    with tenant_context(org_a):
        assert AuditEvent.objects.filter(action="custom_field.created").count() == 4


def test_form_fields_of_every_kind(org_a, every_kind):
    fields = form_fields_for(org_a, "company")
    assert list(fields) == [f"cf_{d.key}" for d in every_kind]
    kinds = {name: type(field) for name, field in fields.items()}
    assert kinds == {
        "cf_account_code": forms.CharField,
        "cf_employees_counted": forms.DecimalField,
        "cf_contract_start": forms.DateField,
        "cf_tier": forms.ChoiceField,
        "cf_products": forms.MultipleChoiceField,
        "cf_newsletter": forms.BooleanField,
    }
    assert fields["cf_account_code"].max_length == 500
    assert [c for c, _label in fields["cf_tier"].choices if c] == ["Gold", "Silver"]
    assert isinstance(fields["cf_products"].widget, forms.CheckboxSelectMultiple)
    assert not any(f.required for f in fields.values())
    assert form_fields_for(org_a, "contact") == {}


def test_values_are_split_into_plain_and_personal_json(every_kind):
    custom, personal = split_values(every_kind, CLEANED)
    assert custom == {"employees_counted": "12.50", "tier": "Gold", "products": ["CRM", "Payroll"], "newsletter": True}
    assert personal == {"account_code": SECRET, "contract_start": "2025-03-01"}
    empty = {name: ("" if not isinstance(v, list) else []) for name, v in CLEANED.items()}
    empty.update(cf_employees_counted=None, cf_contract_start=None, cf_newsletter=False)
    assert split_values(every_kind, empty) == ({"newsletter": False}, {})


def test_personal_values_are_stored_encrypted(org_a, alice, every_kind):
    company = create_company(organization=org_a, actor=alice, name="Gamma SRL", data={"custom_fields": CLEANED})
    with tenant_context(org_a):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT custom::text, custom_personal::text FROM contacts_company WHERE id = %s", [company.pk]
            )
            custom, personal = cursor.fetchone()
        stored = Company.objects.get(pk=company.pk)
        assert stored.custom_personal == {"account_code": SECRET, "contract_start": "2025-03-01"}
    assert "Gold" in custom
    assert SECRET not in personal and "2025-03-01" not in personal
    assert SECRET not in custom


def test_initial_and_display_values(org_a, alice, every_kind):
    company = create_company(organization=org_a, actor=alice, name="Gamma SRL", data={"custom_fields": CLEANED})
    with tenant_context(org_a):
        company = Company.objects.get(pk=company.pk)
        initial = initial_values(every_kind, company)
        shown = dict(display_values(every_kind, company))
    assert initial == CLEANED
    assert shown["Account code"] == SECRET
    assert shown["Employees counted"] == "12.50"
    assert shown["Contract start"]  # localized date
    assert shown["Tier"] == "Gold"
    assert shown["Products"] == "CRM, Payroll"
    assert shown["Newsletter"] == "Yes"


def test_a_deleted_definition_keeps_its_values_hidden(org_a, alice, every_kind):
    company = create_company(organization=org_a, actor=alice, name="Gamma SRL", data={"custom_fields": CLEANED})
    tier = next(d for d in every_kind if d.key == "tier")
    delete_custom_field(organization=org_a, actor=alice, field=tier)
    remaining = definitions_for(org_a, "company")
    with tenant_context(org_a):
        company = Company.objects.get(pk=company.pk)
        assert "Tier" not in dict(display_values(remaining, company))
        custom, _personal = merged_values(remaining, company, {"cf_newsletter": False})
    assert custom["tier"] == "Gold"  # kept in the row
    update_company(
        organization=org_a,
        actor=alice,
        company=company,
        data={"custom_fields": {"cf_newsletter": False}},
        expected_version=1,
    )
    with tenant_context(org_a):
        stored = Company.objects.get(pk=company.pk)
        assert stored.custom["tier"] == "Gold"
        assert stored.custom["newsletter"] is False
        assert stored.custom_personal["account_code"] == SECRET


# --- company pages with custom fields ---------------------------------------------------------


def test_company_form_and_detail_show_custom_fields(client, org_a, alice, every_kind):
    client.force_login(alice)
    page = client.get(url("company_create", org_a)).content.decode()
    assert "Account code" in page and 'name="cf_products"' in page
    response = client.post(
        url("company_create", org_a),
        {
            "name": "Delta SRL",
            "cf_account_code": SECRET,
            "cf_employees_counted": "7",
            "cf_contract_start": "2025-03-01",
            "cf_tier": "Silver",
            "cf_products": ["ERP"],
            "cf_newsletter": "on",
        },
    )
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    for text in (SECRET, "Silver", "ERP", "Contract start"):
        assert text in detail
    with tenant_context(org_a):
        company = Company.objects.get()
        assert company.custom == {"employees_counted": "7", "tier": "Silver", "products": ["ERP"], "newsletter": True}


def test_an_unknown_choice_is_a_form_error(client, org_a, alice, every_kind):
    client.force_login(alice)
    response = client.post(url("company_create", org_a), {"name": "Delta SRL", "cf_tier": "Platinum"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["cf_tier"]


# --- definitions management -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "admin"])
def test_owners_and_admins_manage_definitions(client, org_a, alice, admin, who):
    client.force_login(alice if who == "alice" else admin)
    assert client.get(url("custom_fields", org_a)).status_code == 200
    response = client.post(
        url("custom_fields", org_a),
        {
            "entity": "company",
            "label": "Region",
            "kind": "choice",
            "choices": "North\nSouth\n\nNorth",
            "is_personal": "",
        },
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        field = CustomField.objects.get()
    assert (field.key, field.choices, field.is_personal) == ("region", ["North", "South"], False)
    page = client.get(url("custom_fields", org_a)).content.decode()
    assert "Region" in page and "North, South" in page

    edit = url("custom_field_edit", org_a, field_id=field.pk)
    assert client.get(edit).status_code == 200
    assert (
        client.post(edit, {"label": "Sales region", "choices": "North\nSouth\nEast", "position": 5}).status_code == 302
    )
    with tenant_context(org_a):
        field.refresh_from_db()
    assert (field.label, field.choices, field.position, field.key) == (
        "Sales region",
        ["North", "South", "East"],
        5,
        "region",
    )

    response = client.post(url("custom_field_delete", org_a, field_id=field.pk), follow=True)
    assert "no longer shown" in response.content.decode()
    with tenant_context(org_a):
        assert not CustomField.objects.exists()
        assert AuditEvent.objects.filter(action="custom_field.deleted").exists()


def test_choice_fields_need_choices(client, org_a, alice):
    client.force_login(alice)
    response = client.post(
        url("custom_fields", org_a), {"entity": "contact", "label": "Tier", "kind": "multi", "choices": ""}
    )
    assert response.status_code == 200
    assert "choices" in response.context["form"].errors
    with tenant_context(org_a):
        assert not CustomField.objects.exists()


def test_personal_marking_is_kept(client, org_a, alice):
    client.force_login(alice)
    client.post(
        url("custom_fields", org_a), {"entity": "contact", "label": "Allergies", "kind": "text", "is_personal": "on"}
    )
    with tenant_context(org_a):
        field = CustomField.objects.get()
    assert field.is_personal
    assert "personal, encrypted" in client.get(url("custom_fields", org_a)).content.decode()


def test_members_may_not_manage_definitions(client, org_a, alice, bob):
    field = create_custom_field(organization=org_a, actor=alice, entity="contact", label="VAT", kind="text")
    client.force_login(bob)
    assert client.get(url("custom_fields", org_a)).status_code == 403
    assert (
        client.post(url("custom_fields", org_a), {"entity": "contact", "label": "X", "kind": "text"}).status_code == 403
    )
    assert client.get(url("custom_field_edit", org_a, field_id=field.pk)).status_code == 403
    assert client.post(url("custom_field_delete", org_a, field_id=field.pk)).status_code == 403
    with tenant_context(org_a):
        assert list(CustomField.objects.values_list("label", flat=True)) == ["VAT"]


def test_outsider_gets_404_on_definitions(client, org_a, org_b, alice, charlie):
    field = create_custom_field(organization=org_a, actor=alice, entity="contact", label="VAT", kind="text")
    client.force_login(charlie)
    for name, kwargs in (("custom_fields", {}), ("custom_field_edit", {"field_id": field.pk})):
        assert client.get(url(name, org_a, **kwargs)).status_code == 404
    assert client.post(url("custom_field_delete", org_a, field_id=field.pk)).status_code == 404
    # Through the outsider's own organization, A's field is not found either.
    assert client.get(url("custom_field_edit", org_b, field_id=field.pk)).status_code == 404
    assert client.post(url("custom_field_delete", org_b, field_id=field.pk)).status_code == 404
    with tenant_context(org_a):
        assert CustomField.objects.filter(pk=field.pk).exists()


# --- CRM settings -----------------------------------------------------------------------------


def test_admin_sets_contact_visibility(client, org_a, admin):
    client.force_login(admin)
    assert client.get(url("crm_settings", org_a)).status_code == 200
    response = client.post(url("crm_settings", org_a), {"contact_visibility": "own"})
    assert response.status_code == 302
    org_a.refresh_from_db()
    assert org_a.contact_visibility == Organization.ContactVisibility.OWN
    with tenant_context(org_a):
        event = AuditEvent.objects.get(action="organization.contact_visibility_changed")
    assert event.details == {"from": "all", "to": "own"}


def test_settings_page_links_to_crm_settings_and_fields(client, org_a, alice):
    client.force_login(alice)
    page = client.get(reverse("organization_settings", args=[org_a.slug])).content.decode()
    assert url("crm_settings", org_a) in page and url("custom_fields", org_a) in page


def test_members_and_outsiders_cannot_change_crm_settings(client, org_a, bob, charlie):
    client.force_login(bob)
    assert client.get(url("crm_settings", org_a)).status_code == 403
    assert client.post(url("crm_settings", org_a), {"contact_visibility": "own"}).status_code == 403
    client.force_login(charlie)
    assert client.get(url("crm_settings", org_a)).status_code == 404
    assert client.post(url("crm_settings", org_a), {"contact_visibility": "own"}).status_code == 404
    org_a.refresh_from_db()
    assert org_a.contact_visibility == Organization.ContactVisibility.ALL


def test_an_invalid_visibility_is_refused(client, org_a, alice):
    client.force_login(alice)
    response = client.post(url("crm_settings", org_a), {"contact_visibility": "everyone"})
    assert response.status_code == 200
    assert "contact_visibility" in response.context["form"].errors
