"""Platform staff publish privacy policy versions, keep the sub-processor list, read the
objections, and read Logicnet's own record of processing (GDPR Art. 30(1)). Every change
goes through the services, so it is announced and audited."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.audit.services import client_ip
from notices import records
from notices.models import PolicyVersion, SubProcessor, SubProcessorChange, SubProcessorObjection
from notices.services import policy, subprocessors


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    """A version is published once (the add form) and never changed: acceptances refer to it."""

    list_display = ["number", "published_at", "template", "content_hash", "notices_finished_at"]
    fields = ["template", "text_en", "text_ro", "changes_en", "changes_ro"]
    readonly_fields = ["number", "published_at", "content_hash", "notified_through", "notices_finished_at"]

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else [*self.readonly_fields, *self.fields]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        version = policy.publish_version(
            actor=request.user,
            text_en=data.get("text_en", ""),
            text_ro=data.get("text_ro", ""),
            changes_en=data.get("changes_en", ""),
            changes_ro=data.get("changes_ro", ""),
            template=data.get("template", ""),
            ip_address=client_ip(request),
        )
        obj.pk, obj.number, obj.content_hash = version.pk, version.number, version.content_hash
        obj._state.adding = False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class PublishForm(form):
            def clean(self):
                data = super().clean()
                if not data.get("template") and not (data.get("text_en") and data.get("text_ro")):
                    raise ValidationError(_("Give the policy's text in English and in Romanian, or a template."))
                if not (data.get("changes_en") and data.get("changes_ro")):
                    raise ValidationError(_("Say what changed, in English and in Romanian: account holders are told."))
                return data

        return PublishForm

    def get_urls(self):
        own = [
            path(
                "records-of-processing/",
                self.admin_site.admin_view(self.records_view),
                name="notices_records_of_processing",
            ),
            path(
                "records-of-processing.csv",
                self.admin_site.admin_view(self.records_csv_view),
                name="notices_records_of_processing_csv",
            ),
        ]
        return own + super().get_urls()

    def records_view(self, request):
        """Logicnet's own record of processing activities, as controller (GDPR Art. 30(1))."""
        context = {**self.admin_site.each_context(request), "record": records.controller_record(), "admin_page": True}
        return TemplateResponse(request, "notices/records.html", context)

    def records_csv_view(self, request):
        response = HttpResponse(records.record_csv(records.controller_record()), content_type="text/csv; charset=utf-8")
        day = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="logicnet-records-of-processing-{day}.csv"'
        return response


@admin.register(SubProcessor)
class SubProcessorAdmin(admin.ModelAdmin):
    """Each save announces the change to every organization's owners (30 days to object)."""

    list_display = ["name", "service", "location", "in_eea", "listed_since", "removed_at"]
    fields = ["key", "name", "service", "location", "in_eea"]
    actions = ["remove_selected"]

    def has_delete_permission(self, request, obj=None):
        return False  # removed, never deleted: the list's history stays

    def save_model(self, request, obj, form, change):
        subprocessors.save_subprocessor(actor=request.user, subprocessor=obj, is_new=not change)

    @admin.action(description=_("Remove from the list (and announce it)"))
    def remove_selected(self, request, queryset):
        for subprocessor in queryset.filter(removed_at__isnull=True):
            subprocessors.save_subprocessor(actor=request.user, subprocessor=subprocessor, is_new=False, removed=True)
        messages.success(request, _("Removed; the organizations' owners are told."))


class ObjectionInline(admin.TabularInline):
    model = SubProcessorObjection
    extra = 0
    can_delete = False
    fields = ["organization", "objected_by", "objected_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SubProcessorChange)
class SubProcessorChangeAdmin(admin.ModelAdmin):
    list_display = ["announced_at", "summary", "objection_until", "notices_finished_at"]
    readonly_fields = ["summary", "announced_at", "objection_until", "notified_through", "notices_finished_at"]
    inlines = [ObjectionInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
