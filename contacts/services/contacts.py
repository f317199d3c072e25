"""Writes to contacts: every state change goes through these functions.

`data` dicts name Contact fields plus four collections; a key left out is left unchanged
(on update) or takes the model default (on create):

- `tags`: tag names (Tag rows are created per organization as needed);
- `extra_emails` / `extra_phones`: lists of {"email"|"phone": ..., "label": ...};
- `addresses`: lists of ContactAddress values (label, street, city, postal_code, region, country);
- `custom`: {custom field key: value} for the organization's contact custom fields, each
  validated by its kind; values of fields marked personal are stored encrypted in
  `custom_personal` (see contacts/custom_fields.py). Given, it replaces every defined value.
"""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership, Organization, User
from billing.limits import check_contacts
from contacts.custom_fields import definitions_for, field_name, form_field, merged_values
from contacts.models import (
    Company,
    Contact,
    ContactAddress,
    ContactEmail,
    ContactPhone,
    ContactTag,
    CustomField,
    Label,
)
from contacts.selectors import contacts_with, index_digests
from contacts.services.tags import tags_named
from logicnet.audit.services import record_event
from logicnet.encryption.fields import update_derived_fields
from logicnet.tenancy.context import tenant_context

# Plain Contact fields a caller may set (the collections are listed separately).
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "email_label",
    "phone",
    "phone_label",
    "date_of_birth",
    "job_title",
    "notes",
    "company",
    "owner",
    "status",
    "preferred_language",
    "source",
    "source_detail",
    "source_date",
)
COLLECTION_FIELDS = ("tags", "extra_emails", "extra_phones", "addresses", "custom")
STRIPPED_FIELDS = ("first_name", "last_name", "email", "phone", "job_title", "source_detail")
ADDRESS_FIELDS = ("street", "city", "postal_code", "region", "country")

STALE_MESSAGE = gettext_lazy(
    "This contact was changed by someone else since you opened it. "
    "Reload it to see their changes, then make yours again."
)
DUPLICATE_EMAIL_MESSAGE = gettext_lazy("A contact with this email address already exists.")
RESTRICTED_MESSAGE = gettext_lazy(
    "Processing of this contact's data is restricted at the person's request (GDPR Art. 18): "
    "it can be changed only from the privacy desk."
)


def check_not_restricted(contact: Contact, *, privacy_desk: bool = False) -> None:
    """A restricted contact is stored, not processed: only the privacy desk changes it."""
    if contact.restricted_at is not None and not privacy_desk:
        raise ValidationError(RESTRICTED_MESSAGE, code="restricted")


# --- reads the services and the forms share -------------------------------------------------


def find_duplicates(
    organization: Organization,
    emails: list[str] | tuple[str, ...] = (),
    phones: list[str] | tuple[str, ...] = (),
    exclude: int | None = None,
    limit: int = 10,
) -> list[Contact]:
    """Contacts having any of the emails or phones, as a primary or a further one."""
    with tenant_context(organization):
        return contacts_with(
            organization,
            email_digests=index_digests(organization, "email", list(emails)),
            phone_digests=index_digests(organization, "phone", list(phones)),
            exclude=exclude,
            limit=limit,
        )


# --- validation helpers ----------------------------------------------------------------------


def age_on(date_of_birth: datetime.date, today: datetime.date) -> int:
    return today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))


def is_minor(date_of_birth: datetime.date | None, today: datetime.date | None = None) -> bool:
    if date_of_birth is None:
        return False
    return age_on(date_of_birth, today or timezone.localdate()) < Contact.MINOR_AGE


def _custom_values(organization: Organization, contact: Contact, values: dict[str, Any]) -> tuple[dict, dict | None]:
    """(custom, custom_personal) for the row: each value validated by its definition's kind
    through the same form field the screens use, stored as contacts/custom_fields.py does."""
    definitions = definitions_for(organization, CustomField.Entity.CONTACT)
    by_key = {d.key: d for d in definitions}
    unknown = set(values) - set(by_key)
    if unknown:
        raise ValueError(f"unknown custom fields: {', '.join(sorted(unknown))}")
    cleaned = {}
    for key, value in values.items():
        definition = by_key[key]
        try:
            cleaned[field_name(definition)] = form_field(definition).clean(value)
        except ValidationError as exc:
            raise ValidationError({field_name(definition): exc.messages}) from None
    return merged_values(definitions, contact, cleaned)


def _check_data(data: dict[str, Any]) -> None:
    unknown = set(data) - set(CONTACT_FIELDS) - set(COLLECTION_FIELDS)
    if unknown:
        raise ValueError(f"unknown contact fields: {', '.join(sorted(unknown))}")


