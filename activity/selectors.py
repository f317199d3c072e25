"""Reads of interactions and tasks: guarded lookups, "My tasks" and the timeline.

Visibility follows the contacts' (see contacts.access): with the organization's "own"
setting a member sees an interaction only through a participant they may see (or as its
author), and a task only through its contact or its deal (or as its assignee or creator).
A timeline never names a participant the viewer may not see.

A timeline is a contact's, a company's or a deal's. An interaction logged on a deal has the
deal's contacts among its participants, so it is on the deal's timeline and on theirs.

The timeline is a merge of sources. Each source yields its newest entries before a cursor
in one indexed query; deals and privacy events later plug in as further sources (append
to TIMELINE_SOURCES), and a page stays one query per source plus one for participants,
whatever the size of the history.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Organization, User
from activity.models import Interaction, InteractionParticipant, Task
from contacts.access import sees_all_contacts, visible_contacts
from contacts.models import Company, Contact
from deals.access import visible_deals
from deals.models import Deal
from logicnet.tenancy.roles import Actor

TIMELINE_PAGE_SIZE = 25
# Past this many participants an entry says "and N more" instead of naming them all.
PARTICIPANTS_SHOWN = 6


def visible_contacts_or_none(actor: Actor) -> QuerySet[Contact] | None:
    """The contacts the actor may see, or None when that is every contact of the
    organization (the selectors then skip the extra condition)."""
    return None if sees_all_contacts(actor) else visible_contacts(actor)


# --- guarded lookups for views ---------------------------------------------------------------


def visible_interactions(actor: Actor) -> QuerySet[Interaction]:
    interactions = Interaction.objects.filter(organization=actor.organization)
    visible = visible_contacts_or_none(actor)
    if visible is None:
        return interactions
    seen = InteractionParticipant.objects.filter(
        organization=actor.organization, interaction=OuterRef("pk"), contact__in=visible
    )
    return interactions.filter(Q(author=actor.user) | Exists(seen))


def get_interaction_for(actor: Actor, pk: int) -> Interaction:
    return get_object_or_404(visible_interactions(actor).select_related("company"), pk=pk)


def visible_tasks(actor: Actor) -> QuerySet[Task]:
    tasks = Task.objects.filter(organization=actor.organization)
    visible = visible_contacts_or_none(actor)
    if visible is None:
        return tasks
    return tasks.filter(
        Q(contact=None, deal=None)
        | Q(contact__in=visible)
        | Q(contact=None, deal__in=visible_deals(actor))
        | Q(assignee=actor.user)
        | Q(created_by=actor.user)
    )


def get_task_for(actor: Actor, pk: int) -> Task:
    return get_object_or_404(visible_tasks(actor).select_related("contact", "company", "deal", "assignee"), pk=pk)


def participants_of(interaction: Interaction, visible: QuerySet[Contact] | None = None) -> list[Contact]:
    rows = InteractionParticipant.objects.filter(
        organization_id=interaction.organization_id, interaction=interaction
    ).select_related("contact")
    if visible is not None:
        rows = rows.filter(contact__in=visible)
    return [row.contact for row in rows.order_by("pk")]


def members_of_organization(organization: Organization) -> QuerySet[User]:
    """Users who may be assigned a task: the organization's members."""
    return User.objects.filter(memberships__organization=organization, is_active=True).order_by("full_name", "email")


# --- My tasks ---------------------------------------------------------------------------------

# Each group is capped: a list of thousands of open tasks helps nobody, and the page must
# stay one bounded query per group.
MY_TASKS_GROUP_LIMIT = 200
RECENTLY_DONE_DAYS = 7
RECENTLY_DONE_LIMIT = 20


@dataclass
class MyTasks:
    overdue: list[Task]
    today: list[Task]
    upcoming: list[Task]
    done: list[Task]
    truncated: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.today or self.upcoming or self.done)


def start_of_next_day(now: datetime.datetime) -> datetime.datetime:
    """Midnight after `now` in the organization's time zone (settings.TIME_ZONE)."""
    local = timezone.localtime(now)
    tomorrow = local.date() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))


