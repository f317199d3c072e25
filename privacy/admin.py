"""Data-subject requests in the admin, as metadata only: which organization, which rights,
where it stands and its deadlines. Who asked and what they wrote are the organization's
(Logicnet is its processor): not shown here, and encrypted under its key anyway."""

from django.contrib import admin

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
