"""Guarded reads of deals, on the organization's visibility rules (contacts/access.py).

When the organization shows every contact to everyone (or the actor is an admin), every
deal is visible. Under "own" visibility a member sees the deals they own and the deals of a
contact they can see: the deal follows the people on it. Another organization's deal, or
one the actor may not see, is a 404.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from contacts.access import sees_all_contacts, visible_contacts
from deals.models import Deal, DealContact, Pipeline
from logicnet.tenancy.roles import Actor, Role


def visible_deals(actor: Actor) -> QuerySet[Deal]:
    deals = Deal.objects.filter(organization=actor.organization)
    if sees_all_contacts(actor):
        return deals
    if actor.user is None:
        return deals.none()
    people = DealContact.objects.filter(
        organization=actor.organization, deal=OuterRef("pk"), contact__in=visible_contacts(actor)
    )
    return deals.filter(Q(owner=actor.user) | Exists(people))


def get_deal_for(actor: Actor, pk: int) -> Deal:
    return get_object_or_404(visible_deals(actor), pk=pk)


def get_pipeline_for(actor: Actor, pk: int) -> Pipeline:
    return get_object_or_404(Pipeline.objects.filter(organization=actor.organization), pk=pk)


def may_manage_pipelines(actor: Actor) -> bool:
    """Pipelines, stages, lost reasons, products and rates: admins and owners."""
    return actor.at_least(Role.ADMIN)


def may_edit_deals(actor: Actor) -> bool:
    return actor.at_least(Role.MEMBER)
