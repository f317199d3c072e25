"""Data-subject requests in the admin, as metadata only: which organization, which rights,
where it stands and its deadlines. Who asked and what they wrote are the organization's
(Logicnet is its processor): not shown here, and encrypted under its key anyway.

The exception is Logicnet's own requests (made on /privacy/, Logicnet the controller):
platform staff read and answer them on the pages at the end of this module."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from privacy.models import PrivacyRequest

METADATA = [
    "organization",
    "reference",
    "rights",
    "status",
    "channel",
    "priority",
    "received_at",
    "due_on",
    "extended_due_on",
    "closed_at",
]


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(admin.ModelAdmin):
    list_display = ["reference", "organization", "rights", "status", "received_at", "due_on", "closed_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["organization"]
    search_fields = ["reference"]
    ordering = ["-received_at"]
    fields = METADATA
    readonly_fields = METADATA

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return _platform_urls(self) + super().get_urls()


# --- Logicnet's own requests (privacy.services.platform) ------------------------------------------
#
# For the requests made on /privacy/ Logicnet is the controller, so its staff read and answer
# them here. The pages enter the platform controller's own tenant context on the application
# role (as the support views enter an organization's under its grant): its data key opens
# those requests and no other organization's. Every step goes through the request services,
# which write the timeline and the audit log with the administrator as actor.

PLATFORM_ACTIONS = ("confirm_account", "package", "erase", "restrict", "note", "extend", "deny", "move")


def _platform_requests_view(view):
    view.tenant_support_view = True  # read by LogicnetAdminSite.admin_view: no platform route
    return view


def platform_requests_view(model_admin, request):
    from logicnet.tenancy.context import tenant_context
    from privacy.services import platform
    from privacy.services.requests import clock

    organization = platform.platform_controller()
    show_all = request.GET.get("all") == "1"
    with tenant_context(organization):
        time_zone = platform.controller_settings().time_zone
        rows = [
            (privacy_request, clock(privacy_request, time_zone))
            for privacy_request in platform.requests_queue(open_only=not show_all)[:200]
        ]
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "rows": rows,
            "show_all": show_all,
            "title": _("Logicnet's own privacy requests"),
        }
        return TemplateResponse(request, "privacy/admin/platform_requests.html", context).render()


def platform_request_view(model_admin, request, request_id):
    from django.core.exceptions import ValidationError
    from django.http import Http404
    from django.shortcuts import redirect

    from logicnet.audit.services import client_ip
    from logicnet.tenancy.context import tenant_context
    from privacy.services import platform
    from privacy.services import requests as lifecycle

    privacy_request = platform.get_request(request_id)
    if privacy_request is None:
        raise Http404
    organization = privacy_request.organization
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        actor, ip_address = request.user, client_ip(request)
        text = (request.POST.get("text") or "").strip()
        try:
            if action == "confirm_account":
                user = next(
                    (u for u in platform.account_candidates(privacy_request) if str(u.pk) == request.POST.get("user")),
                    None,
                )
                if user is None:
                    raise lifecycle.RequestError(_("Choose the account found for the request's address."))
                platform.confirm_account_holder(privacy_request, user=user, actor=actor)
            elif action == "package":
                platform.send_account_package(privacy_request, actor=actor, ip_address=ip_address)
            elif action == "erase":
                platform.erase_account_holder(privacy_request, actor=actor, ip_address=ip_address)
            elif action == "restrict":
                platform.restrict_account_holder(privacy_request, actor=actor, ip_address=ip_address)
            elif action == "note":
                lifecycle.add_note(privacy_request, note=text, actor=actor)
            elif action == "extend":
                lifecycle.extend(privacy_request, reason=text, actor=actor)
            elif action == "deny":
                lifecycle.deny(
                    privacy_request,
                    reason=text,
                    actor=actor,
                    unfounded_justification=request.POST.get("unfounded", ""),
                )
            elif action == "move":
                lifecycle.move_request(privacy_request, status=request.POST.get("status", ""), actor=actor)
            else:
                raise lifecycle.RequestError(_("Unknown action."))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Done."))
            return redirect("admin:privacy_platform_request", request_id=privacy_request.pk)
        privacy_request = platform.get_request(request_id)
    with tenant_context(organization):
        time_zone = platform.controller_settings().time_zone
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "privacy_request": privacy_request,
            "clock": lifecycle.clock(privacy_request, time_zone),
            "candidates": platform.account_candidates(privacy_request) if privacy_request.is_open else [],
            "events": list(privacy_request.events.select_related("actor").order_by("created_at", "pk")),
            "moves": [(status, PrivacyRequest.Status(status).label) for status in lifecycle.DESK_MOVES],
            "error": error,
            "title": _("Privacy request %(reference)s to Logicnet") % {"reference": privacy_request.reference},
        }
        return TemplateResponse(
            request, "privacy/admin/platform_request.html", context, status=400 if error else 200
        ).render()


def _platform_urls(model_admin):
    from django.urls import path

    site = model_admin.admin_site
    return [
        path(
            "logicnet/",
            site.admin_view(_platform_requests_view(lambda request: platform_requests_view(model_admin, request))),
            name="privacy_platform_requests",
        ),
        path(
            "logicnet/<int:request_id>/",
            site.admin_view(
                _platform_requests_view(
                    lambda request, request_id: platform_request_view(model_admin, request, request_id)
                )
            ),
            name="privacy_platform_request",
        ),
    ]
