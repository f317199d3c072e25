"""Reads of the breach register.

An organization reads only its published notices (a tenant table: row-level security and
the scoped manager keep it to its own rows); never the platform's incident table, on which
the application role has no privilege at all (breaches/security.py)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from breaches import clock
from breaches.models import BreachIncident, BreachNotice, BreachRecipient
from logicnet.tenancy.context import tenant_context


def published_notices(actor):
    with tenant_context(actor.organization):
        return list(
            BreachNotice.objects.filter(organization=actor.organization, published_at__isnull=False).order_by(
                "-aware_at", "-pk"
            )
        )


def notice_row(notice: BreachNotice, *, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "notice": notice,
        "authority_clock": clock.authority_clock(notice, now=now),
        "organization_clock": clock.organization_clock(notice, now=now),
    }


def published_updates(notice: BreachNotice) -> list[dict]:
    return [{"at": datetime.fromisoformat(u["at"]), "text": u["text"]} for u in notice.updates]


def contact_delivery(actor, notices) -> dict[int, dict]:
    """{notice id: {status: count}} of the mail to the organization's people, in one query."""
    statuses = BreachRecipient.Status.values
    found = {n.pk: dict.fromkeys(statuses, 0) for n in notices}
    with tenant_context(actor.organization):
        grouped = (
            BreachRecipient.objects.filter(
                organization=actor.organization, notice_id__in=list(found), kind=BreachRecipient.Kind.CONTACT
            )
            .values_list("notice_id", "status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for notice_id, status, n in grouped:
            found[notice_id][status] = n
    return found


# --- the platform's side (admin process, inside platform_reads or platform_bypass) ------------


def register_rows(incidents, *, now: datetime | None = None) -> list[dict]:
    now = now or timezone.now()
    return [{"incident": i, "clock": clock.authority_clock(i, now=now)} for i in incidents]


def incident_notices(incident: BreachIncident) -> list[dict]:
    """Every affected organization's notice with its delivery counts (platform reads)."""
    notices = list(BreachNotice.objects.filter(incident=incident).select_related("organization").order_by("pk"))
    statuses = BreachRecipient.Status.values
    counts: dict[tuple[int, str], dict] = {}
    grouped = (
        BreachRecipient.objects.filter(notice__incident=incident)
        .values_list("notice_id", "kind", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for notice_id, kind, status, n in grouped:
        counts.setdefault((notice_id, kind), dict.fromkeys(statuses, 0))[status] = n
    empty = dict.fromkeys(statuses, 0)
    return [
        {
            "notice": n,
            "members": counts.get((n.pk, BreachRecipient.Kind.MEMBER), empty),
            "privacy_contact": counts.get((n.pk, BreachRecipient.Kind.PRIVACY_CONTACT), empty),
            "contacts": counts.get((n.pk, BreachRecipient.Kind.CONTACT), empty),
            "users": counts.get((n.pk, BreachRecipient.Kind.USER), empty),
        }
        for n in notices
    ]
