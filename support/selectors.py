"""Careful reads of support data."""

from __future__ import annotations

from django.http import Http404

from logicnet.tenancy.context import tenant_context, user_context
from support.models import SupportAccessGrant, SupportAccessLog, SupportMessage, SupportRequest
from support.services.requests import body_of, subject_of


def requests_of(user) -> list[dict]:
    """The user's requests, newest activity first, subjects opened."""
    with user_context(user):
        rows = list(SupportRequest.objects.filter(user=user).order_by("-last_activity_at", "-pk")[:100])
        return [{"request": r, "subject": subject_of(r)} for r in rows]


def get_request_for(user, request_id: int) -> SupportRequest:
    """The user's own request; anyone else's is a 404 (and invisible to the row policy anyway)."""
    with user_context(user):
        found = SupportRequest.objects.filter(pk=request_id, user=user).first()
    if found is None:
        raise Http404
    return found


def thread(request: SupportRequest) -> list[dict]:
    """The messages, oldest first, bodies opened (the caller is the user's block or the
    admin's platform read)."""
    messages = list(SupportMessage.objects.filter(request=request).order_by("created_at", "pk"))
    return [{"message": m, "body": body_of(m)} for m in messages]


def thread_for(user, request: SupportRequest) -> tuple[str, list[dict]]:
    with user_context(user):
        return subject_of(request), thread(request)


def get_message_for(user, message_id: int) -> SupportMessage:
    with user_context(user):
        found = SupportMessage.objects.select_related("request").filter(pk=message_id, request__user=user).first()
    if found is None or not found.attachment_type:
        raise Http404
    return found


def grants_of(organization) -> list[SupportAccessGrant]:
    with tenant_context(organization):
        return list(
            SupportAccessGrant.objects.select_related("granted_by", "revoked_by").order_by("-granted_at", "-pk")[:20]
        )


def openings_of(organization) -> list[SupportAccessLog]:
    with tenant_context(organization):
        return list(SupportAccessLog.objects.select_related("staff").order_by("-opened_at", "-pk")[:100])
