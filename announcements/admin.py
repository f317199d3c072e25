"""Staff write announcements (English and Romanian), choose their audience and publish them;
the page shows how the mail went, recipient by recipient."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import Organization
from announcements import services
from announcements.models import Announcement, AnnouncementDelivery
from logicnet.audit.services import client_ip


class AnnouncementForm(forms.ModelForm):
    organizations = forms.ModelMultipleChoiceField(
        label=_lazy("organizations"),
        queryset=Organization.objects.filter(is_active=True).order_by("name"),
        required=False,
        help_text=_lazy("None chosen: every organization (and account holders without one)."),
        widget=FilteredSelectMultiple(_lazy("organizations"), is_stacked=False),
    )

    class Meta:
        model = Announcement
        fields = [
            "kind",
            "title_en",
            "title_ro",
            "body_en",
            "body_ro",
            "owners_only",
            "plan_key",
            "send_email",
            "show_until",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "organizations" in self.fields:
            self.fields["organizations"].initial = self.instance.organization_ids
        if "plan_key" in self.fields:
            self.fields["plan_key"].help_text = _lazy("Only the organizations on this plan (filled in by billing).")

    def _post_clean(self) -> None:
        self.instance.organization_ids = sorted(o.pk for o in self.cleaned_data.get("organizations") or [])
        self.instance.plan_key = self.instance.plan_key or None
        super()._post_clean()
        try:
            services.validate_announcement(self.instance)
        except ValidationError as error:
            self._update_errors(error)


class DeliveryInline(admin.TabularInline):
    model = AnnouncementDelivery
    extra = 0
    can_delete = False
    fields = ["user", "status", "error", "attempted_at"]
    readonly_fields = fields
    max_num = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    form = AnnouncementForm
    list_display = ["title_en", "kind", "created_at", "published_at", "mail_progress"]
    list_filter = ["kind"]
    readonly_fields = ["created_at", "published_at", "mail_progress", "publish_button"]
    fieldsets = [
        (None, {"fields": ["kind", "title_en", "title_ro", "body_en", "body_ro"]}),
        (_lazy("Audience"), {"fields": ["organizations", "owners_only", "plan_key"]}),
        (_lazy("Delivery"), {"fields": ["send_email", "show_until"]}),
        (_lazy("State"), {"fields": ["created_at", "published_at", "publish_button", "mail_progress"]}),
    ]
    inlines = [DeliveryInline]

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.published_at is None

    def has_change_permission(self, request, obj=None):
        # A published announcement is what people read: it is not rewritten afterwards.
        return obj is None or obj.published_at is None

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)

    @admin.display(description=_lazy("mail"))
    def mail_progress(self, obj):
        if obj is None or obj.pk is None or not obj.send_email:
            return "—"
        if obj.mail_started_at is None:
            return _("not started")
        counts = services.mail_counts(obj.pk)
        done = counts.get("sent", 0) + counts.get("failed", 0)
        total = obj.mail_total or 0
        percent = int(100 * done / total) if total else 100
        return format_html(
            '<progress max="100" value="{}">{}%</progress> {}',
            percent,
            percent,
            _("%(sent)s sent, %(failed)s failed, %(pending)s waiting of %(total)s")
            % {
                "sent": counts.get("sent", 0),
                "failed": counts.get("failed", 0),
                "pending": counts.get("pending", 0),
                "total": total,
            },
        )

    @admin.display(description=_lazy("publish"))
    def publish_button(self, obj):
        if obj is None or obj.pk is None:
            return _("Save first; then publish.")
        if obj.published_at:
            return _("Published.")
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:announcements_announcement_publish", args=[obj.pk]),
            _("Publish now"),
        )

    def get_urls(self):
        own = [
            path(
                "<int:pk>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="announcements_announcement_publish",
            )
        ]
        return own + super().get_urls()

    def publish_view(self, request, pk):
        """GET asks to confirm (a page), POST publishes."""
        from django.template.response import TemplateResponse

        announcement = get_object_or_404(Announcement, pk=pk)
        if request.method == "POST":
            try:
                services.publish_announcement(
                    actor=request.user, announcement=announcement, ip_address=client_ip(request)
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Published: the banner shows now, and the mail is on its way."))
            return redirect("admin:announcements_announcement_change", announcement.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "announcement": announcement,
            "audience": len(services.audience_user_ids(announcement)) if announcement.send_email else None,
            "title": _("Publish %(title)s") % {"title": announcement.title_en},
        }
        return TemplateResponse(request, "announcements/admin/publish.html", context)
