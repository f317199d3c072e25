"""Writes to contacts: every state change goes through these functions."""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.exceptions import ValidationError

from accounts.models import Organization, User
from contacts.models import Contact
from contacts.services.companies import create_company  # noqa: F401  (moved; kept importable from here)
from logicnet.audit.services import record_event
from logicnet.encryption.fields import update_derived_fields
from logicnet.tenancy.context import tenant_context

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "date_of_birth", "job_title", "notes")


def create_contact(*, organization: Organization, actor: User | None, data: dict[str, Any]) -> Contact:
    """Validate and store a contact.

    1. build it from the known fields only (an unknown key is a programming error);
    2. compute its blind indexes and name tokens, then validate everything, including the
       per-organization unique email (so a duplicate is a form error, not an IntegrityError);
    3. save (values are encrypted with the organization's key) and audit, without personal
       data in the audit row.
    """
    unknown = set(data) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"unknown contact fields: {', '.join(sorted(unknown))}")
    with tenant_context(organization):
        contact = Contact(organization=organization, **data)
        for name in ("first_name", "last_name", "email", "phone", "job_title"):
            value = getattr(contact, name)
            if isinstance(value, str):
                setattr(contact, name, value.strip())
        # A value that cannot be encrypted (too long, wrong type) is reported by full_clean
        # below with the field's own message.
        with contextlib.suppress(ValidationError):
            update_derived_fields(contact)
        contact.full_clean()
        contact.save(force_insert=True)
        record_event(action="contact.created", actor=actor, organization=organization, target=contact)
    return contact