def _check_references(organization: Organization, data: dict[str, Any]) -> None:
    company = data.get("company")
    if company is not None and (not isinstance(company, Company) or company.organization_id != organization.pk):
        raise ValidationError({"company": _("Choose a company of this organization.")})
    owner = data.get("owner")
    if owner is not None and not Membership.objects.filter(organization=organization, user=owner).exists():
        raise ValidationError({"owner": _("The owner must be a member of this organization.")})


def _apply_fields(organization: Organization, contact: Contact, data: dict[str, Any]) -> list[str]:
    """Set the plain fields present in `data` on the contact; returns the names changed."""
    changed = []
    for name in CONTACT_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in STRIPPED_FIELDS and isinstance(value, str):
            value = value.strip()
        if value is None and name == "source_date":
            value = timezone.localdate()
        elif value is None and name not in ("company", "owner", "date_of_birth"):
            value = ""
        attname = contact._meta.get_field(name).attname
        current = getattr(contact, name if attname == name else attname)
        new = value.pk if attname != name and value is not None else value
        if current != new:
            changed.append(name)
        setattr(contact, name, value)
    if "custom" in data:
        plain, personal = _custom_values(organization, contact, data["custom"] or {})
        if plain != (contact.custom or {}):
            changed.append("custom")
        if personal != contact.custom_personal:
            changed.append("custom_personal")
        contact.custom, contact.custom_personal = plain, personal
    if contact.date_of_birth is not None and contact.date_of_birth > timezone.localdate():
        raise ValidationError({"date_of_birth": _("The date of birth cannot be in the future.")})
    contact.is_minor = is_minor(contact.date_of_birth)
    return changed


def _full_clean(contact: Contact) -> None:
    # A value that cannot be encrypted (too long, wrong type) is reported by full_clean with
    # the field's own message; the blind indexes must be current for the unique check.
    with contextlib.suppress(ValidationError):
        update_derived_fields(contact)
    contact.full_clean()


def _set_tags(organization: Organization, contact: Contact, names: list[str]) -> bool:
    ids = {tag.pk for tag in tags_named(organization, names)}
    current = set(
        ContactTag.objects.filter(organization=organization, contact=contact).values_list("tag_id", flat=True)
    )
    if ids == current:
        return False
    ContactTag.objects.filter(organization=organization, contact=contact).exclude(tag_id__in=ids).delete()
    ContactTag.objects.bulk_create(
        [ContactTag(organization=organization, contact=contact, tag_id=pk) for pk in ids - current],
        ignore_conflicts=True,
    )
    return True


def _label(value: str | None, default: str) -> str:
    return value if value in Label.values else default


def _set_extra_emails(organization: Organization, contact: Contact, rows: list[dict]) -> None:
    """Replace the contact's further emails. One equal to the primary (or listed twice) is
    dropped; one that belongs to another contact is a validation error, not an IntegrityError."""
    ContactEmail.objects.filter(organization=organization, contact=contact).delete()
    seen = {contact.email_index} - {""}
    created = []
    for row in rows:
        value = (row.get("email") or "").strip()
        if not value:
            continue
        extra = ContactEmail(
            organization=organization, contact=contact, email=value, label=_label(row.get("label"), Label.OTHER)
        )
        try:
            extra.clean_fields(exclude=["contact", "organization"])
        except ValidationError as exc:
            raise ValidationError({"extra_emails": [f"{value}: {m}" for m in exc.messages]}) from None
        update_derived_fields(extra)
        if extra.email_index in seen:
            continue
        seen.add(extra.email_index)
        created.append(extra)
    if created:
        taken = ContactEmail.objects.filter(
            organization=organization, email_index__in=[e.email_index for e in created]
        ).exists()
        if taken:
            raise ValidationError({"extra_emails": DUPLICATE_EMAIL_MESSAGE})
        for extra in created:
            extra.save(force_insert=True)


def _set_extra_phones(organization: Organization, contact: Contact, rows: list[dict]) -> None:
    ContactPhone.objects.filter(organization=organization, contact=contact).delete()
    seen = {contact.phone_index} - {""}
    for row in rows:
        value = (row.get("phone") or "").strip()
        if not value:
            continue
        extra = ContactPhone(
            organization=organization, contact=contact, phone=value, label=_label(row.get("label"), Label.OTHER)
        )
        try:
            extra.clean_fields(exclude=["contact", "organization"])
        except ValidationError as exc:
            raise ValidationError({"extra_phones": [f"{value}: {m}" for m in exc.messages]}) from None
        update_derived_fields(extra)
        if extra.phone_index in seen:
            continue
        seen.add(extra.phone_index)
        extra.save(force_insert=True)


