"""Guarded reads for views: every contact or company a view touches comes through here.

Visibility (the organization's `contact_visibility` setting): owners and admins see every
contact; with "own", members and read-only members see only the contacts they own and
those shared with them. Another organization's object, or one the user may not see, is a
404 (never a 403: that would confirm it exists).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Organization
from contacts.models import Company, Contact, ContactShare
from logicnet.tenancy.roles import Role


def sees_all_contacts(request) -> bool:
    organization = request.organization
    return organization.contact_visibility == Organization.ContactVisibility.ALL or Role.at_least(
        request.membership.role, Role.ADMIN
    )


def visible_contacts(request) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(organization=request.organization)
    if sees_all_contacts(request):
        return contacts
    shared = ContactShare.objects.filter(organization=request.organization, contact=OuterRef("pk"), user=request.user)
    return contacts.filter(Q(owner=request.user) | Exists(shared))


def get_contact_for(request, pk: int) -> Contact:
    return get_object_or_404(visible_contacts(request), pk=pk)


def visible_companies(request) -> QuerySet[Company]:
    return Company.objects.filter(organization=request.organization)


def get_company_for(request, pk: int) -> Company:
    return get_object_or_404(visible_companies(request), pk=pk)
