"""Reads of deals for the board, the list, a deal's page and the transaction panels.

Every read starts from access.visible_deals(actor), so a view, an export and a job see the
same deals. The board never loads a whole column: each stage shows its first page, and
further pages come by keyset on (position, id) over the partial index deal_column_idx, so
a stage of 5,000 deals costs what a stage of 30 does. Column totals are summed in SQL per
(stage, currency) and converted in Python with Decimal.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from deals.access import sees_all_deals, visible_deals
from deals.models import Deal, DealEvent, DealTag, DealTotal, Pipeline, Stage, Transaction
from deals.money import RateBook, cents, rate_book, weighted
from logicnet.tenancy.roles import Actor

COLUMN_PAGE = 25


@dataclass(frozen=True)
class DealFilters:
    owner_id: int | None = None
    tag_id: int | None = None
    close_from: datetime.date | None = None
    close_to: datetime.date | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None

    def apply(self, deals: QuerySet[Deal]) -> QuerySet[Deal]:
        if self.owner_id:
            deals = deals.filter(owner_id=self.owner_id)
        if self.tag_id:
            tagged = DealTag.objects.filter(deal=OuterRef("pk"), tag_id=self.tag_id)
            deals = deals.filter(Exists(tagged))
        if self.close_from:
            deals = deals.filter(expected_close__gte=self.close_from)
        if self.close_to:
            deals = deals.filter(expected_close__lte=self.close_to)
        if self.value_min is not None:
            deals = deals.filter(value__gte=self.value_min)
        if self.value_max is not None:
            deals = deals.filter(value__lte=self.value_max)
        return deals

    @property
    def active(self) -> bool:
        return any(v not in (None, "") for v in self.__dict__.values())

    @property
    def owner_only(self) -> bool:
        """No filter but the owner's: what the stored totals are grouped by."""
        return not any(v not in (None, "") for k, v in self.__dict__.items() if k != "owner_id")


def stored_totals(actor: Actor, filters: DealFilters) -> QuerySet[DealTotal] | None:
    """The stored totals (deals.DealTotal, kept by the database with every write) of the deals
    the actor sees under these filters, or None when they cannot answer: an actor who sees
    only some deals, or a filter the totals are not grouped by (tag, close date, value).
    Empty groups (a count back to zero) are left out."""
    if not sees_all_deals(actor) or not filters.owner_only:
        return None
    totals = DealTotal.objects.filter(organization=actor.organization, deal_count__gt=0)
    return totals.filter(owner_id=filters.owner_id) if filters.owner_id else totals


@dataclass
class Column:
    stage: Stage
    count: int = 0
    total: Decimal = Decimal("0.00")
    weighted_total: Decimal = Decimal("0.00")
    unconverted: list[str] = field(default_factory=list)  # currencies without a rate
    deals: list[Deal] = field(default_factory=list)
    next_cursor: str | None = None


def live_stages(pipeline: Pipeline) -> list[Stage]:
    return list(Stage.objects.filter(organization_id=pipeline.organization_id, pipeline=pipeline, archived_at=None))


def open_deals(actor: Actor, filters: DealFilters) -> QuerySet[Deal]:
    return filters.apply(visible_deals(actor).filter(status=Deal.Status.OPEN))


def column_totals(
    actor: Actor, stages: list[Stage], filters: DealFilters, book: RateBook, day: datetime.date
) -> dict[int, Column]:
    """Count, sum and weighted sum of each stage's open deals in the base currency, by the
    rates of `day`; a currency without a rate is named, not guessed. From the stored totals
    where they answer (stored_totals), else summed over the deals."""
    columns = {stage.pk: Column(stage=stage) for stage in stages}
    stored = stored_totals(actor, filters)
    if stored is not None:
        rows = (
            stored.filter(status=Deal.Status.OPEN, stage_id__in=[s.pk for s in stages])
            .values("stage_id", "currency")
            .annotate(n=Sum("deal_count"), total=Sum("value_sum"))
            .order_by()
        )
    else:
        rows = (
            open_deals(actor, filters)
            .filter(stage__in=[s.pk for s in stages])
            .values("stage_id", "currency")
            .annotate(n=Count("id"), total=Sum("value"))
            .order_by()
        )
    for row in rows:
        column = columns[row["stage_id"]]
        column.count += row["n"]
        converted = book.to_base(row["total"] or Decimal(0), row["currency"], day)
        if converted is None:
            column.unconverted.append(row["currency"])
            continue
        column.total += converted
    for column in columns.values():
        column.total = cents(column.total)
        column.weighted_total = weighted(column.total, column.stage.probability)
    return columns