def my_tasks(organization: Organization, user: User, *, now: datetime.datetime | None = None) -> MyTasks:
    """The user's open tasks as Overdue (due before now), Today (due later today) and
    Upcoming (due after today, or with no due date), and the tasks done this week.

    Three queries, each a range of task_assignee_idx (organization, assignee, done_at,
    due_at): open tasks have done_at NULL, so the range is ordered by due date."""
    now = now or timezone.now()
    midnight = start_of_next_day(now)
    base = Task.objects.filter(organization=organization, assignee=user).select_related(
        "contact", "company", "deal", "assignee"
    )
    open_tasks = base.filter(done_at=None)
    limit = MY_TASKS_GROUP_LIMIT
    due_soon = list(open_tasks.filter(due_at__lt=midnight).order_by("due_at", "pk")[: limit * 2 + 1])
    later = list(
        open_tasks.filter(Q(due_at__gte=midnight) | Q(due_at=None)).order_by(F("due_at").asc(nulls_last=True), "pk")[
            : limit + 1
        ]
    )
    done = list(
        base.filter(done_at__gte=now - datetime.timedelta(days=RECENTLY_DONE_DAYS)).order_by("-done_at", "-pk")[
            :RECENTLY_DONE_LIMIT
        ]
    )
    overdue = [task for task in due_soon if task.due_at < now]
    today = [task for task in due_soon if task.due_at >= now]
    truncated = len(due_soon) > limit * 2 or len(later) > limit
    return MyTasks(overdue=overdue[:limit], today=today[:limit], upcoming=later[:limit], done=done, truncated=truncated)


