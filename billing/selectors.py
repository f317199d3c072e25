"""Reads of the billing page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from billing import limits
from billing.models import Invoice, Plan, Subscription
from logicnet.tenancy.context import tenant_context


def _percent(used: int, limit: int | None) -> int | None:
    if not limit:
        return None
    return min(100, round(100 * used / limit))


def billing_overview(organization) -> dict[str, Any]:
    enabled = limits.billing_enabled()
    plan = limits.effective_plan(organization)
    seats = limits.seats_used(organization)
    contacts = limits.contacts_used(organization)
    with tenant_context(organization):
        subscription = Subscription.objects.select_related("plan").filter(organization=organization).first()
        invoices = list(Invoice.objects.filter(organization=organization).order_by("-issued_at", "-id")[:24])
    plans = []
    if enabled:
        for candidate in Plan.objects.filter(is_active=True).order_by("rank"):
            prices = {
                key: candidate.price(*key.split("_"))
                for key in ("monthly_eur", "yearly_eur", "monthly_ron", "yearly_ron")
            }
            buyable = [
                key
                for key in ("monthly_eur", "yearly_eur", "monthly_ron", "yearly_ron")
                if settings.STRIPE_PRICES.get(f"{candidate.key}:{key.replace('_', ':')}")
            ]
            plans.append(
                {
                    "plan": candidate,
                    "prices": {k: v / 100 for k, v in prices.items()},
                    "buyable": buyable,
                    "current": candidate.key == plan.key,
                }
            )
    return {
        "billing_enabled": enabled,
        "plan": plan,
        "subscription": subscription,
        "usage": {
            "seats": seats,
            "seats_limit": plan.seats,
            "seats_percent": _percent(seats, plan.seats),
            "contacts": contacts,
            "contacts_limit": plan.contacts,
            "contacts_percent": _percent(contacts, plan.contacts),
        },
        "features": [(key, label, plan.includes(key)) for key, label in limits.FEATURES.items()],
        "plans": plans,
        "invoices": invoices,
    }


def organizations_on_plan(plan_key: str, among: Iterable[int] | None = None) -> set[int]:
    """The organizations whose plan in force is `plan_key` (an announcement's plan audience,
    announcements.services.register_plan_audience). With `among`, only those, each read in
    its own tenant context (as a page can); without, every organization (inside the platform
    bypass, as the announcement mail does)."""
    from accounts.models import Organization
    from billing.limits import effective_plan

    if among is None:
        among = Organization.objects.filter(is_active=True).values_list("pk", flat=True)
    return {pk for pk in list(among) if effective_plan(pk).key == plan_key}
