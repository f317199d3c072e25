"""The "Recently used" and "You may also want" panel: from the member's own usage events and
the organization's counts per feature, never from the organization's customers' data."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max

from logicnet.tenancy.roles import Actor
from usage.features import BY_KEY, PAGES, STARTERS, link_for, may_open
from usage.models import UsageEvent

RECENT = 5
SUGGESTIONS = 3
# A feature is suggested from the organization's use only when at least this many other
# members used it: a count of one would point at one colleague's habits.
MIN_OTHER_MEMBERS = 2


@dataclass(frozen=True)
class PanelEntry:
    key: str
    label: str
    url: str


def usage_panel(*, actor: Actor) -> dict[str, list[PanelEntry]]:
    """Run inside the organization's tenant context (the dashboard's view is).

    1. recently used: the member's own features, latest use first, pages the member may
       still open;
    2. you may also want: features at least MIN_OTHER_MEMBERS other members used, most
       members first, that this member has not; then the starter features, likewise.
    """
    organization, user = actor.organization, actor.user
    mine = (
        UsageEvent.objects.filter(user=user)
        .values("feature")
        .annotate(last=Max("occurred_at"))
        .order_by("-last", "feature")
    )
    used = [row["feature"] for row in mine if row["feature"] in BY_KEY]
    popular = (
        UsageEvent.objects.exclude(user=user)
        .values("feature")
        .annotate(members=Count("user", distinct=True))
        .filter(members__gte=MIN_OTHER_MEMBERS)
        .order_by("-members", "feature")
    )
    candidates = [row["feature"] for row in popular] + STARTERS

    def entry(key: str) -> PanelEntry:
        # Named as the page it leads to: "Contact pages" are shown as the contact list.
        page = BY_KEY[PAGES[BY_KEY[key].link]]
        return PanelEntry(page.key, str(page.label), link_for(page, organization.slug))

    # An entry is a page, not a feature: "Contact pages" lead to the contact list.
    recent: list[PanelEntry] = []
    shown: set[str] = set()
    for key in used:
        feature = BY_KEY[key]
        if feature.link in shown or not may_open(actor, feature):
            continue
        shown.add(feature.link)
        recent.append(entry(key))
    recent = recent[:RECENT]
    taken = {BY_KEY[key].link for key in used}
    suggestions: list[PanelEntry] = []
    for key in candidates:
        feature = BY_KEY.get(key)
        if feature is None or feature.link in taken or not may_open(actor, feature):
            continue
        taken.add(feature.link)
        suggestions.append(entry(key))
        if len(suggestions) == SUGGESTIONS:
            break
    return {"recent": recent, "suggestions": suggestions}
