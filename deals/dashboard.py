"""The organization's dashboard: the numbers a sales team compares, as charts with the same
numbers in a table and a CSV.

Every figure starts from the same guarded reads as the pages it summarises
(deals.access.visible_deals, contacts.access.visible_contacts, the activity selectors), so a
member sees on the dashboard exactly what the organization's visibility rules let them see
elsewhere. Sums are made in SQL per (group, currency) and converted in Python with Decimal
(deals.money), by the rate of the group's own date (the month's last day, or today for open
deals); a currency without a rate is named under the chart, never guessed.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from activity.selectors import members_of_organization, visible_interactions, visible_tasks
from contacts.access import visible_contacts
from deals.access import visible_deals
from deals.models import Deal, DealSettings, DealTotal, Pipeline, Stage
from deals.money import RateBook, cents, rate_book, weighted
from deals.selectors import DealFilters, column_totals, live_stages, stored_totals
from logicnet.tenancy.roles import Actor

PERIODS = (3, 6, 12)  # months the period filter offers
FORECAST_MONTHS = 3
NEW_CONTACT_WEEKS = 12
OVERDUE_LISTED = 10


@dataclass
class Series:
    name: str
    values: list[Decimal | int]


@dataclass
class Chart:
    key: str
    title: str
    money: bool  # values are amounts in the base currency (else counts)
    labels: list[str]
    series: list[Series]
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.labels or not any(value for series in self.series for value in series.values)

    def rows(self) -> list[list]:
        """The table (and CSV) of the chart: one row per label, one column per series."""
        return [[label, *(series.values[i] for series in self.series)] for i, label in enumerate(self.labels)]


@dataclass(frozen=True)
class DashboardFilters:
    owner_id: int | None = None
    pipeline: Pipeline | None = None
    months: int = 6


@dataclass
class Dashboard:
    base_currency: str
    charts: list[Chart]
    overdue_tasks: list
    overdue_count: int
    computed_at: datetime.datetime
    # The deal charts read the stored totals (kept by the database with every change) rather
    # than the deals; when the nightly recount last checked them against the deals.
    from_stored_totals: bool = False
    totals_recounted_at: datetime.datetime | None = None

    def chart(self, key: str) -> Chart:
        return next(chart for chart in self.charts if chart.key == key)


# --- periods -----------------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(first: datetime.date) -> datetime.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def month_label(first: datetime.date) -> str:
    return formats.date_format(first, "M Y")


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _day_of(value: datetime.datetime | datetime.date) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# --- the charts -------------------------------------------------------------------------------


def _converted(book: RateBook, amount: Decimal | None, currency: str, day: datetime.date, missing: set[str]) -> Decimal:
    converted = book.to_base(amount or Decimal(0), currency, day)
    if converted is None:
        missing.add(currency)
        return Decimal(0)
    return converted


def _missing_note(missing: set[str], base: str) -> list[str]:
    if not missing:
        return []
    return [
        _("Amounts in %(currencies)s are left out: no rate to %(base)s is entered for their dates.")
        % {"currencies": ", ".join(sorted(missing)), "base": base}
    ]


def pipeline_by_stage(
    actor: Actor, pipeline: Pipeline, deal_filters: DealFilters, book: RateBook, today: datetime.date
) -> Chart:
    stages = live_stages(pipeline)
    columns = column_totals(actor, stages, deal_filters, book, today)
    missing = {currency for column in columns.values() for currency in column.unconverted}
    return Chart(
        key="pipeline",
        title=_("Open pipeline value by stage"),
        money=True,
        labels=[stage.name for stage in stages],
        series=[
            Series(_("Value"), [columns[stage.pk].total for stage in stages]),
            Series(_("Weighted value"), [columns[stage.pk].weighted_total for stage in stages]),
        ],
        notes=_missing_note(missing, book.base),
    )


def closed_rows(deals: QuerySet[Deal], stored: QuerySet[DealTotal] | None, since: datetime.date) -> Iterable[dict]:
    """Won and lost deals closed since the first of `since`'s month, per (month, status,
    currency): {"month", "status", "currency", "n", "total"}. From the stored totals when
    given (their month is the local month of closed_at, as TruncMonth's here)."""
    closed = [Deal.Status.WON, Deal.Status.LOST]
    if stored is not None:
        return (
            stored.filter(status__in=closed, month__gte=month_start(since))
            .values("month", "status", "currency")
            .annotate(n=Sum("deal_count"), total=Sum("value_sum"))
            .order_by()
        )
    return (
        deals.filter(status__in=closed, closed_at__gte=_start_of(month_start(since)))
        .annotate(month=TruncMonth("closed_at"))
        .values("month", "status", "currency")
        .annotate(n=Count("id"), total=Sum("value"))
        .order_by()
    )


def won_and_lost(rows: Iterable[dict], months: int, book: RateBook, today: datetime.date) -> tuple[Chart, Chart]:
    first = add_months(today, -(months - 1))
    firsts = [add_months(first, i) for i in range(months)]
    index = {day: i for i, day in enumerate(firsts)}
    won, lost = [0] * months, [0] * months
    won_value = [Decimal("0.00")] * months
    missing: set[str] = set()
    for row in rows:
        i = index.get(month_start(_day_of(row["month"])))
        if i is None:
            continue
        if row["status"] == Deal.Status.WON:
            won[i] += row["n"]
            won_value[i] += _converted(book, row["total"], row["currency"], month_end(firsts[i]), missing)
        else:
            lost[i] += row["n"]
    labels = [month_label(day) for day in firsts]
    counts = Chart(
        key="won_lost",
        title=_("Deals won and lost per month"),
        money=False,
        labels=labels,
        series=[Series(_("Won"), won), Series(_("Lost"), lost)],
    )
    value = Chart(
        key="won_value",
        title=_("Value won per month"),
        money=True,
        labels=labels,
        series=[Series(_("Won value"), [cents(v) for v in won_value])],
        notes=_missing_note(missing, book.base),
    )
    return counts, value


def open_rows(
    deals: QuerySet[Deal], stored: QuerySet[DealTotal] | None, organization, today: datetime.date
) -> list[dict]:
    """Open deals expected to close in the next FORECAST_MONTHS months (this one included),
    per (month, win probability, currency): {"month", "probability", "currency", "total"}.
    The stored totals are grouped by stage: their sums are added up per probability here,
    so each group is converted and weighted exactly as the live sum of the same deals."""
    first, end = month_start(today), add_months(today, FORECAST_MONTHS)
    if stored is None:
        return list(
            deals.filter(status=Deal.Status.OPEN, expected_close__gte=first, expected_close__lt=end)
            .annotate(month=TruncMonth("expected_close"), probability=F("stage__probability"))
            .values("month", "probability", "currency")
            .annotate(total=Sum("value"))
            .order_by()
        )
    by_stage = list(
        stored.filter(status=Deal.Status.OPEN, month__gte=first, month__lt=end)
        .values("month", "stage_id", "currency")
        .annotate(total=Sum("value_sum"))
        .order_by()
    )
    probability = dict(
        Stage.objects.filter(organization=organization, pk__in={row["stage_id"] for row in by_stage}).values_list(
            "pk", "probability"
        )
    )
    grouped: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in by_stage:
        grouped[(row["month"], probability[row["stage_id"]], row["currency"])] += row["total"]
    return [
        {"month": month, "probability": chance, "currency": currency, "total": total}
        for (month, chance, currency), total in grouped.items()
    ]


def forecast(rows: Iterable[dict], book: RateBook, today: datetime.date) -> Chart:
    """Open deals expected to close in each of the next three months (this one included):
    their value, and the value weighted by their stage's win probability."""
    firsts = [add_months(today, i) for i in range(FORECAST_MONTHS)]
    index = {day: i for i, day in enumerate(firsts)}
    open_value = [Decimal("0.00")] * FORECAST_MONTHS
    expected = [Decimal("0.00")] * FORECAST_MONTHS
    missing: set[str] = set()
    for row in rows:
        i = index.get(month_start(_day_of(row["month"])))
        if i is None:
            continue
        amount = _converted(book, row["total"], row["currency"], today, missing)
        open_value[i] += amount
        expected[i] += weighted(amount, row["probability"])
    return Chart(
        key="forecast",
        title=_("Weighted forecast, next three months"),
        money=True,
        labels=[month_label(day) for day in firsts],
        series=[Series(_("Open value"), open_value), Series(_("Weighted forecast"), expected)],
        notes=_missing_note(missing, book.base),
    )


def activity_per_owner(actor: Actor, owner_id: int | None, since: datetime.date) -> Chart:
    members = list(members_of_organization(actor.organization))
    if owner_id:
        members = [member for member in members if member.pk == owner_id]
    start = _start_of(since)
    logged = dict(
        visible_interactions(actor)
        .filter(occurred_at__gte=start, author__isnull=False)
        .values("author_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("author_id", "n")
    )
    done = dict(
        visible_tasks(actor)
        .filter(done_at__gte=start, assignee__isnull=False)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("assignee_id", "n")
    )
    members = [m for m in members if logged.get(m.pk) or done.get(m.pk)] or members
    return Chart(
        key="activity",
        title=_("Activity per owner"),
        money=False,
        labels=[member.full_name or member.email for member in members],
        series=[
            Series(_("Interactions logged"), [logged.get(m.pk, 0) for m in members]),
            Series(_("Tasks completed"), [done.get(m.pk, 0) for m in members]),
        ],
    )


def overdue_tasks(actor: Actor, owner_id: int | None, now: datetime.datetime) -> tuple[Chart, list, int]:
    tasks = visible_tasks(actor).filter(done_at=None, due_at__lt=now)
    if owner_id:
        tasks = tasks.filter(assignee_id=owner_id)
    per_assignee = dict(tasks.values("assignee_id").annotate(n=Count("id")).order_by().values_list("assignee_id", "n"))
    members = {m.pk: m for m in members_of_organization(actor.organization)}
    keys = sorted(per_assignee, key=lambda pk: (-per_assignee[pk], pk or 0))
    labels = [(members[pk].full_name or members[pk].email) if pk in members else _("Unassigned") for pk in keys]
    chart = Chart(
        key="overdue",
        title=_("Overdue tasks"),
        money=False,
        labels=labels,
        series=[Series(_("Overdue tasks"), [per_assignee[pk] for pk in keys])],
    )
    listed = list(tasks.select_related("contact", "company", "assignee").order_by("due_at", "pk")[:OVERDUE_LISTED])
    return chart, listed, sum(per_assignee.values())


def new_contacts_per_week(actor: Actor, owner_id: int | None, today: datetime.date) -> Chart:
    this_week = today - datetime.timedelta(days=today.weekday())
    mondays = [this_week - datetime.timedelta(weeks=NEW_CONTACT_WEEKS - 1 - i) for i in range(NEW_CONTACT_WEEKS)]
    contacts = visible_contacts(actor).filter(created_at__gte=_start_of(mondays[0]))
    if owner_id:
        contacts = contacts.filter(owner_id=owner_id)
    counts = {
        _day_of(row["week"]): row["n"]
        for row in contacts.annotate(week=TruncWeek("created_at")).values("week").annotate(n=Count("id")).order_by()
    }
    return Chart(
        key="new_contacts",
        title=_("New contacts per week"),
        money=False,
        labels=[formats.date_format(monday, "j M") for monday in mondays],
        series=[Series(_("New contacts"), [counts.get(monday, 0) for monday in mondays])],
    )


def totals_recounted_at(organization) -> datetime.datetime | None:
    return DealSettings.objects.filter(organization=organization).values_list("totals_recounted_at", flat=True).first()


def build_dashboard(actor: Actor, filters: DashboardFilters, *, now: datetime.datetime | None = None) -> Dashboard:
    """Every chart of the dashboard for this actor and these filters (inside the
    organization's tenant context, as every organization page is)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    book = rate_book(actor.organization)
    deals = visible_deals(actor)
    if filters.owner_id:
        deals = deals.filter(owner_id=filters.owner_id)
    pipeline_deals = deals.filter(pipeline=filters.pipeline) if filters.pipeline else deals
    charts: list[Chart] = []
    if filters.pipeline is not None:
        charts.append(pipeline_by_stage(actor, filters.pipeline, DealFilters(owner_id=filters.owner_id), book, today))
    stored = stored_totals(actor, DealFilters(owner_id=filters.owner_id))
    pipeline_stored = (
        stored.filter(pipeline_id=filters.pipeline.pk) if stored is not None and filters.pipeline else stored
    )
    since = add_months(today, -(filters.months - 1))
    won_lost, won_value = won_and_lost(closed_rows(pipeline_deals, pipeline_stored, since), filters.months, book, today)
    charts += [
        won_lost,
        won_value,
        forecast(open_rows(pipeline_deals, pipeline_stored, actor.organization, today), book, today),
    ]
    charts.append(activity_per_owner(actor, filters.owner_id, since))
    overdue_chart, overdue_listed, overdue_count = overdue_tasks(actor, filters.owner_id, now)
    charts.append(overdue_chart)
    charts.append(new_contacts_per_week(actor, filters.owner_id, today))
    return Dashboard(
        base_currency=book.base,
        charts=charts,
        overdue_tasks=overdue_listed,
        overdue_count=overdue_count,
        computed_at=now,
        from_stored_totals=stored is not None,
        totals_recounted_at=totals_recounted_at(actor.organization) if stored is not None else None,
    )
