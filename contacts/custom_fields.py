"""Custom fields in forms and on pages: shared by the contact and company screens.

An organization defines fields (CustomField) for its contacts or companies. A row keeps
their values in two JSON columns, keyed by the definition's `key`:

- `custom`: values of fields not marked personal (plain JSON, so lists can filter on them);
- `custom_personal`: values of personal fields (encrypted JSON, never filterable).

Values are stored JSON-safe: text as str, number as a decimal string ("12.50"), date as an
ISO string ("2025-01-31"), single choice as str, multiple choice as a list of str,
checkbox as a bool. An empty value is left out (a checkbox is always stored).

Typical use in a form and a service::

    definitions = definitions_for(organization, CustomField.Entity.CONTACT)
    # form __init__ (inside the request's tenant context):
    self.fields.update(form_fields_for(organization, CustomField.Entity.CONTACT, definitions))
    self.initial.update(initial_values(definitions, instance))          # when editing
    # service, with the form's cleaned_data:
    instance.custom, instance.custom_personal = merged_values(definitions, instance, cleaned_data)
    # detail page:
    rows = display_values(definitions, instance)                        # [(label, text or None)]

Fields are named "cf_<key>" (FIELD_PREFIX) in forms. Values of a deleted definition stay
in the row (merged_values keeps them) but are no longer shown.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.shortcuts import get_object_or_404
from django.utils import formats
from django.utils.translation import gettext as _

from contacts.models import CustomField
from logicnet.tenancy.context import active_organization_id, tenant_context

FIELD_PREFIX = "cf_"
TEXT_MAX_LENGTH = 500

Kind = CustomField.Kind


def definitions_for(organization, entity: str) -> list[CustomField]:
    """The organization's field definitions for one entity, in display order."""
    if active_organization_id() == organization.pk:
        return _definitions(organization, entity)  # already in its context (a view): spare the savepoint
    with tenant_context(organization):
        return _definitions(organization, entity)


def _definitions(organization, entity: str) -> list[CustomField]:
    return list(CustomField.objects.filter(organization=organization, entity=entity).order_by("position", "id"))


def get_custom_field_for(request, pk: int) -> CustomField:
    """Guarded read for views: another organization's definition is a 404."""
    return get_object_or_404(CustomField.objects.filter(organization=request.organization), pk=pk)


def field_name(definition: CustomField) -> str:
    return f"{FIELD_PREFIX}{definition.key}"


def _choices(definition: CustomField) -> list[tuple[str, str]]:
    return [(str(choice), str(choice)) for choice in (definition.choices or [])]


def form_field(definition: CustomField) -> forms.Field:
    """The Django form field for one definition. Custom fields are never required: a
    field added later must not make every existing row fail validation."""
    common = {"label": definition.label, "required": False}
    kind = definition.kind
    if kind == Kind.TEXT:
        return forms.CharField(max_length=TEXT_MAX_LENGTH, **common)
    if kind == Kind.NUMBER:
        return forms.DecimalField(max_digits=20, decimal_places=6, **common)
    if kind == Kind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if kind == Kind.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *_choices(definition)], **common)
    if kind == Kind.MULTI:
        return forms.MultipleChoiceField(choices=_choices(definition), widget=forms.CheckboxSelectMultiple, **common)
    if kind == Kind.CHECKBOX:
        return forms.BooleanField(**common)
    raise ValueError(f"unknown custom field kind: {kind!r}")


def form_fields_for(
    organization, entity: str, definitions: Iterable[CustomField] | None = None
) -> dict[str, forms.Field]:
    """{"cf_<key>": form field} for the organization's definitions of `entity` (pass
    `definitions` when already loaded, to save the query)."""
    if definitions is None:
        definitions = definitions_for(organization, entity)
    return {field_name(d): form_field(d) for d in definitions}


