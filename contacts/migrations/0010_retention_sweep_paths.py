"""What the retention sweep reads and writes, found through indexes.

- Interactions get an index on (organization, occurred_at): the sweep claims the ones
  older than the organization's period a batch at a time, and without it each claim read
  every interaction of the organization (or, as planned at 60,000 rows, of the table).
- The name-token triggers find the token rows of the changed rows through the index on the
  row's id, whatever the planner guesses about the transition tables.

Written as a join (`DELETE FROM tokens USING old_rows ...`), the statement was planned with
no statistics for the transition tables and a guess of one token row per organization: it
hashed every token row of the organization, for every statement, however few rows changed
(measured: 0.23 s for a batch of 1,000 anonymised contacts among 20,000, growing with the
organization's size). `= ANY(ARRAY(SELECT ...))` computes the ids first and probes the
foreign key's index with them, as many probes as rows changed."""

import importlib

from django.db import migrations

STATEMENT_LEVEL = importlib.import_module("contacts.migrations.0003_statement_level_token_triggers")


def probing_sql(source: str, tokens: str, fk: str) -> str:
    changed = "n.name_tokens IS DISTINCT FROM o.name_tokens OR n.organization_id <> o.organization_id"
    return f"""
CREATE OR REPLACE FUNCTION {source}_tokens_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {tokens} AS k
    WHERE k.{fk} = ANY (ARRAY(SELECT o.id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE {changed}));
    INSERT INTO {tokens} (organization_id, {fk}, token)
    SELECT n.organization_id, n.id, t FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id,
        unnest(n.name_tokens) AS t
    WHERE {changed};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION {source}_tokens_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {tokens} AS k WHERE k.{fk} = ANY (ARRAY(SELECT d.id FROM deleted_rows AS d));
    RETURN NULL;
END $$;
"""


def joined_sql(source: str, tokens: str, fk: str) -> str:
    """The functions as migration 0003 wrote them (the triggers themselves are unchanged)."""
    forward, _reverse = STATEMENT_LEVEL.statement_sql(source, tokens, fk)
    functions = []
    for event in ("updated", "deleted"):
        start = forward.index(f"CREATE FUNCTION {source}_tokens_{event}()")
        end = forward.index("END $$;", start) + len("END $$;")
        functions.append(forward[start:end].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    return "\n".join(functions)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0009_import_matching_indexes")]

    # The interactions' index is added by activity/0003, where the model now lives.
    operations = [
        migrations.RunSQL(
            probing_sql(source, tokens, fk),
            joined_sql(source, tokens, fk),
        )
        for source, tokens, fk in (
            ("contacts_contact", "contacts_contactnametoken", "contact_id"),
            ("contacts_company", "contacts_companynametoken", "company_id"),
        )
    ]
