from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Invitation, Membership, Organization, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "processing_restricted_at", "date_joined"]
    list_filter = ["is_staff", "is_active", ("processing_restricted_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "full_name"]
    # The account holder's own choices (GDPR Art. 18, 21) are theirs to change, at
    # /account/privacy/: shown here so administrators respect them, not edited.
    readonly_fields = [
        "date_joined",
        "last_login",
        "age_confirmed_at",
        "privacy_policy_version",
        "privacy_policy_accepted_at",
        "processing_restricted_at",
        "marketing_opt_out_at",
        "deletion_requested_at",
    ]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["full_name", "phone", "language"]}),
        (_("Consent"), {"fields": ["age_confirmed_at", "privacy_policy_version", "privacy_policy_accepted_at"]}),
        (
            _("Privacy choices"),
            {"fields": ["processing_restricted_at", "marketing_opt_out_at", "deletion_requested_at"]},
        ),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "require_two_factor", "is_active", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "created_at", "accepted_at", "revoked_at"]
    list_select_related = ["organization"]
    readonly_fields = ["organization", "invited_by", "accepted_by"]
