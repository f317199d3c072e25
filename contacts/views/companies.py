"""Company pages, custom field definitions and the organization's CRM settings."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.access import get_company_for, visible_contacts
from contacts.custom_fields import definitions_for, display_values, get_custom_field_for
from contacts.forms_companies import CompanyForm, CrmSettingsForm, CustomFieldCreateForm, CustomFieldEditForm
from contacts.models import CustomField
from contacts.services.companies import StaleCompanyError, create_company, delete_company, update_company
from contacts.services.custom_fields import (
    create_custom_field,
    delete_custom_field,
    update_contact_visibility,
    update_custom_field,
)
from logicnet.forms import add_service_errors
from logicnet.tenancy.roles import Role, requires_role

PEOPLE_PAGE_SIZE = 25


# --- Companies -------------------------------------------------------------------------------


def company_create(request, org_slug):
    organization = request.organization
    definitions = definitions_for(organization, CustomField.Entity.COMPANY)
    form = CompanyForm(
        request.POST or None, organization=organization, definitions=definitions, initial={"owner": request.user.pk}
    )
    if request.method == "POST" and form.is_valid():
        try:
            company = create_company(
                organization=organization,
                actor=request.user,
                name=form.cleaned_data["name"],
                data=form.service_data(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Company created."))
            return redirect("company_detail", org_slug=org_slug, company_id=company.pk)
    return render(request, "contacts/company_form.html", {"form": form, "company": None})


def _people_cursor(raw: str | None) -> tuple[datetime.datetime, int] | None:
    """ "<created_at ISO>~<id>" of the last person on the previous page, or None."""
    if not raw or "~" not in raw:
        return None
    stamp, _sep, pk = raw.rpartition("~")
    try:
        moment = datetime.datetime.fromisoformat(stamp)
        return (moment, int(pk)) if moment.tzinfo is not None else None
    except ValueError:
        return None


def _company_people(request, company):
    """One page of the company's people the user may see, newest first, by keyset on
    (created_at, id) so a deep page costs the same as the first (contact_org_company_idx)."""
    people = visible_contacts(request.actor).filter(company=company).order_by("-created_at", "-id")
    cursor = _people_cursor(request.GET.get("after"))
    if cursor is not None:
        moment, pk = cursor
        people = people.filter(created_at__lte=moment).exclude(created_at=moment, id__gte=pk)
    page = list(people[: PEOPLE_PAGE_SIZE + 1])
    next_cursor = None
    if len(page) > PEOPLE_PAGE_SIZE:
        page = page[:PEOPLE_PAGE_SIZE]
        last = page[-1]
        next_cursor = f"{last.created_at.isoformat()}~{last.pk}"
    return page, next_cursor, cursor is not None


def company_detail(request, org_slug, company_id):
    company = get_company_for(request.actor, company_id)
    definitions = definitions_for(request.organization, CustomField.Entity.COMPANY)
    people, next_cursor, paged = _company_people(request, company)
    context = {
        "company": company,
        "tags": list(company.tags.order_by("name")),
        "custom_values": display_values(definitions, company),
        "people": people,
        "next_cursor": next_cursor,
        "paged": paged,
    }
    return render(request, "contacts/company_detail.html", context)


def company_edit(request, org_slug, company_id):
    organization = request.organization
    company = get_company_for(request.actor, company_id)
    definitions = definitions_for(organization, CustomField.Entity.COMPANY)
    form = CompanyForm(request.POST or None, organization=organization, definitions=definitions, instance=company)
    status = 200
    if request.method == "POST" and form.is_valid():
        expected = form.cleaned_data["version"] or company.version
        try:
            update_company(
                organization=organization,
                actor=request.user,
                company=company,
                data={"name": form.cleaned_data["name"], **form.service_data()},
                expected_version=expected,
            )
        except StaleCompanyError as exc:
            form.add_error(None, exc.messages)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Company saved."))
            return redirect("company_detail", org_slug=org_slug, company_id=company.pk)
    return render(request, "contacts/company_form.html", {"form": form, "company": company}, status=status)


def _after_company_delete(org_slug: str) -> str:
    try:
        return reverse("company_list", kwargs={"org_slug": org_slug})
    except NoReverseMatch:
        return reverse("dashboard", kwargs={"org_slug": org_slug})


def company_delete(request, org_slug, company_id):
    company = get_company_for(request.actor, company_id)
    if request.method == "POST":
        delete_company(organization=request.organization, actor=request.user, company=company)
        messages.success(request, _("Company deleted. Its people were kept."))
        return redirect(_after_company_delete(org_slug))
    return render(
        request,
        "contacts/company_delete.html",
        {"company": company, "people_count": company.people.count(), "task_count": company.tasks.count()},
    )


# --- Custom fields ---------------------------------------------------------------------------


@requires_role(read=Role.ADMIN, write=Role.ADMIN)
def custom_fields(request, org_slug):
    organization = request.organization
    form = CustomFieldCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = create_custom_field(organization=organization, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Field “%(label)s” added.") % {"label": field.label})
            return redirect("custom_fields", org_slug=org_slug)
    sections = [(entity, label, definitions_for(organization, entity)) for entity, label in CustomField.Entity.choices]
    return render(request, "contacts/custom_fields.html", {"form": form, "sections": sections})


@requires_role(read=Role.ADMIN, write=Role.ADMIN)
def custom_field_edit(request, org_slug, field_id):
    field = get_custom_field_for(request, field_id)
    form = CustomFieldEditForm(request.POST or None, field=field)
    if request.method == "POST" and form.is_valid():
        try:
            update_custom_field(
                organization=request.organization,
                actor=request.user,
                field=field,
                label=form.cleaned_data["label"],
                choices=form.cleaned_data.get("choices"),
                position=form.cleaned_data["position"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Field saved."))
            return redirect("custom_fields", org_slug=org_slug)
    return render(request, "contacts/custom_field_edit.html", {"form": form, "field": field})


@require_POST
@requires_role(read=Role.ADMIN, write=Role.ADMIN)
def custom_field_delete(request, org_slug, field_id):
    field = get_custom_field_for(request, field_id)
    delete_custom_field(organization=request.organization, actor=request.user, field=field)
    messages.success(
        request,
        _("Field “%(label)s” deleted. Values already entered stay stored but are no longer shown.")
        % {"label": field.label},
    )
    return redirect("custom_fields", org_slug=org_slug)


# --- CRM settings ----------------------------------------------------------------------------


@requires_role(read=Role.ADMIN, write=Role.ADMIN)
def crm_settings(request, org_slug):
    organization = request.organization
    form = CrmSettingsForm(request.POST or None, initial={"contact_visibility": organization.contact_visibility})
    if request.method == "POST" and form.is_valid():
        update_contact_visibility(
            organization=organization, actor=request.user, visibility=form.cleaned_data["contact_visibility"]
        )
        messages.success(request, _("Settings saved."))
        return redirect("crm_settings", org_slug=org_slug)
    return render(request, "contacts/crm_settings.html", {"form": form})


urlpatterns = [
    path("companies/new/", company_create, name="company_create"),
    path("companies/<int:company_id>/", company_detail, name="company_detail"),
    path("companies/<int:company_id>/edit/", company_edit, name="company_edit"),
    path("companies/<int:company_id>/delete/", company_delete, name="company_delete"),
    path("settings/fields/", custom_fields, name="custom_fields"),
    path("settings/fields/<int:field_id>/", custom_field_edit, name="custom_field_edit"),
    path("settings/fields/<int:field_id>/delete/", custom_field_delete, name="custom_field_delete"),
    path("settings/crm/", crm_settings, name="crm_settings"),
]
