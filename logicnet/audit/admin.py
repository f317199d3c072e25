from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from logicnet.audit.models import AuditEvent
from logicnet.audit.services import verify_audit_log


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only in the database as well. Its `details` are not shown
    in the list (they may name values); the chain is verified from here as by
    `manage.py verify_audit_log`."""

    list_display = ["created_at", "organization_id", "sequence", "action", "actor_id", "ip_address"]
    list_filter = ["action"]
    search_fields = ["action", "target_id"]
    ordering = ["-created_at"]
    actions = ["verify_chain"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_lazy("Verify the whole audit chain"))
    def verify_chain(self, request, queryset):
        # Sealing is beat's (every 10 s); this request's own bypass event is still in flight.
        result = verify_audit_log(seal_first=False)
        summary = _("%(events)s sealed events checked; %(unsealed)s waiting to be sealed; %(anchors)s anchors.") % {
            "events": result.events,
            "unsealed": result.unsealed,
            "anchors": result.anchors,
        }
        if result.problems:
            messages.error(
                request,
                _("The audit log FAILED verification: %(problems)s") % {"problems": "; ".join(result.problems[:10])},
            )
        else:
            messages.success(
                request, _("Audit log verified: nothing changed, removed, inserted or reordered.") + " " + summary
            )
