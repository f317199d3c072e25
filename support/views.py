"""The support inbox of an account holder (/support/) and an organization's support access
(/o/<org-slug>/settings/support-access/)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Membership
from logicnet.audit.services import client_ip
from logicnet.forms import add_service_errors
from logicnet.tenancy.context import user_context
from logicnet.tenancy.roles import Role, requires_role
from support import selectors
from support.forms import SupportAccessForm, SupportReplyForm, SupportRequestForm
from support.services import grants
from support.services import requests as support


def _memberships(user):
    return list(
        Membership.objects.filter(user=user, organization__is_active=True)
        .select_related("organization")
        .order_by("organization__name")
    )


def _screenshot(form):
    upload = form.cleaned_data.get("screenshot")
    if not upload:
        return None
    try:
        return support.read_screenshot(upload)
    except ValidationError as exc:
        form.add_error("screenshot", exc)
        return False


@login_required
def support_inbox(request):
    form = SupportRequestForm(request.POST or None, request.FILES or None, memberships=_memberships(request.user))
    if request.method == "POST" and form.is_valid():
        screenshot = _screenshot(form)
        if screenshot is not False:
            try:
                created = support.open_request(
                    user=request.user,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["message"],
                    organization=form.cleaned_data["organization"],
                    screenshot=screenshot,
                    ip_address=client_ip(request),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Your request was sent. Logicnet support answers here and by email."))
                return redirect("support_request", support_request_id=created.pk)
    return render(request, "support/inbox.html", {"form": form, "requests": selectors.requests_of(request.user)})


@login_required
def support_request(request, support_request_id):
    found = selectors.get_request_for(request.user, support_request_id)
    form = SupportReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        screenshot = _screenshot(form)
        if screenshot is not False:
            try:
                support.add_user_message(
                    user=request.user,
                    request=found,
                    body=form.cleaned_data["message"],
                    screenshot=screenshot,
                    ip_address=client_ip(request),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Your reply was sent."))
                return redirect("support_request", support_request_id=found.pk)
    subject, thread = selectors.thread_for(request.user, found)
    return render(
        request, "support/request.html", {"support_request": found, "subject": subject, "thread": thread, "form": form}
    )


@login_required
def support_screenshot(request, support_message_id):
    message = selectors.get_message_for(request.user, support_message_id)
    with user_context(request.user):
        content = support.open_screenshot(message)
    response = HttpResponse(content, content_type=message.attachment_type)
    response["Content-Disposition"] = f'inline; filename="screenshot-{message.pk}"'
    return response


@requires_role(read=Role.ADMIN, write=Role.ADMIN)
def support_access(request, org_slug):
    organization = request.organization
    form = SupportAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        grant = grants.grant_support_access(
            organization=organization,
            actor=request.user,
            duration=form.cleaned_data["duration"],
            ip_address=client_ip(request),
        )
        messages.success(
            request,
            _("Logicnet support may read your organization's data until %(until)s.")
            % {"until": grant.expires_at.strftime("%Y-%m-%d %H:%M")},
        )
        return redirect("support_access", org_slug=org_slug)
    context = {
        "form": form,
        "live": grants.live_grant(organization=organization),
        "grants": selectors.grants_of(organization),
        "openings": selectors.openings_of(organization),
    }
    return render(request, "support/access.html", context)


@require_POST
@requires_role(write=Role.ADMIN)
def support_access_revoke(request, org_slug, grant_id):
    if not grants.revoke_support_access(
        organization=request.organization, actor=request.user, grant_id=grant_id, ip_address=client_ip(request)
    ):
        raise Http404
    messages.success(request, _("Support access revoked."))
    return redirect("support_access", org_slug=org_slug)