# --- the timeline -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in a timeline: entries strictly older than (at, kind, pk) come next.

    Ties on the timestamp are broken by kind, then id, so two entries at the same
    microsecond are never skipped or shown twice across a page boundary."""

    at: datetime.datetime
    kind: str
    pk: int

    _EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

    def encode(self) -> str:
        # Whole microseconds: exact, unlike a float timestamp, and free of URL escaping.
        micros = (self.at - self._EPOCH) // datetime.timedelta(microseconds=1)
        return f"{micros}.{self.kind}.{self.pk}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        if not value:
            return None
        try:
            micros, kind, pk = value.split(".")
            at = cls._EPOCH + datetime.timedelta(microseconds=int(micros))
            return cls(at=at, kind=kind, pk=int(pk))
        except (ValueError, OverflowError):
            return None

    def before(self, kind: str, at_field: str, pk_field: str = "pk") -> Q:
        """Rows of `kind` after this cursor in newest-first order. The `<=` bound on the
        timestamp alone lets the index range scan stop where the page starts."""
        up_to = Q(**{f"{at_field}__lte": self.at})
        if kind < self.kind:
            return up_to
        if kind > self.kind:
            return Q(**{f"{at_field}__lt": self.at})
        return up_to & (Q(**{f"{at_field}__lt": self.at}) | Q(**{pk_field + "__lt": self.pk}))


@dataclass
class TimelineEntry:
    at: datetime.datetime
    kind: str
    object: Any
    participants: list[Contact] = field(default_factory=list)
    more_participants: int = 0

    @property
    def pk(self) -> int:
        return self.object.pk

    @property
    def sort_key(self) -> tuple:
        return (self.at, self.kind, self.pk)

    @property
    def cursor(self) -> Cursor:
        return Cursor(at=self.at, kind=self.kind, pk=self.pk)

    @property
    def is_overdue(self) -> bool:
        return self.kind == "task" and self.object.done_at is None and self.at < timezone.now()


@dataclass
class TimelineQuery:
    """What a source needs: whose timeline, where the page starts, how many entries."""

    organization: Organization
    contact: Contact | None
    company: Company | None
    cursor: Cursor | None
    limit: int
    visible: QuerySet[Contact] | None  # None: the viewer sees every contact
    deal: Deal | None = None
    viewer: User | None = None  # sees what they wrote on a deal, whoever it was with


Source = Callable[[TimelineQuery], list[TimelineEntry]]


def interactions_source(query: TimelineQuery) -> list[TimelineEntry]:
    if query.contact is not None:
        # The contact's interactions are one range of participant_timeline_idx
        # (organization, contact, occurred_at).
        rows = InteractionParticipant.objects.filter(
            organization=query.organization, contact=query.contact
        ).select_related("interaction__author", "interaction__company", "interaction__deal")
        if query.cursor:
            rows = rows.filter(query.cursor.before("interaction", "occurred_at", "interaction_id"))
        rows = rows.order_by("-occurred_at", "-interaction_id")[: query.limit]
        return [TimelineEntry(at=row.occurred_at, kind="interaction", object=row.interaction) for row in rows]
    if query.deal is not None:
        # One range of interaction_deal_idx (organization, deal, occurred_at).
        interactions = Interaction.objects.filter(organization=query.organization, deal=query.deal)
    else:
        interactions = Interaction.objects.filter(organization=query.organization, company=query.company)
    interactions = interactions.select_related("author", "company", "deal")
    if query.visible is not None:
        seen = InteractionParticipant.objects.filter(
            organization=query.organization, interaction=OuterRef("pk"), contact__in=query.visible
        )
        condition = Q(Exists(seen))
        if query.deal is not None and query.viewer is not None:
            condition |= Q(author=query.viewer)
        interactions = interactions.filter(condition)
    if query.cursor:
        interactions = interactions.filter(query.cursor.before("interaction", "occurred_at"))
    interactions = interactions.order_by("-occurred_at", "-pk")[: query.limit]
    return [TimelineEntry(at=i.occurred_at, kind="interaction", object=i) for i in interactions]


def tasks_source(query: TimelineQuery) -> list[TimelineEntry]:
    """Tasks sit on the timeline at their due time, or when they were created if they
    have none. A contact or company has few tasks, so ordering by that expression over
    the contact's (or company's) index range stays cheap."""
    tasks = (
        Task.objects.filter(organization=query.organization)
        .annotate(timeline_at=Coalesce("due_at", "created_at"))
        .select_related("assignee", "contact", "company", "deal")
    )
    if query.contact is not None:
        tasks = tasks.filter(contact=query.contact)
    else:
        tasks = tasks.filter(deal=query.deal) if query.deal is not None else tasks.filter(company=query.company)
        if query.visible is not None:
            tasks = tasks.filter(Q(contact=None) | Q(contact__in=query.visible))
    if query.cursor:
        tasks = tasks.filter(query.cursor.before("task", "timeline_at"))
    tasks = tasks.order_by("-timeline_at", "-pk")[: query.limit]
    return [TimelineEntry(at=task.timeline_at, kind="task", object=task) for task in tasks]


# New kinds (deals, privacy events) append their source here; kinds must be distinct.
TIMELINE_SOURCES: list[Source] = [interactions_source, tasks_source]


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: Cursor | None


def _attach_participants(page: list[TimelineEntry], query: TimelineQuery) -> None:
    """Name each interaction's participants with one query for the whole page."""
    by_id = {entry.pk: entry for entry in page if entry.kind == "interaction"}
    if not by_id:
        return
    rows = (
        InteractionParticipant.objects.filter(organization=query.organization, interaction_id__in=list(by_id))
        .select_related("contact")
        # Only what a name needs: a contact row also carries its token array and notes.
        .only("interaction_id", "contact__organization_id", "contact__first_name", "contact__last_name")
    )
    if query.visible is not None:
        rows = rows.filter(contact__in=query.visible)
    for row in rows.order_by("interaction_id", "pk"):
        entry = by_id[row.interaction_id]
        if len(entry.participants) < PARTICIPANTS_SHOWN:
            entry.participants.append(row.contact)
        else:
            entry.more_participants += 1


def timeline(
    *,
    organization: Organization,
    contact: Contact | None = None,
    company: Company | None = None,
    deal: Deal | None = None,
    cursor: Cursor | None = None,
    visible: QuerySet[Contact] | None = None,
    viewer: User | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
    sources: list[Source] | None = None,
) -> TimelinePage:
    """One page of a contact's, a company's or a deal's timeline, newest first.

    1. ask every source for its newest `limit + 1` entries before the cursor (each is
       ordered like the merge, so no entry of this page can be further down a source);
    2. merge and keep `limit`; the extra one says whether an older page exists;
    3. name the interactions' participants in one query.
    """
    if [contact, company, deal].count(None) != 2:
        raise ValueError("a timeline is a contact's, a company's or a deal's")
    query = TimelineQuery(organization, contact, company, cursor, limit + 1, visible, deal=deal, viewer=viewer)
    merged: list[TimelineEntry] = []
    for source in sources if sources is not None else TIMELINE_SOURCES:
        merged += source(query)
    merged.sort(key=lambda entry: entry.sort_key, reverse=True)
    page = merged[:limit]
    _attach_participants(page, query)
    next_cursor = page[-1].cursor if len(merged) > limit else None
    return TimelinePage(entries=page, next_cursor=next_cursor)