def _to_json(kind: str, value: Any) -> Any:
    """The JSON-safe form of a cleaned value, or None when it is empty."""
    if kind == Kind.CHECKBOX:
        return bool(value)
    if value is None or value == "" or value == []:
        return None
    if kind == Kind.NUMBER:
        return str(value)
    if kind == Kind.DATE:
        return value.isoformat()
    if kind == Kind.MULTI:
        return [str(v) for v in value]
    return str(value)


def split_values(definitions: Iterable[CustomField], cleaned_data: Mapping[str, Any]) -> tuple[dict, dict]:
    """(custom, custom_personal) from a form's cleaned data, JSON-safe; a definition whose
    field is not in cleaned_data (not on the form, or invalid) is left out."""
    custom: dict[str, Any] = {}
    personal: dict[str, Any] = {}
    for definition in definitions:
        name = field_name(definition)
        if name not in cleaned_data:
            continue
        value = _to_json(definition.kind, cleaned_data[name])
        if value is None:
            continue
        (personal if definition.is_personal else custom)[definition.key] = value
    return custom, personal


def merged_values(
    definitions: Iterable[CustomField], instance, cleaned_data: Mapping[str, Any]
) -> tuple[dict, dict | None]:
    """The row's new (custom, custom_personal): the form's values for the fields it has,
    and the stored values of every other key, including keys no longer defined (deleting a
    definition hides its values, it does not erase them). custom_personal is None when
    empty. Read inside the tenant context (custom_personal decrypts)."""
    definitions = list(definitions)
    # Keys the form decides: a definition whose field is absent (a partial update) keeps
    # its stored value like an undefined key does.
    defined = {d.key for d in definitions if field_name(d) in cleaned_data}
    custom, personal = split_values(definitions, cleaned_data)
    old_custom = dict(getattr(instance, "custom", None) or {})
    old_personal = dict(getattr(instance, "custom_personal", None) or {})
    custom = {**{k: v for k, v in old_custom.items() if k not in defined}, **custom}
    personal = {**{k: v for k, v in old_personal.items() if k not in defined}, **personal}
    return custom, (personal or None)


def stored_value(definition: CustomField, instance) -> Any:
    """The stored JSON value of one field on a row (None when unset)."""
    source = instance.custom_personal if definition.is_personal else instance.custom
    return (source or {}).get(definition.key)


def _from_json(kind: str, value: Any) -> Any:
    """A stored value as a form field's initial value; a malformed one is dropped rather
    than breaking the form."""
    if value is None:
        return False if kind == Kind.CHECKBOX else None
    try:
        if kind == Kind.NUMBER:
            return Decimal(str(value))
        if kind == Kind.DATE:
            return datetime.date.fromisoformat(str(value))
    except (InvalidOperation, ValueError):
        return None
    if kind == Kind.MULTI:
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if kind == Kind.CHECKBOX:
        return bool(value)
    return value


def initial_values(definitions: Iterable[CustomField], instance) -> dict[str, Any]:
    """{"cf_<key>": initial value} for a form editing `instance` (inside the tenant context)."""
    if instance is None:
        return {}
    return {field_name(d): _from_json(d.kind, stored_value(d, instance)) for d in definitions}


def display_value(definition: CustomField, value: Any) -> str | None:
    """A stored value as text for a page (localized numbers and dates); None when unset.
    The text is not marked safe: templates escape it."""
    kind = definition.kind
    if kind == Kind.CHECKBOX:
        return _("Yes") if value else _("No")
    if value is None or value == "" or value == []:
        return None
    typed = _from_json(kind, value)
    if kind == Kind.NUMBER and typed is not None:
        return formats.number_format(typed, use_l10n=True)
    if kind == Kind.DATE and typed is not None:
        return formats.date_format(typed, "SHORT_DATE_FORMAT")
    if kind == Kind.MULTI:
        return ", ".join(typed)
    return str(value)


def display_values(definitions: Iterable[CustomField], instance) -> list[tuple[str, str | None]]:
    """[(label, text or None)] of every defined field for a detail page, in order."""
    return [(d.label, display_value(d, stored_value(d, instance))) for d in definitions]
