"""Schema operations the tenant apps' migrations share."""

from __future__ import annotations

from django.db import migrations


def drop_organization_index(app_label: str, model_name: str) -> migrations.SeparateDatabaseAndState:
    """The operation that takes a model's own index on `organization_id` away (see
    logicnet.tenancy.models.organization_field) and only that: Django's AlterField of the
    foreign key would also drop and re-add the constraint, validating every row again under
    a lock that blocks writes to the table for as long as that takes."""
    altered = migrations.AlterField(
        model_name=model_name,
        name="organization",
        field=_organization_field(db_index=False),
    )

    def forward(apps, schema_editor):
        table = apps.get_model(app_label, model_name)._meta.db_table
        with schema_editor.connection.cursor() as cursor:
            # The one-column, plain index on the organization, whatever its generated name.
            cursor.execute(
                "SELECT i.indexrelid::regclass::text FROM pg_index i"
                " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                " WHERE i.indrelid = %s::regclass AND i.indnatts = 1 AND a.attname = 'organization_id'"
                " AND NOT i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL",
                [schema_editor.quote_name(table)],
            )
            for (index,) in cursor.fetchall():
                schema_editor.execute(f"DROP INDEX {index}")

    def backward(apps, schema_editor):
        table = apps.get_model(app_label, model_name)._meta.db_table
        name = schema_editor._create_index_name(table, ["organization_id"])
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)}"
            f" ON {schema_editor.quote_name(table)} (organization_id)"
        )

    return migrations.SeparateDatabaseAndState(
        state_operations=[altered],
        database_operations=[migrations.RunPython(forward, backward, elidable=False)],
    )


def _organization_field(*, db_index: bool):
    from logicnet.tenancy.models import organization_field

    return organization_field(db_index=db_index)
