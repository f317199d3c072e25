"""Guarded reads: every contact or company a view, job or export touches comes through here.

The rules take an Actor (organization, user, role: logicnet.tenancy.roles), never a
request, so a view, a background job and an export apply the same one; a view passes
`request.actor`, which the tenancy middleware builds once from the checked membership.

Visibility (the organization's `contact_visibility` setting): owners and admins see every
contact; with "own", members and read-only members see only the contacts they own and
those shared with them. Another organization's object, or one the actor may not see, is a
404 (never a 403: that would confirm it exists).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Organization
from contacts.models import Company, Contact, ContactShare
from logicnet.tenancy.roles import Actor, Role


def sees_all_contacts(actor: Actor) -> bool:
    return actor.organization.contact_visibility == Organization.ContactVisibility.ALL or actor.at_least(Role.ADMIN)


def visible_contacts(actor: Actor) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(organization=actor.organization)
    if sees_all_contacts(actor):
        return contacts
    if actor.user is None:
        # Work no person started sees nothing under "own" visibility (fails closed), rather
        # than every contact whose owner is empty.
        return contacts.none()
    shared = ContactShare.objects.filter(organization=actor.organization, contact=OuterRef("pk"), user=actor.user)
    return contacts.filter(Q(owner=actor.user) | Exists(shared))


def get_contact_for(actor: Actor, pk: int) -> Contact:
    return get_object_or_404(visible_contacts(actor), pk=pk)


def visible_companies(actor: Actor) -> QuerySet[Company]:
    return Company.objects.filter(organization=actor.organization)


def picked(actor: Actor, chosen_ids: list[int], extra_companies: set[int]) -> tuple[list[Contact], list[Company]]:
    """What a form's contact picker holds: the chosen contacts the actor may see, in the order
    chosen, and the companies to offer beside them (theirs and `extra_companies`). Only
    these are rendered: an organization's contacts are never listed in full."""
    chosen = list(visible_contacts(actor).filter(pk__in=chosen_ids)) if chosen_ids else []
    chosen.sort(key=lambda contact: chosen_ids.index(contact.pk))
    company_ids = {contact.company_id for contact in chosen if contact.company_id} | extra_companies
    companies = list(visible_companies(actor).filter(pk__in=company_ids)) if company_ids else []
    return chosen, companies


def get_company_for(actor: Actor, pk: int) -> Company:
    return get_object_or_404(visible_companies(actor), pk=pk)
