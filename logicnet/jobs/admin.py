from django.contrib import admin

from logicnet.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["pk", "organization", "kind", "state", "attempts", "created_at", "finished_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["organization"]
    readonly_fields = [f.name for f in Job._meta.fields]

    def has_add_permission(self, request):
        return False
