from django.contrib import admin

from usage.models import CookieChoice


@admin.register(CookieChoice)
class CookieChoiceAdmin(admin.ModelAdmin):
    """Proof of consent, looked up when someone asks what they agreed to (GDPR Art. 7(1)).
    Read-only: an answer is the visitor's own, and a change of mind is a new row."""

    list_display = ["recorded_at", "visitor_id", "user", "analytics", "notice_version"]
    list_filter = ["analytics", "notice_version"]
    search_fields = ["visitor_id", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "recorded_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
