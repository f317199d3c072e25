"""Guarded reads: every lookup is bound to the request's organization."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404

from accounts.models import Invitation, Membership
from logicnet.jobs.models import Job


def get_membership_for(request, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), pk=pk, organization=request.organization)


def get_invitation_for(request, pk: int) -> Invitation:
    return get_object_or_404(Invitation.objects.all(), pk=pk)


def get_job_for(request, pk: int) -> Job:
    return get_object_or_404(Job.objects.all(), pk=pk)


def members_of(organization):
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def pending_invitations():
    return Invitation.objects.filter(accepted_at=None, revoked_at=None).order_by("-created_at")


def find_invitation(invitation_id: int) -> Invitation | None:
    """Inside the invitation's organization context (the invitee is not a member yet)."""
    return Invitation.objects.select_related("organization").filter(pk=invitation_id).first()


def recently_accepted_invitations(limit: int = 20):
    """Who accepted which invitation and when, for the members page (the inviter's view)."""
    return (
        Invitation.objects.filter(accepted_at__isnull=False)
        .select_related("accepted_by", "invited_by")
        .order_by("-accepted_at")[:limit]
    )


def pending_invitation_for_token(token: str) -> Invitation | None:
    """The pending invitation a link's token names, read in its organization's context;
    None for a bad, expired, used or withdrawn one."""
    from accounts.services import read_invitation_token
    from logicnet.tenancy.context import tenant_context

    try:
        organization_id, invitation_id = read_invitation_token(token)
    except ValidationError:
        return None
    with tenant_context(organization_id):
        invitation = find_invitation(invitation_id)
    return invitation if invitation is not None and invitation.is_pending else None


def confirmation_link_owner(key: str) -> int | None:
    """The id of the user whose unconfirmed address a confirmation link names, or None.

    The key is checked as allauth checks it (signed with the secret key, not expired)
    before the database is asked; only then does the narrow function
    logicnet_unconfirmed_email_owner say whose address it is (the web role sees only the
    acting user's addresses, and whoever opens the link acts for nobody yet)."""
    from allauth.account import app_settings
    from django.core import signing
    from django.db import connection

    if not app_settings.EMAIL_CONFIRMATION_HMAC:
        return None
    try:
        max_age = 60 * 60 * 24 * app_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS
        address_id = int(signing.loads(key, max_age=max_age, salt=app_settings.SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT logicnet_unconfirmed_email_owner(%s)", [address_id])
        (owner,) = cursor.fetchone()
    return owner
