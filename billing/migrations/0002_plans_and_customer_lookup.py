"""The plans as data (Free, Pro, Business), and logicnet_billing_customer_organization().

The function answers Stripe's events: which organization a Stripe customer belongs to. The
subscription rows are under row-level security and an event arrives for no organization, so
a narrow SECURITY DEFINER function returns the id and nothing else (the sync after migrate
hands it to the platform role and lets the application role execute it, as for the other
logicnet_* functions)."""

from django.db import migrations

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


def create_plans(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for values in PLANS:
        key = values["key"]
        Plan.objects.update_or_create(key=key, defaults={k: v for k, v in values.items() if k != "key"})


def delete_plans(apps, schema_editor):
    apps.get_model("billing", "Plan").objects.filter(key__in=[p["key"] for p in PLANS]).delete()


def create_lookup(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model("billing", "Subscription")._meta.db_table)
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION logicnet_billing_customer_organization(customer text) RETURNS bigint
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$ SELECT organization_id FROM public.{table}
              WHERE stripe_customer_id = customer AND customer <> '' LIMIT 1 $$
        """
    )


def drop_lookup(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS logicnet_billing_customer_organization(text)")


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        migrations.RunPython(create_plans, delete_plans),
        migrations.RunPython(create_lookup, drop_lookup),
    ]
