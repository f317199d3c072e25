"""The plans Logicnet sells, as data: the data migration creates them, and `ensure_plans`
puts them back where a test flushed the database. Limits of None are unlimited."""

from __future__ import annotations

# Prices in minor units (cents, bani), VAT excluded.
PLANS = [
    {
        "key": "free",
        "name": "Free",
        "rank": 0,
        "seats": 2,
        "contacts": 500,
        "features": [],
        "is_default": True,
    },
    {
        "key": "pro",
        "name": "Pro",
        "rank": 1,
        "seats": 10,
        "contacts": 10_000,
        "features": ["marketing"],
        "monthly_eur": 2_900,
        "yearly_eur": 29_000,
        "monthly_ron": 14_500,
        "yearly_ron": 145_000,
    },
    {
        "key": "business",
        "name": "Business",
        "rank": 2,
        "seats": 50,
        "contacts": 250_000,
        "features": ["marketing", "api"],
        "monthly_eur": 7_900,
        "yearly_eur": 79_000,
        "monthly_ron": 39_500,
        "yearly_ron": 395_000,
    },
]


def ensure_plans(plan_model=None) -> None:
    """Create the plans that are missing (never changes one that exists: staff may have)."""
    if plan_model is None:
        from billing.models import Plan as plan_model
    for values in PLANS:
        plan_model.objects.get_or_create(key=values["key"], defaults={k: v for k, v in values.items() if k != "key"})
