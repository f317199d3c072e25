from django.contrib import admin

from logicnet.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["pk", "organization", "kind", "state", "attempts", "created_at", "finished_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["organization"]
    # Metadata only: a job's parameters and result belong to its organization's work.
    fields = [
        "organization",
        "kind",
        "state",
        "progress_done",
        "progress_total",
        "attempts",
        "error",
        "lease_expires_at",
        "sent_at",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False