def _set_addresses(organization: Organization, contact: Contact, rows: list[dict]) -> None:
    ContactAddress.objects.filter(organization=organization, contact=contact).delete()
    for row in rows:
        values = {name: str(row.get(name) or "").strip() for name in ADDRESS_FIELDS}
        values["country"] = values["country"].upper()
        if not any(values.values()):
            continue
        address = ContactAddress(
            organization=organization, contact=contact, label=_label(row.get("label"), Label.WORK), **values
        )
        try:
            address.full_clean(exclude=["contact", "organization"])
        except ValidationError as exc:
            raise ValidationError({"addresses": exc.messages}) from None
        address.save(force_insert=True)


def _set_collections(organization: Organization, contact: Contact, data: dict[str, Any]) -> list[str]:
    changed = []
    if "tags" in data and _set_tags(organization, contact, data["tags"] or []):
        changed.append("tags")
    if "extra_emails" in data:
        _set_extra_emails(organization, contact, data["extra_emails"] or [])
        changed.append("extra_emails")
    if "extra_phones" in data:
        _set_extra_phones(organization, contact, data["extra_phones"] or [])
        changed.append("extra_phones")
    if "addresses" in data:
        _set_addresses(organization, contact, data["addresses"] or [])
        changed.append("addresses")
    return changed


def _save(contact: Contact, **kwargs) -> None:
    """Save in a savepoint: a unique email that a concurrent save took after our check is
    still a validation error for the form, not a server error."""
    try:
        with transaction.atomic():
            contact.save(**kwargs)
    except IntegrityError as exc:
        if "contact_unique_email" in str(exc):
            raise ValidationError({"email": DUPLICATE_EMAIL_MESSAGE}) from None
        raise


# --- services --------------------------------------------------------------------------------


def create_contact(*, organization: Organization, actor: User | None, data: dict[str, Any]) -> Contact:
    """Validate and store a contact.

    1. build it from the known fields only (an unknown key is a programming error);
    2. compute its blind indexes and name tokens, then validate everything, including the
       per-organization unique email (so a duplicate is a form error, not an IntegrityError);
    3. save (values are encrypted with the organization's key), then its tags, further
       emails, phones and addresses; audit without personal data in the audit row.
    """
    _check_data(data)
    check_contacts(organization, adding=1)  # the plan's contact limit, with an upgrade prompt
    with tenant_context(organization):
        _check_references(organization, data)
        contact = Contact(organization=organization, created_by=actor, updated_by=actor)
        _apply_fields(organization, contact, data)
        _full_clean(contact)
        _save(contact, force_insert=True)
        _set_collections(organization, contact, data)
        record_event(action="contact.created", actor=actor, organization=organization, target=contact)
    return contact


def update_contact(
    *,
    organization: Organization,
    actor: User | None,
    contact: Contact,
    data: dict[str, Any],
    expected_version: int | None,
    privacy_desk: bool = False,
) -> Contact:
    """Change a contact, refusing to overwrite changes made since `expected_version`.

    1. lock the row (SELECT ... FOR UPDATE) and compare its version: two saves from the same
       version serialize here, and the second sees the first one's bump and is refused;
    2. apply and validate the fields, save with version + 1, then the collections;
    3. audit the names of the changed fields (never their values).
    Returns the saved row (the `contact` passed in is not modified).
    """
    _check_data(data)
    with tenant_context(organization):
        locked = Contact.objects.select_for_update().filter(organization=organization, pk=contact.pk).first()
        if locked is None:
            raise ValidationError(_("This contact no longer exists."), code="gone")
        if expected_version is not None and locked.version != expected_version:
            raise ValidationError(STALE_MESSAGE, code="stale")
        check_not_restricted(locked, privacy_desk=privacy_desk)
        _check_references(organization, data)
        changed = _apply_fields(organization, locked, data)
        _full_clean(locked)
        locked.updated_by = actor
        locked.updated_at = timezone.now()
        locked.version += 1
        _save(locked)
        changed += _set_collections(organization, locked, data)
        record_event(
            action="contact.updated",
            actor=actor,
            organization=organization,
            target=locked,
            details={"fields": sorted(set(changed)), "version": locked.version},
        )
    return locked


def delete_contact(*, organization: Organization, actor: User | None, contact: Contact) -> None:
    """Delete a contact and what hangs on it (emails, phones, addresses, tags, shares,
    participations, tasks); the audit row keeps only its id."""
    with tenant_context(organization):
        locked = Contact.objects.select_for_update().filter(organization=organization, pk=contact.pk).first()
        if locked is None:
            return
        check_not_restricted(locked)
        record_event(action="contact.deleted", actor=actor, organization=organization, target=locked)
        locked.delete()
