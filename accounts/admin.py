from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from import_export import fields
from import_export.admin import ImportExportModelAdmin

from accounts import services
from accounts.models import Invitation, Membership, Organization, User
from logicnet.admin_import import ServiceImportMixin, ServiceModelResource


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


class OrganizationResource(ServiceModelResource):
    """Organizations' metadata in bulk: exported whole; an import changes the name, country
    and two-factor requirement of existing organizations through `update_organization`
    (audited per organization). The slug, state and dates are exported only."""

    slug = fields.Field(attribute="slug", column_name="slug", readonly=True)
    is_active = fields.Field(attribute="is_active", column_name="is_active", readonly=True)
    created_at = fields.Field(attribute="created_at", column_name="created_at", readonly=True)

    class Meta:
        model = Organization
        fields = ("id", "name", "slug", "country", "require_two_factor", "is_active", "created_at")
        import_id_fields = ("id",)
        skip_unchanged = True
        report_skipped = True

    def save_through_service(self, instance, *, is_create, actor) -> None:
        current = Organization.objects.get(pk=instance.pk)
        services.update_organization(
            organization=current,
            actor=actor,
            name=instance.name,
            country=instance.country,
            require_two_factor=instance.require_two_factor,
        )


@admin.register(Organization)
class OrganizationAdmin(ServiceImportMixin, ImportExportModelAdmin):
    resource_classes = [OrganizationResource]
    list_display = ["name", "slug", "country", "require_two_factor", "is_active", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "is_privacy_officer", "created_at"]
    list_filter = ["role", "is_privacy_officer"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__email", "organization__name", "organization__slug"]
    raw_id_fields = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "created_at", "accepted_at", "revoked_at"]
    list_select_related = ["organization"]
    readonly_fields = ["organization", "invited_by", "accepted_by"]
