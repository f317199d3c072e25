"""Guarded reads of deals, on the organization's visibility rules (contacts/access.py).

When the organization shows every contact to everyone (or the actor is an admin), every
deal is visible. Under "own" visibility a member sees the deals they own and the deals of a
contact they can see: the deal follows the people on it. Another organization's deal, or
one the actor may not see, is a 404.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from contacts.access import get_company_for, get_contact_for, sees_all_contacts, visible_contacts
from deals.models import (
    CurrencyRate,
    Deal,
    DealContact,
    DealLineItem,
    LostReason,
    Pipeline,
    Product,
    Stage,
    Transaction,
)
from logicnet.tenancy.roles import Actor, Role


def sees_all_deals(actor: Actor) -> bool:
    """Whether every deal of the organization is visible to the actor (then the stored
    totals, deals.DealTotal, answer for them)."""
    return sees_all_contacts(actor)


def visible_deals(actor: Actor) -> QuerySet[Deal]:
    deals = Deal.objects.filter(organization=actor.organization)
    if sees_all_deals(actor):
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


# --- the organization's lists (every member reads them; the views decide who may change them) ---


def pipelines_of(actor: Actor, *, live_only: bool = True) -> QuerySet[Pipeline]:
    pipelines = Pipeline.objects.filter(organization=actor.organization)
    return pipelines.filter(archived_at=None) if live_only else pipelines


def stages_of(actor: Actor, *, pipeline: Pipeline | None = None, live_only: bool = False) -> QuerySet[Stage]:
    stages = Stage.objects.filter(organization=actor.organization).select_related("pipeline")
    if pipeline is not None:
        stages = stages.filter(pipeline=pipeline)
    return stages.filter(archived_at=None) if live_only else stages


def get_stage_for(actor: Actor, pk: int) -> Stage:
    return get_object_or_404(stages_of(actor), pk=pk)


def line_items_of(actor: Actor, deal: Deal) -> QuerySet[DealLineItem]:
    return DealLineItem.objects.filter(organization=actor.organization, deal=deal).select_related("product")


def get_line_item_for(actor: Actor, deal: Deal, pk: int) -> DealLineItem:
    return get_object_or_404(line_items_of(actor, deal), pk=pk)


def lost_reasons_of(actor: Actor) -> QuerySet[LostReason]:
    return LostReason.objects.filter(organization=actor.organization)


def products_of(actor: Actor) -> QuerySet[Product]:
    return Product.objects.filter(organization=actor.organization)


def rates_of(actor: Actor) -> QuerySet[CurrencyRate]:
    return CurrencyRate.objects.filter(organization=actor.organization).order_by("-date", "currency")


def get_transaction_for(actor: Actor, pk: int) -> Transaction:
    """A transaction reached through a contact or company the actor can see, or a 404."""
    row = get_object_or_404(Transaction.objects.filter(organization=actor.organization), pk=pk)
    if row.contact_id:
        get_contact_for(actor, row.contact_id)
    elif row.company_id:
        get_company_for(actor, row.company_id)
    return row
