from __future__ import annotations

from allauth.account.views import ConfirmEmailView as AllauthConfirmEmailView
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from user_agents import parse as parse_user_agent

from accounts import services
from accounts.adapter import PENDING_INVITATION_SESSION_KEY
from accounts.exports import MEMBER_EXPORT, export_available, export_expires_at, export_path
from accounts.forms import InvitationForm, MemberRoleForm, OrganizationCreateForm, OrganizationSettingsForm
from accounts.models import Membership
from accounts.selectors import (
    confirmation_link_owner,
    find_invitation,
    get_invitation_for,
    get_job_for,
    get_membership_for,
    members_of,
    pending_invitations,
    recently_accepted_invitations,
)
from logicnet.audit.services import client_ip, record_event
from logicnet.jobs.services import start_job
from logicnet.tenancy.context import act_as, tenant_context
from logicnet.tenancy.roles import Role, requires_role


@login_required
def home(request):
    membership = (
        Membership.objects.filter(user=request.user, organization__is_active=True)
        .select_related("organization")
        .order_by("created_at")
        .first()
    )
    if membership is None:
        return redirect("organization_create")
    return redirect("dashboard", org_slug=membership.organization.slug)


@login_required
def organization_create(request):
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = services.create_organization(name=form.cleaned_data["name"], owner=request.user)
        return redirect("dashboard", org_slug=organization.slug)
    return render(request, "accounts/organization_create.html", {"form": form})


# --- Members ---------------------------------------------------------------------------------


def members(request, org_slug):
    can_manage = request.actor.at_least(Role.ADMIN)
    invitations = pending_invitations() if can_manage else []
    accepted = recently_accepted_invitations() if can_manage else []
    return render(
        request,
        "accounts/members.html",
        {
            "members": members_of(request.organization),
            "invitations": invitations,
            "accepted_invitations": accepted,
            "invite_form": InvitationForm(),
            "roles": Role.choices,
            "can_manage": can_manage,
        },
    )


@require_POST
@requires_role(write=Role.ADMIN)
def member_invite(request, org_slug):
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            services.invite_member(
                organization=request.organization,
                actor=request.user,
                ip_address=client_ip(request),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % form.cleaned_data)
    else:
        messages.error(request, _("Enter a valid email address and role."))
    return redirect("members", org_slug=org_slug)


