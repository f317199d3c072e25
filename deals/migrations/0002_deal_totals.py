"""Deal totals (deals.DealTotal) kept by the database: statement-level triggers with
transition tables on the deals table add each statement's rows to their group (a whole
bulk batch in one INSERT ... ON CONFLICT), so the dashboard reads a few hundred rows instead
of a million deals and is never behind any write path (services, the bulk COPY path, an
erasure). Groups are upserted in key order, so two writers lock them in the same order.

Every writer takes a shared advisory lock per organization in the trigger; the recount
(deals/services/totals.py) takes it exclusively, so a rebuild never interleaves with a write.

The month of a closed deal is its local month in settings.TIME_ZONE as this migration ran
(what TruncMonth gives the live queries); a change of TIME_ZONE needs the function
deal_total_month recreated and a recount."""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ZONE = settings.TIME_ZONE.replace("'", "''")
KEY = "organization_id, pipeline_id, status, stage_id, owner_id, month, currency"


def _rows(table: str, sign: str) -> str:
    return (
        "SELECT organization_id, pipeline_id, status, stage_id, owner_id,"
        " deal_total_month(status, expected_close, closed_at) AS month, currency,"
        f" {sign}1 AS n, {sign}value AS v FROM {table}"
    )


def _apply(delta: str, locked: str) -> str:
    return f"""
    PERFORM pg_advisory_xact_lock_shared(hashtext('deal_totals'), hashtext(o::text))
        FROM (SELECT DISTINCT organization_id AS o FROM {locked} ORDER BY 1) AS organizations;
    INSERT INTO deals_dealtotal ({KEY}, deal_count, value_sum)
    SELECT {KEY}, sum(n), sum(v) FROM ({delta}) AS delta
    GROUP BY {KEY} HAVING sum(n) <> 0 OR sum(v) <> 0 ORDER BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE SET deal_count = deals_dealtotal.deal_count + EXCLUDED.deal_count,
        value_sum = deals_dealtotal.value_sum + EXCLUDED.value_sum;
    RETURN NULL;"""


FORWARD = f"""
CREATE FUNCTION deal_total_month(status text, expected_close date, closed_at timestamptz) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN status = 'open' THEN date_trunc('month', expected_close)::date
        ELSE date_trunc('month', closed_at AT TIME ZONE '{ZONE}')::date END
$$;

CREATE FUNCTION deals_totals_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN {_apply(_rows("inserted_rows", "+"), "inserted_rows")}
END $$;
CREATE TRIGGER deals_totals_inserted AFTER INSERT ON deals_deal
    REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION deals_totals_inserted();

CREATE FUNCTION deals_totals_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN {_apply(_rows("old_rows", "-") + " UNION ALL " + _rows("new_rows", "+"), "new_rows")}
END $$;
CREATE TRIGGER deals_totals_updated AFTER UPDATE ON deals_deal
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION deals_totals_updated();

CREATE FUNCTION deals_totals_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN {_apply(_rows("deleted_rows", "-"), "deleted_rows")}
END $$;
CREATE TRIGGER deals_totals_deleted AFTER DELETE ON deals_deal
    REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION deals_totals_deleted();

INSERT INTO deals_dealtotal ({KEY}, deal_count, value_sum)
SELECT {KEY}, count(*), sum(value) FROM (
    SELECT organization_id, pipeline_id, status, stage_id, owner_id,
        deal_total_month(status, expected_close, closed_at) AS month, currency, value FROM deals_deal
) AS deals GROUP BY {KEY};
"""

REVERSE = (
    "".join(
        f"DROP TRIGGER IF EXISTS deals_totals_{event} ON deals_deal; DROP FUNCTION IF EXISTS deals_totals_{event}();"
        for event in ("inserted", "updated", "deleted")
    )
    + "DROP FUNCTION IF EXISTS deal_total_month(text, date, timestamptz);"
)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_unconfirmed_email_owner_function"),
        ("deals", "0001_pipelines_deals_transactions"),
    ]

    operations = [
        migrations.AddField(
            model_name="dealsettings",
            name="totals_recounted_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.CreateModel(
            name="DealTotal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("pipeline_id", models.BigIntegerField()),
                ("stage_id", models.BigIntegerField()),
                ("owner_id", models.BigIntegerField(null=True)),
                ("status", models.CharField(max_length=8)),
                ("month", models.DateField(null=True)),
                ("currency", models.CharField(max_length=3)),
                ("deal_count", models.BigIntegerField(default=0)),
                ("value_sum", models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=20)),
                (
                    "organization",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("organization", "pipeline_id", "status", "stage_id", "owner_id", "month", "currency"),
                        name="dealtotal_unique_group",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.RunSQL(FORWARD, REVERSE),
    ]
