from django.contrib import admin

from logicnet.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only in the database as well."""

    list_display = ["created_at", "organization_id", "sequence", "action", "actor_id", "ip_address"]
    list_filter = ["action"]
    search_fields = ["action", "target_id"]
    ordering = ["-created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
