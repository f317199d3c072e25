"""Support in the admin process: staff read and answer the support inbox, list the support
access organizations granted, and, under a live grant only, read that organization's
contacts.

The contact pages are the only admin pages that show tenant personal data. They are marked
`tenant_support_view`, so the admin site does not route them to the platform role: the grant
is found through the platform's metadata, then checked again and the data read inside the
organization's own tenant context, on the application role, under its row-level security;
every page opened is logged for the organization (SupportAccessLog) and audited.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from contacts.models import Contact
from logicnet.audit.services import client_ip
from logicnet.tenancy.context import platform_reads, tenant_context
from support import selectors
from support.forms import SupportAnswerForm
from support.models import SupportAccessGrant, SupportAccessLog, SupportMessage, SupportRequest
from support.services import grants
from support.services import requests as support

CONTACT_FIELDS = ["first_name", "last_name", "email", "phone", "job_title", "status", "created_at", "updated_at"]


@admin.register(SupportRequest)
class SupportRequestAdmin(admin.ModelAdmin):
    """The inbox: staff open a request's page to read the thread and answer."""

    list_display = ["pk", "user", "about_organization_id", "status", "created_at", "last_activity_at", "thread_link"]
    list_filter = ["status"]
    list_select_related = ["user"]
    ordering = ["-last_activity_at"]
    search_fields = ["user__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_lazy("thread"))
    def thread_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:support_request_thread", args=[obj.pk]), _("Read and answer")
        )

    def get_urls(self):
        own = [
            path("<int:pk>/thread/", self.admin_site.admin_view(self.thread_view), name="support_request_thread"),
            path(
                "screenshots/<int:message_id>/",
                self.admin_site.admin_view(self.screenshot_view),
                name="support_request_screenshot",
            ),
        ]
        return own + super().get_urls()

    def thread_view(self, request, pk):
        from accounts.models import Organization

        found = get_object_or_404(SupportRequest.objects.select_related("user"), pk=pk)
        form = SupportAnswerForm(request.POST or None)
        if request.method == "POST":
            if request.POST.get("close"):
                support.close_request(actor=request.user, request=found, ip_address=client_ip(request))
                messages.success(request, _("The request is closed."))
                return redirect("admin:support_request_thread", pk=pk)
            if form.is_valid():
                try:
                    support.answer_request(
                        staff=request.user,
                        request=found,
                        body=form.cleaned_data["message"],
                        ip_address=client_ip(request),
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(request, _("Answer sent; the user is told by email."))
                    return redirect("admin:support_request_thread", pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "support_request": found,
            "organization": Organization.objects.filter(pk=found.about_organization_id).first(),
            "subject": support.subject_of(found),
            "thread": selectors.thread(found),
            "form": form,
            "title": _("Support request %(pk)s") % {"pk": found.pk},
        }
        return TemplateResponse(request, "support/admin/thread.html", context)

    def screenshot_view(self, request, message_id):
        message = get_object_or_404(SupportMessage.objects.exclude(attachment_type=""), pk=message_id)
        response = HttpResponse(support.open_screenshot(message), content_type=message.attachment_type)
        response["Content-Disposition"] = f'inline; filename="screenshot-{message.pk}"'
        return response


class OpeningInline(admin.TabularInline):
    model = SupportAccessLog
    extra = 0
    can_delete = False
    fields = ["opened_at", "staff", "what", "target_id"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SupportAccessGrant)
class SupportAccessGrantAdmin(admin.ModelAdmin):
    """The grants (metadata): who may be helped, until when; the contacts of an organization
    with a live grant are one click away, and nothing is readable without one."""

    list_display = ["organization", "granted_at", "expires_at", "revoked_at", "live", "open_link"]
    list_select_related = ["organization"]
    ordering = ["-granted_at"]
    fields = ["organization", "granted_by", "granted_at", "expires_at", "revoked_at", "revoked_by"]
    readonly_fields = fields
    inlines = [OpeningInline]

    def has_add_permission(self, request):
        return False  # the organization grants, from its settings

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description=_lazy("live"))
    def live(self, obj):
        return obj.is_live()

    @admin.display(description=_lazy("contacts"))
    def open_link(self, obj):
        if not obj.is_live():
            return "—"
        url = reverse("admin:support_access_contacts", args=[obj.organization_id])
        return format_html('<a href="{}">{}</a>', url, _("Open the contacts"))

    def get_urls(self):
        def tenant_view(view):
            view.__func__.tenant_support_view = True  # read by LogicnetAdminSite.admin_view
            return self.admin_site.admin_view(view)

        own = [
            path(
                "organization/<int:organization_id>/contacts/",
                tenant_view(self.contacts_view),
                name="support_access_contacts",
            ),
            path(
                "organization/<int:organization_id>/contacts/<int:contact_id>/",
                tenant_view(self.contact_view),
                name="support_access_contact",
            ),
        ]
        return own + super().get_urls()

    def _organization(self, organization_id: int):
        from accounts.models import Organization

        with platform_reads():  # the organization row: metadata, on the platform role
            organization = Organization.objects.filter(pk=organization_id, is_active=True).first()
        if organization is None:
            raise Http404
        return organization

    def contacts_view(self, request, organization_id):
        organization = self._organization(organization_id)
        with tenant_context(organization):
            try:
                grant = grants.open_under_grant(
                    organization_id=organization.pk,
                    staff=request.user,
                    what=SupportAccessLog.What.CONTACT_LIST,
                    ip_address=client_ip(request),
                )
            except PermissionDenied:
                return self._refused(request, organization)
            contacts = list(Contact.objects.order_by("-created_at", "-pk")[:100])
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "organization": organization,
                "grant": grant,
                "contacts": contacts,
                "title": _("Contacts of %(name)s (support access)") % {"name": organization.name},
            }
            return render(request, "support/admin/contacts.html", context)

    def contact_view(self, request, organization_id, contact_id):
        organization = self._organization(organization_id)
        with tenant_context(organization):
            contact = Contact.objects.filter(pk=contact_id).first()
            if contact is None:
                raise Http404
            try:
                grant = grants.open_under_grant(
                    organization_id=organization.pk,
                    staff=request.user,
                    what=SupportAccessLog.What.CONTACT,
                    target_id=contact.pk,
                    ip_address=client_ip(request),
                )
            except PermissionDenied:
                return self._refused(request, organization)
            rows = [(Contact._meta.get_field(name).verbose_name, getattr(contact, name)) for name in CONTACT_FIELDS]
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "organization": organization,
                "grant": grant,
                "contact": contact,
                "rows": rows,
                "title": _("Contact of %(name)s (support access)") % {"name": organization.name},
            }
            return render(request, "support/admin/contact.html", context)

    def _refused(self, request, organization):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "organization": organization,
            "now": timezone.now(),
            "title": _("No support access"),
        }
        return render(request, "support/admin/refused.html", context, status=403)
