"""The breach register in the admin process (platform staff, second factor, every change
audited once by the admin site's platform bypass): the register with its 72-hour countdowns,
the incident's form, and the incident's own page with the phased updates, the affected
organizations, the actions (compute scope, notify organizations, notify people) and the
printable draft of the ANSPDCP notification."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from accounts.models import Organization
from breaches import clock, services
from breaches.models import FACT_FIELDS, BreachIncident, BreachUpdate
from breaches.selectors import incident_notices
from logicnet.personal_data.registry import Category


class IncidentForm(forms.ModelForm):
    data_categories = forms.MultipleChoiceField(
        label=_lazy("categories of personal data"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    organizations = forms.ModelMultipleChoiceField(
        label=_lazy("organizations"),
        queryset=Organization.objects.filter(is_active=True).order_by("name"),
        required=False,
        widget=FilteredSelectMultiple(_lazy("organizations"), is_stacked=False),
    )

    class Meta:
        model = BreachIncident
        fields = [*FACT_FIELDS, "all_organizations", "period_start", "period_end"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organizations"].initial = self.instance.organization_ids

    def _post_clean(self) -> None:
        self.instance.organization_ids = sorted(o.pk for o in self.cleaned_data.get("organizations") or [])
        super()._post_clean()
        try:
            services.validate_incident(self.instance)
        except ValidationError as error:
            self._update_errors(error)


class UpdateForm(forms.Form):
    text = forms.CharField(label=_lazy("Phased update"), widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(BreachIncident)
class BreachIncidentAdmin(admin.ModelAdmin):
    form = IncidentForm
    list_display = ["reference", "title", "aware_at", "countdown", "risk_level", "authority_notified_at", "page"]
    list_filter = ["risk_level"]
    search_fields = ["reference", "title"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["reference", "title", "aware_at", "occurred_at"]}),
        (_lazy("Nature"), {"fields": ["confidentiality", "integrity", "availability"]}),
        (
            _lazy("Scope"),
            {
                "fields": [
                    "data_categories",
                    "all_organizations",
                    "organizations",
                    "period_start",
                    "period_end",
                    "subjects_approx",
                    "records_approx",
                ]
            },
        ),
        (
            _lazy("Assessment and measures"),
            {
                "fields": [
                    "consequences",
                    "measures_taken",
                    "measures_proposed",
                    "risk_level",
                    "risk_rationale",
                    "contact_point",
                ]
            },
        ),
        (
            _lazy("Notifications"),
            {"fields": ["authority_notified_at", "authority_reference", "late_reasons", "subjects_notified_at"]},
        ),
        (_lazy("Dates"), {"fields": ["created_at", "updated_at"]}),
    ]

    def get_changeform_initial_data(self, request):
        return {
            "reference": services.next_reference(),
            "aware_at": timezone.now(),
            "contact_point": settings.PRIVACY_CONTACT_EMAIL,
            **super().get_changeform_initial_data(request),
        }

    @admin.display(description=_lazy("72-hour clock"))
    def countdown(self, incident):
        c = clock.authority_clock(incident, now=timezone.now())
        if not c.required:
            return _("not required")
        if c.stopped_at:
            return _("notified late") if c.late else _("notified in time")
        css = "overdue" if c.overdue else "breach-countdown"
        return format_html('<strong class="{}">{}</strong>', css, c.countdown)

    @admin.display(description=_lazy("Incident page"))
    def page(self, incident):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:breaches_incident_page", args=[incident.pk]), _("open")
        )

    def has_delete_permission(self, request, obj=None):
        return False  # the register documents every breach (Art. 33(5))

    def save_model(self, request, obj, form, change):
        services.save_incident(incident=obj, actor=request.user)

    # --- the incident's own page and its actions ----------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:incident_id>/page/", wrap(self.incident_page), name="breaches_incident_page"),
            path("<int:incident_id>/update/", wrap(self.add_update), name="breaches_incident_update"),
            path("<int:incident_id>/scope/", wrap(self.compute_scope), name="breaches_incident_scope"),
            path(
                "<int:incident_id>/notify-organizations/",
                wrap(self.notify_organizations),
                name="breaches_incident_notify_organizations",
            ),
            path(
                "<int:incident_id>/notify-subjects/",
                wrap(self.notify_subjects),
                name="breaches_incident_notify_subjects",
            ),
            path("<int:incident_id>/draft/", wrap(self.authority_draft), name="breaches_incident_draft"),
            *super().get_urls(),
        ]

    def _incident(self, request, incident_id: int, *, change: bool = False) -> BreachIncident:
        incident = get_object_or_404(BreachIncident, pk=incident_id)
        allowed = self.has_change_permission(request, incident) if change else self.has_view_permission(request)
        if not allowed:
            raise PermissionDenied
        return incident

    def incident_page(self, request, incident_id: int):
        incident = self._incident(request, incident_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(incident),
            "incident": incident,
            "clock": clock.authority_clock(incident, now=timezone.now()),
            "updates": list(incident.updates.all()),
            "notices": incident_notices(incident),
            "update_form": UpdateForm(),
            "may_change": self.has_change_permission(request, incident),
        }
        return TemplateResponse(request, "breaches/admin/incident.html", context)

    def _act(self, request, incident_id: int, action, done: str):
        incident = self._incident(request, incident_id, change=True)
        try:
            count = action(incident=incident, actor=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, done % {"count": count})
        return redirect("admin:breaches_incident_page", incident.pk)

    @method_decorator(require_POST)
    def add_update(self, request, incident_id: int):
        incident = self._incident(request, incident_id, change=True)
        form = UpdateForm(request.POST)
        if form.is_valid():
            services.add_update(incident=incident, actor=request.user, text=form.cleaned_data["text"])
            messages.success(request, _("Update added."))
        else:
            messages.error(request, _("Write the update."))
        return redirect("admin:breaches_incident_page", incident.pk)

    @method_decorator(require_POST)
    def compute_scope(self, request, incident_id: int):
        return self._act(request, incident_id, services.compute_scope, _("Counting people in %(count)d organizations."))

    @method_decorator(require_POST)
    def notify_organizations(self, request, incident_id: int):
        return self._act(request, incident_id, services.notify_organizations, _("Notifying %(count)d organizations."))

    @method_decorator(require_POST)
    def notify_subjects(self, request, incident_id: int):
        return self._act(
            request, incident_id, services.notify_subjects, _("Notifying the people of %(count)d organizations.")
        )

    def authority_draft(self, request, incident_id: int):
        incident = self._incident(request, incident_id)
        notices = incident_notices(incident)
        context = {
            "incident": incident,
            "clock": clock.authority_clock(incident, now=timezone.now()),
            "updates": list(incident.updates.all()),
            "organizations": len(notices),
            "contacts": sum(n["notice"].contacts_in_scope or 0 for n in notices),
            "users": sum(n["notice"].users_in_scope or 0 for n in notices),
            "records": sum(n["notice"].records_in_scope or 0 for n in notices),
            "contacts_told": sum(n["contacts"]["sent"] for n in notices),
            "contact_email": settings.PRIVACY_CONTACT_EMAIL,
            "authority": settings.PRIVACY_SUPERVISORY_AUTHORITY,
        }
        return TemplateResponse(request, "breaches/admin/draft.html", context)


@admin.register(BreachUpdate)
class BreachUpdateAdmin(admin.ModelAdmin):
    """Read only: updates are added on the incident's page (which publishes them)."""

    list_display = ["incident", "created_at", "text"]
    list_select_related = ["incident"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
