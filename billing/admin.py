"""Billing in the platform's admin: plans (edited one by one or in bulk with
django-import-export, always through `billing.services.update_plan`, audited), and the
organizations' subscriptions, invoices and Stripe events as read-only metadata (Stripe is the
system of record; the webhook and its jobs change them)."""

from __future__ import annotations

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from billing.models import Invoice, Plan, StripeEvent, Subscription
from billing.services import PLAN_EDITABLE, update_plan
from logicnet.admin_import import ServiceImportMixin, ServiceModelResource


class PlanResource(ServiceModelResource):
    class Meta:
        model = Plan
        fields = ("id", "key", *PLAN_EDITABLE)
        import_id_fields = ("id",)
        skip_unchanged = True
        report_skipped = True

    def save_through_service(self, instance, *, is_create, actor) -> None:
        current = Plan.objects.get(pk=instance.pk)
        update_plan(plan=current, actor=actor, values={name: getattr(instance, name) for name in PLAN_EDITABLE})


@admin.register(Plan)
class PlanAdmin(ServiceImportMixin, ImportExportModelAdmin):
    resource_classes = [PlanResource]
    list_display = ["name", "key", "seats", "contacts", "monthly_eur", "monthly_ron", "is_default", "is_active"]
    readonly_fields = ["key", "rank", "is_default", "features"]

    def has_add_permission(self, request) -> bool:
        return False  # plans are data of billing/plans.py (a migration); Stripe prices name them

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        update_plan(
            plan=Plan.objects.get(pk=obj.pk),
            actor=request.user,
            values={name: form.cleaned_data[name] for name in PLAN_EDITABLE if name in form.cleaned_data},
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["organization", "plan", "status", "interval", "currency", "current_period_end", "past_due_since"]
    list_filter = ["status", "plan"]
    list_select_related = ["organization", "plan"]
    exclude = ["stripe_customer_id", "stripe_subscription_id"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["organization", "number", "status", "currency", "amount_due", "amount_paid", "issued_at"]
    list_filter = ["status", "currency"]
    list_select_related = ["organization"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "type", "created", "state", "attempts", "livemode"]
    list_filter = ["state", "type", "livemode"]
    search_fields = ["stripe_id"]
    exclude = ["payload"]
