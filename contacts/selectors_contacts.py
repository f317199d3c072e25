"""Reads for the contact record's pages (the guarded base queryset comes from contacts/access.py)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from contacts.models import Contact, ContactAddress, ContactEmail, ContactPhone


def with_details(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Everything a contact's detail, edit and merge pages show, in a constant number of
    queries: one for the row and its people and company, one per collection."""
    return contacts.select_related("company", "owner", "created_by", "updated_by").prefetch_related(
        Prefetch("extra_emails", queryset=ContactEmail.objects.order_by("pk")),
        Prefetch("extra_phones", queryset=ContactPhone.objects.order_by("pk")),
        Prefetch("addresses", queryset=ContactAddress.objects.order_by("pk")),
        "tags",
    )
