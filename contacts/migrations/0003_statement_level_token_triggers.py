"""Keep the name-token tables in step per statement instead of per row.

A row-level trigger ran one INSERT per contact, most of the cost of a bulk load; a
statement-level trigger with transition tables writes a whole `bulk_create` batch's tokens
in one INSERT. PostgreSQL does not allow transition tables on column-specific UPDATE
triggers, so the UPDATE trigger compares old and new tokens itself."""

import importlib

from django.db import migrations

ROW_LEVEL = importlib.import_module("contacts.migrations.0002_name_token_triggers")


def statement_sql(source: str, tokens: str, fk: str) -> tuple[str, str]:
    changed = "n.name_tokens IS DISTINCT FROM o.name_tokens OR n.organization_id <> o.organization_id"
    forward = f"""
DROP TRIGGER IF EXISTS {source}_name_tokens ON {source};
DROP FUNCTION IF EXISTS {source}_sync_name_tokens();

CREATE FUNCTION {source}_tokens_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {tokens} (organization_id, {fk}, token)
    SELECT n.organization_id, n.id, t FROM inserted_rows n, unnest(n.name_tokens) AS t;
    RETURN NULL;
END $$;
CREATE TRIGGER {source}_tokens_inserted AFTER INSERT ON {source}
    REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION {source}_tokens_inserted();

CREATE FUNCTION {source}_tokens_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {tokens} AS k USING old_rows AS o JOIN new_rows AS n ON n.id = o.id
    WHERE k.{fk} = o.id AND ({changed});
    INSERT INTO {tokens} (organization_id, {fk}, token)
    SELECT n.organization_id, n.id, t FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id,
        unnest(n.name_tokens) AS t
    WHERE {changed};
    RETURN NULL;
END $$;
CREATE TRIGGER {source}_tokens_updated AFTER UPDATE ON {source}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {source}_tokens_updated();

CREATE FUNCTION {source}_tokens_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {tokens} AS k USING deleted_rows AS d WHERE k.{fk} = d.id;
    RETURN NULL;
END $$;
CREATE TRIGGER {source}_tokens_deleted AFTER DELETE ON {source}
    REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION {source}_tokens_deleted();
"""
    reverse = (
        "".join(
            f"DROP TRIGGER IF EXISTS {source}_tokens_{event} ON {source}; DROP FUNCTION IF EXISTS {source}_tokens_{event}();"
            for event in ("inserted", "updated", "deleted")
        )
        + ROW_LEVEL.sync_sql(source, tokens, fk)[0]
    )
    return forward, reverse


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_name_token_triggers")]

    operations = [
        migrations.RunSQL(*statement_sql("contacts_contact", "contacts_contactnametoken", "contact_id")),
        migrations.RunSQL(*statement_sql("contacts_company", "contacts_companynametoken", "company_id")),
    ]
