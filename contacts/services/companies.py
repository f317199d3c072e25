"""Writes to companies: create, update (optimistic locking), delete."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, User
from activity.models import Task
from contacts.custom_fields import definitions_for, merged_values
from contacts.models import Company, CompanyTag, CustomField
from contacts.services.tags import tags_named
from logicnet.audit.services import record_event
from logicnet.encryption.fields import derived_fields_of, update_derived_fields
from logicnet.tenancy.context import tenant_context

# The fields a caller may set directly; tags and custom fields have their own keys in `data`
# ("tags": list of tag names, "custom_fields": a form's cleaned "cf_<key>" values).
COMPANY_FIELDS = ("name", "domain", "industry", "size", "phone", "address", "notes", "owner")
TEXT_FIELDS = ("name", "domain", "industry", "phone")


class StaleCompanyError(ValidationError):
    """The company changed since the form was opened: the save is refused, nothing is
    overwritten (two people editing at once)."""


def normalize_domain(value: str) -> str:
    """ "https://WWW.Example.com/about?x" -> "www.example.com": the host, lowercased, without
    scheme, credentials, port, path or trailing dot; raises ValidationError when there is none."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        # urlsplit itself refuses some hosts ("[a]" is an invalid IPv6 literal to it).
        host = (urlsplit(value if "//" in value else f"//{value}").hostname or "").rstrip(".")
    except ValueError:
        host = ""
    if host and not all(ch.isalnum() or ch in "-." for ch in host):
        host = ""
    if not host or "." not in host or len(host) > 253:
        raise ValidationError(_("Enter a website or domain, for example example.com."), code="invalid_domain")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError(_("Enter a website or domain, for example example.com."), code="invalid_domain") from None
    return host.lower()


def _check_owner(organization: Organization, owner: User | None) -> None:
    if owner is not None and not Membership.objects.filter(organization=organization, user=owner).exists():
        raise ValidationError({"owner": _("The owner must be a member of this organization.")})


def _set_tags(organization: Organization, company: Company, names: Iterable[str]) -> None:
    tags = tags_named(organization, names)
    wanted = {t.pk for t in tags}
    current = set(
        CompanyTag.objects.filter(organization=organization, company=company).values_list("tag_id", flat=True)
    )
    CompanyTag.objects.filter(organization=organization, company=company, tag_id__in=current - wanted).delete()
    CompanyTag.objects.bulk_create(
        [CompanyTag(organization=organization, company=company, tag_id=pk) for pk in wanted - current]
    )


def _apply(organization: Organization, company: Company, data: Mapping[str, Any]) -> list[str]:
    """Set the plain and custom fields on the row; returns the names of the columns set."""
    unknown = set(data) - {*COMPANY_FIELDS, "tags", "custom_fields"}
    if unknown:
        raise ValueError(f"unknown company fields: {', '.join(sorted(unknown))}")
    changed = []
    for name in COMPANY_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in TEXT_FIELDS and isinstance(value, str):
            value = value.strip()
        if name == "domain":
            try:
                value = normalize_domain(value)
            except ValidationError as exc:
                raise ValidationError({"domain": exc.messages}) from None
        setattr(company, name, value if value is not None or name == "owner" else "")
        changed.append(name)
    if "owner" in data:
        _check_owner(organization, data["owner"])
    if "custom_fields" in data:
        definitions = definitions_for(organization, CustomField.Entity.COMPANY)
        company.custom, company.custom_personal = merged_values(definitions, company, data["custom_fields"])
        changed += ["custom", "custom_personal"]
    return changed


def _validate(company: Company) -> None:
    # A value that cannot be encrypted (too long, wrong type) is reported by full_clean
    # with the field's own message.
    with contextlib.suppress(ValidationError):
        update_derived_fields(company)
    company.full_clean()


def create_company(
    *, organization: Organization, actor: User | None, name: str, data: Mapping[str, Any] | None = None
) -> Company:
    """Validate and store a company (`data`: further COMPANY_FIELDS, "tags", "custom_fields")."""
    with tenant_context(organization):
        company = Company(organization=organization, created_by=actor, updated_by=actor)
        _apply(organization, company, {**(data or {}), "name": name})
        _validate(company)
        company.save(force_insert=True)
        if data and "tags" in data:
            _set_tags(organization, company, data["tags"])
        record_event(action="company.created", actor=actor, organization=organization, target=company)
    return company


def update_company(
    *,
    organization: Organization,
    actor: User | None,
    company: Company,
    data: Mapping[str, Any],
    expected_version: int,
) -> Company:
    """Save changes to a company unless someone saved it since `expected_version` was read.

    1. lock the row and compare its stored version (not the instance's: the instance may
       have been loaded after the other save) with the one the form was opened on;
    2. apply and validate the changes, bump the version;
    3. save only the columns touched (with the derived search columns), tags, audit.
    """
    with tenant_context(organization):
        stored = (
            Company.objects.select_for_update()
            .filter(organization=organization, pk=company.pk)
            .values_list("version", flat=True)
            .first()
        )
        if stored is None:
            raise ValidationError(_("This company no longer exists."), code="gone")
        if stored != expected_version:
            raise StaleCompanyError(
                _(
                    "Someone else changed this company while you were editing it. "
                    "Nothing was saved: reload the page to see their changes, then make yours again."
                ),
                code="stale",
            )
        changed = _apply(organization, company, data)
        _validate(company)
        company.version = stored + 1
        company.updated_by = actor
        company.updated_at = timezone.now()
        fields = {*changed, *(f.name for f in derived_fields_of(Company)), "version", "updated_by", "updated_at"}
        company.save(update_fields=sorted(fields))
        if "tags" in data:
            _set_tags(organization, company, data["tags"])
        record_event(
            action="company.updated",
            actor=actor,
            organization=organization,
            target=company,
            details={"fields": sorted({*changed, *(["tags"] if "tags" in data else [])})},
        )
    return company


def delete_company(*, organization: Organization, actor: User | None, company: Company) -> None:
    """Delete a company. Its people and interactions stay (their link is cleared by the
    foreign keys); its tasks stay too, unlinked: a to-do must not vanish with the company."""
    with tenant_context(organization):
        people = company.people.count()
        Task.objects.filter(organization=organization, company=company).update(company=None)
        record_event(
            action="company.deleted",
            actor=actor,
            organization=organization,
            target=company,
            details={"people_unlinked": people},
        )
        company.delete()
