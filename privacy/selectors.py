"""Guarded reads of the privacy desk: every request comes through the actor's organization.

Another organization's request is a 404, never a 403 (that would confirm it exists).
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from logicnet.tenancy.organizations import membership_model
from logicnet.tenancy.roles import Actor, Role
from privacy.models import PrivacyRequest, RequestEvent

OPEN = Q(status__in=PrivacyRequest.OPEN_STATUSES)
# Memberships that may work the desk, as Actor.works_privacy_desk has it.
DESK_MEMBERSHIP = Q(role__in=[Role.OWNER, Role.ADMIN]) | Q(is_privacy_officer=True)


def desk_requests(actor: Actor) -> QuerySet[PrivacyRequest]:
    """The organization's requests, each with its `deadline_on` (the extended one when set)."""
    return PrivacyRequest.objects.filter(organization=actor.organization).annotate(
        deadline_on=Coalesce("extended_due_on", "due_on")
    )


def get_request_for(actor: Actor, pk: int) -> PrivacyRequest:
    return get_object_or_404(desk_requests(actor).select_related("assigned_to", "contact", "duplicate_of"), pk=pk)


def filter_queue(
    requests: QuerySet[PrivacyRequest],
    *,
    today: datetime.date,
    state: str = "open",
    right: str = "",
    assigned_to=None,
    overdue: bool = False,
) -> QuerySet[PrivacyRequest]:
    """The queue's filters. Open requests come by deadline (the most urgent first), priority
    requests (a child's data) before all others; closed ones, newest first."""
    if state == "open":
        requests = requests.filter(OPEN)
    elif state == "closed":
        requests = requests.exclude(OPEN)
    if right:
        requests = requests.filter(rights__contains=[right])
    if assigned_to is not None:
        requests = requests.filter(assigned_to=assigned_to)
    if overdue:
        requests = requests.filter(OPEN, deadline_on__lt=today)
    if state == "open" or overdue:
        return requests.order_by("-priority", "deadline_on", "received_at", "pk")
    return requests.order_by("-received_at", "-pk")


def queue_counts(requests: QuerySet[PrivacyRequest], *, today: datetime.date) -> dict[str, int]:
    """How many requests are open and how many of them overdue, in one query."""
    return requests.aggregate(
        open=Count("pk", filter=OPEN),
        overdue=Count("pk", filter=OPEN & Q(deadline_on__lt=today)),
    )


def timeline(request: PrivacyRequest) -> QuerySet[RequestEvent]:
    return (
        RequestEvent.objects.filter(organization_id=request.organization_id, request=request)
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )


def earlier_requests(request: PrivacyRequest) -> QuerySet[PrivacyRequest]:
    """Open requests received before this one, that it may be grouped with."""
    return (
        PrivacyRequest.objects.filter(organization_id=request.organization_id, received_at__lte=request.received_at)
        .filter(OPEN)
        .exclude(pk=request.pk)
        .order_by("-received_at")
    )


def desk_members(organization):
    """Members a request may be assigned to: those who work the privacy desk (admins,
    owners, privacy officers)."""
    return (
        membership_model()
        .objects.filter(DESK_MEMBERSHIP, organization=organization)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def user_names(ids) -> dict[int, str]:
    """Display names of the users the timeline names (an assignee may have left since)."""
    from django.contrib.auth import get_user_model

    return {user.pk: user.full_name or user.email for user in get_user_model().objects.filter(pk__in=list(ids))}