@require_POST
@requires_role(write=Role.ADMIN)
def member_role(request, org_slug, membership_id):
    membership = get_membership_for(request, membership_id)
    form = MemberRoleForm(request.POST)
    if form.is_valid():
        try:
            services.change_member_role(
                organization=request.organization,
                actor=request.user,
                membership=membership,
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Role changed."))
    return redirect("members", org_slug=org_slug)


@require_POST
@requires_role(write=Role.ADMIN)
def member_privacy_officer(request, org_slug, membership_id):
    membership = get_membership_for(request, membership_id)
    value = request.POST.get("privacy_officer") == "1"
    try:
        services.set_privacy_officer(
            organization=request.organization, actor=request.user, membership=membership, value=value
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        name = membership.user.full_name or membership.user.email
        if value:
            messages.success(request, _("%(name)s is a privacy officer now.") % {"name": name})
        else:
            messages.success(request, _("%(name)s is no longer a privacy officer.") % {"name": name})
    return redirect("members", org_slug=org_slug)


@require_POST
@requires_role(write=Role.ADMIN)
def member_remove(request, org_slug, membership_id):
    membership = get_membership_for(request, membership_id)
    try:
        services.remove_member(organization=request.organization, actor=request.user, membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("%(name)s was removed.") % {"name": membership.user.full_name or membership.user.email}
        )
    return redirect("members", org_slug=org_slug)


@require_POST
@requires_role(write=Role.READ_ONLY)
def organization_leave(request, org_slug):
    try:
        services.remove_member(organization=request.organization, actor=request.user, membership=request.membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("members", org_slug=org_slug)
    messages.success(request, _("You left %(name)s.") % {"name": request.organization.name})
    return redirect("home")


@require_POST
@requires_role(write=Role.ADMIN)
def invitation_revoke(request, org_slug, invitation_id):
    invitation = get_invitation_for(request, invitation_id)
    services.revoke_invitation(organization=request.organization, actor=request.user, invitation=invitation)
    messages.success(request, _("Invitation withdrawn."))
    return redirect("members", org_slug=org_slug)


def invitation_accept(request, token):
    """The invitee's link. Anonymous: sign up with the invited address (fixed), or sign in;
    the session remembers the invitation so that signing in, or confirming the address,
    comes back here. Signed in: accept with one click, only with the invited address
    verified on the account; anything else is a refusal that leaves the invitation unused."""
    try:
        organization_id, invitation_id = services.read_invitation_token(token)
    except ValidationError as exc:
        _forget_pending_invitation(request, token)
        return render(request, "accounts/invitation_invalid.html", {"reason": " ".join(exc.messages)}, status=400)
    with tenant_context(organization_id):
        invitation = find_invitation(invitation_id)
        if invitation is None or not invitation.is_pending:
            _forget_pending_invitation(request, token)
            return render(
                request,
                "accounts/invitation_invalid.html",
                {"reason": _("This invitation has already been used or was withdrawn.")},
                status=400,
            )
        if not request.user.is_authenticated:
            request.session[PENDING_INVITATION_SESSION_KEY] = token
            return render(request, "accounts/invitation_anonymous.html", {"invitation": invitation})
        try:
            services.check_invitation_acceptable(invitation=invitation, user=request.user)
            if request.method == "POST":
                services.accept_invitation(invitation=invitation, user=request.user, ip_address=client_ip(request))
        except ValidationError as exc:
            if exc.code != "unverified_address":
                # Confirming the address comes back here; nothing else this user does will.
                _forget_pending_invitation(request, token)
            context = {"invitation": invitation, "reason": " ".join(exc.messages), "code": exc.code}
            return render(request, "accounts/invitation_refused.html", context, status=403)
        if request.method == "POST":
            _forget_pending_invitation(request, token)
            messages.success(request, _("Welcome to %(name)s.") % {"name": invitation.organization.name})
            return redirect("dashboard", org_slug=invitation.organization.slug)
        return render(request, "accounts/invitation_accept.html", {"invitation": invitation})


def _forget_pending_invitation(request, token: str) -> None:
    if request.session.get(PENDING_INVITATION_SESSION_KEY) == token:
        del request.session[PENDING_INVITATION_SESSION_KEY]


# --- Organization settings -------------------------------------------------------------------


@requires_role(read=Role.ADMIN, write=Role.ADMIN)
def organization_settings(request, org_slug):
    organization = request.organization
    form = OrganizationSettingsForm(request.POST or None, initial=_settings_of(organization))
    if request.method == "POST" and form.is_valid():
        services.update_organization(organization=organization, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Settings saved."))
        return redirect("organization_settings", org_slug=org_slug)
    return render(request, "accounts/organization_settings.html", {"form": form})


def _settings_of(organization) -> dict:
    return {f: getattr(organization, f) for f in ("name", "country", "require_two_factor")}


# --- Background jobs -------------------------------------------------------------------------


@require_POST
@requires_role(write=Role.ADMIN)
def members_export(request, org_slug):
    job = start_job(organization=request.organization, actor=request.user, kind=MEMBER_EXPORT)
    record_event(
        action="export.members_requested",
        actor=request.user,
        organization=request.organization,
        target=job,
        ip_address=client_ip(request),
    )
    return redirect("job_detail", org_slug=org_slug, job_id=job.pk)


@requires_role(read=Role.ADMIN)
def job_detail(request, org_slug, job_id):
    job = get_job_for(request, job_id)
    template = "jobs/_progress.html" if request.htmx else "jobs/detail.html"
    context = {"job": job, "expires_at": export_expires_at(job), "available": export_available(job)}
    return render(request, template, context)


@requires_role(read=Role.ADMIN)
def job_download(request, org_slug, job_id):
    job = get_job_for(request, job_id)
    path = export_path(job)
    # Past its retention the file is gone, or about to be (the sweep runs every 15 minutes).
    if job.state != job.State.SUCCEEDED or not export_available(job):
        raise Http404
    record_event(
        action="export.downloaded",
        actor=request.user,
        organization=request.organization,
        target=job,
        ip_address=client_ip(request),
    )
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=job.result.get("filename", path.name), content_type="text/csv"
    )


# --- Sessions --------------------------------------------------------------------------------


@login_required
def sessions(request):
    from allauth.usersessions.models import UserSession

    if request.method == "POST" and request.POST.get("others") == "all":
        ended = services.end_other_sessions(
            user=request.user, current_session_key=request.session.session_key, ip_address=client_ip(request)
        )
        messages.success(
            request,
            ngettext("%(count)d other session was signed out.", "%(count)d other sessions were signed out.", ended)
            % {"count": ended},
        )
        return redirect("sessions")
    if request.method == "POST":
        try:
            services.end_user_session(
                user=request.user, session_id=int(request.POST.get("session", 0)), ip_address=client_ip(request)
            )
        except (UserSession.DoesNotExist, ValueError):
            raise Http404 from None
        messages.success(request, _("The session was signed out."))
        return redirect("sessions")
    rows = []
    for session in UserSession.objects.purge_and_list(request.user):
        agent = parse_user_agent(session.user_agent or "")
        rows.append(
            {
                "id": session.pk,
                "ip": session.ip,
                "browser": f"{agent.browser.family} {agent.browser.version_string}".strip(),
                "os": f"{agent.os.family} {agent.os.version_string}".strip(),
                "device": agent.device.family,
                "last_seen": session.last_seen_at,
                "created": session.created_at,
                "current": session.session_key == request.session.session_key,
            }
        )
    rows.sort(key=lambda row: (not row["current"], -row["last_seen"].timestamp()))
    others = sum(1 for row in rows if not row["current"])
    return render(request, "accounts/sessions.html", {"sessions": rows, "others": others})


class ConfirmEmailView(AllauthConfirmEmailView):
    """allauth's confirmation page, acting for the owner of the address the signed link
    names (email addresses are visible only to their acting user), so allauth finds the
    address, confirms it and signs its owner in as before."""

    def get_object(self, queryset=None):
        owner = confirmation_link_owner(self.kwargs["key"])
        if owner is not None:
            act_as(owner)
        return super().get_object(queryset)
