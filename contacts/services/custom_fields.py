"""Writes to custom field definitions and to the organization's CRM settings (admins)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from contacts.models import CustomField
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context

KINDS_WITH_CHOICES = {CustomField.Kind.CHOICE, CustomField.Kind.MULTI}
MAX_CHOICES = 100
CHOICE_MAX_LENGTH = 100
KEY_MAX_LENGTH = CustomField._meta.get_field("key").max_length


def clean_choices(kind: str, choices: Iterable[str] | None) -> list[str]:
    """The distinct, trimmed choices of a choice field, in order; [] for other kinds."""
    if kind not in KINDS_WITH_CHOICES:
        return []
    cleaned: list[str] = []
    for choice in choices or []:
        choice = " ".join(str(choice).split())
        if choice and choice not in cleaned:
            cleaned.append(choice)
    if not cleaned:
        raise ValidationError({"choices": _("Enter at least one choice, one per line.")})
    if len(cleaned) > MAX_CHOICES:
        raise ValidationError({"choices": _("A field can have at most 100 choices.")})
    if any(len(c) > CHOICE_MAX_LENGTH for c in cleaned):
        raise ValidationError({"choices": _("A choice can have at most 100 characters.")})
    return cleaned


def _unique_key(organization: Organization, entity: str, label: str) -> str:
    """A slug of the label, unique among the organization's fields for the entity. Keys
    use underscores so "cf_<key>" is a plain identifier in forms and templates."""
    base = slugify(label).replace("-", "_").strip("_")[: KEY_MAX_LENGTH - 4] or "field"
    taken = set(
        CustomField.objects.filter(organization=organization, entity=entity, key__startswith=base).values_list(
            "key", flat=True
        )
    )
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key


def create_custom_field(
    *,
    organization: Organization,
    actor: User | None,
    entity: str,
    label: str,
    kind: str,
    choices: Iterable[str] | None = None,
    is_personal: bool = False,
) -> CustomField:
    """Add a field at the end of the entity's list; its key is derived from the label once
    and never changes (stored values are keyed by it)."""
    label = " ".join(label.split())
    with tenant_context(organization):
        # One writer per organization at a time, so two fields with the same label cannot
        # race to the same key.
        CustomField.objects.select_for_update().filter(organization=organization, entity=entity).exists()
        last = CustomField.objects.filter(organization=organization, entity=entity).aggregate(Max("position"))
        field = CustomField(
            organization=organization,
            entity=entity,
            key=_unique_key(organization, entity, label),
            label=label,
            kind=kind,
            choices=clean_choices(kind, choices),
            is_personal=is_personal,
            position=(last["position__max"] or 0) + 1,
        )
        field.full_clean()
        field.save(force_insert=True)
        record_event(
            action="custom_field.created",
            actor=actor,
            organization=organization,
            target=field,
            details={"entity": entity, "kind": kind, "key": field.key, "personal": is_personal},
        )
    return field


def update_custom_field(
    *,
    organization: Organization,
    actor: User | None,
    field: CustomField,
    label: str,
    choices: Iterable[str] | None = None,
    position: int | None = None,
) -> CustomField:
    """Change a field's label, choices or position. Its key, type and personal marking stay:
    changing them would misread (or leave unencrypted) the values already stored."""
    with tenant_context(organization):
        field.label = " ".join(label.split())
        field.choices = clean_choices(field.kind, choices)
        if position is not None:
            field.position = position
        field.full_clean()
        field.save(update_fields=["label", "choices", "position"])
        record_event(
            action="custom_field.updated",
            actor=actor,
            organization=organization,
            target=field,
            details={"entity": field.entity, "key": field.key},
        )
    return field


def delete_custom_field(*, organization: Organization, actor: User | None, field: CustomField) -> None:
    """Remove a definition. Values stay in the rows (erasing them would be a bulk rewrite of
    encrypted JSON) but are no longer shown; a field added later gets a fresh key unless
    it reuses the label, in which case the old values reappear."""
    with tenant_context(organization):
        record_event(
            action="custom_field.deleted",
            actor=actor,
            organization=organization,
            target=field,
            details={"entity": field.entity, "key": field.key},
        )
        field.delete()


def update_contact_visibility(*, organization: Organization, actor: User | None, visibility: str) -> Organization:
    """Set whether members see every contact or only their own and those shared with them."""
    if visibility not in Organization.ContactVisibility.values:
        raise ValidationError({"contact_visibility": _("Choose who sees which contacts.")})
    if organization.contact_visibility == visibility:
        return organization
    with tenant_context(organization):  # only the active organization's row can change
        previous = organization.contact_visibility
        organization.contact_visibility = visibility
        organization.save(update_fields=["contact_visibility"])
        record_event(
            action="organization.contact_visibility_changed",
            actor=actor,
            organization=organization,
            details={"from": previous, "to": visibility},
        )
    return organization