def _decode_cursor(raw: str | None) -> tuple[int, int] | None:
    try:
        position, pk = (raw or "").split("~")
        return int(position), int(pk)
    except ValueError:
        return None


def column_page(
    actor: Actor, stage: Stage, filters: DealFilters, after: str | None = None
) -> tuple[list[Deal], str | None]:
    """One page of the stage's open deals in board order, after the cursor "<position>~<id>"."""
    deals = open_deals(actor, filters).filter(stage=stage).select_related("owner").order_by("position", "id")
    cursor = _decode_cursor(after)
    if cursor is not None:
        position, pk = cursor
        deals = deals.filter(Q(position__gt=position) | Q(position=position, id__gt=pk))
    page = list(deals[: COLUMN_PAGE + 1])
    next_cursor = None
    if len(page) > COLUMN_PAGE:
        page = page[:COLUMN_PAGE]
        next_cursor = f"{page[-1].position}~{page[-1].pk}"
    return page, next_cursor


def board(
    actor: Actor,
    pipeline: Pipeline,
    filters: DealFilters,
    day: datetime.date | None = None,
    book: RateBook | None = None,
) -> list[Column]:
    """The columns of the pipeline: totals in one grouped query, then one page per stage."""
    day = day or timezone.localdate()
    stages = live_stages(pipeline)
    book = book or rate_book(actor.organization, day)
    columns = column_totals(actor, stages, filters, book, day)
    for stage in stages:
        column = columns[stage.pk]
        column.deals, column.next_cursor = column_page(actor, stage, filters)
    return [columns[s.pk] for s in stages]


def is_rotting(deal: Deal, stage: Stage, now: datetime.datetime | None = None) -> bool:
    if not stage.rotting_days or deal.status != Deal.Status.OPEN:
        return False
    now = now or timezone.now()
    return now - max(deal.last_activity_at, deal.stage_entered_at) > datetime.timedelta(days=stage.rotting_days)


@dataclass
class StageSpell:
    stage_name: str
    entered_at: datetime.datetime
    left_at: datetime.datetime | None
    actor_name: str

    @property
    def duration(self) -> datetime.timedelta:
        return (self.left_at or timezone.now()) - self.entered_at


def deal_history(deal: Deal) -> tuple[list[DealEvent], list[StageSpell]]:
    """The deal's events, oldest first, and the time it spent in each stage."""
    events = list(
        DealEvent.objects.filter(organization_id=deal.organization_id, deal=deal)
        .select_related("actor", "from_stage", "to_stage")
        .order_by("at", "id")
    )
    spells: list[StageSpell] = []
    for event in events:
        if event.kind in (DealEvent.Kind.CREATED, DealEvent.Kind.STAGE) and event.to_stage is not None:
            if spells:
                spells[-1].left_at = event.at
            spells.append(StageSpell(event.to_stage.name, event.at, None, str(event.actor) if event.actor else ""))
    return events, spells


def transactions_of(organization, *, contact=None, company=None) -> tuple[list[Transaction], dict]:
    """A contact's or company's transactions (newest first, at most 200) and their totals
    per kind and currency: {(kind, currency): Decimal}."""
    rows = Transaction.objects.filter(organization=organization)
    rows = rows.filter(contact=contact) if contact is not None else rows.filter(company=company)
    totals: dict = defaultdict(lambda: Decimal("0.00"))
    for row in rows.values("kind", "currency").annotate(total=Sum("amount")).order_by():
        totals[(row["kind"], row["currency"])] = row["total"]
    return list(rows.select_related("deal").order_by("-date", "-id")[:200]), dict(totals)
