"""Guarded reads: every lookup is bound to the request's organization."""

from __future__ import annotations

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
