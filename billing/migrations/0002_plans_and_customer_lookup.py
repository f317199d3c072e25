"""The plans as data (Free, Pro, Business), and logicnet_billing_customer_organization().

The function answers Stripe's events: which organization a Stripe customer belongs to. The
subscription rows are under row-level security and an event arrives for no organization, so
a narrow SECURITY DEFINER function returns the id and nothing else (the sync after migrate
hands it to the platform role and lets the application role execute it, as for the other
logicnet_* functions)."""

from django.db import migrations

from billing.plans import PLANS, ensure_plans

def create_plans(apps, schema_editor):
    ensure_plans(apps.get_model("billing", "Plan"))


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
