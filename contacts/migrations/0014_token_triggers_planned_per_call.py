"""The name-token tables index the row a token belongs to again, and their UPDATE triggers plan
their statements at each call.

0013 found a row's tokens through the token index (organization, token, row) and dropped the
index on the row. Inside a statement trigger the planner could not tell how few tokens a batch
holds, and read the organization's every token instead: 5 s for 1,000 anonymised contacts at a
million contacts (the retention sweep), against 0.06 s for the same DELETE by row id. The
index is back and the triggers delete by row id.

A PL/pgSQL function plans each of its static statements once per database session and keeps
that plan, made with the transition tables' row counts of the first call. When the first
UPDATE of contacts in a session changed few rows or none (an edit, a foreign key emptied on no
row), the kept plan joined `old_rows` and `new_rows` with a nested loop, and every later
UPDATE of the session paid (rows changed) squared comparisons: a 5,000-contact UPDATE spent
6.0 s in the trigger after a 0-row one in the same session, against 0.15 s in a fresh one.
EXECUTE plans each call anew: about 0.2 ms more for a one-row UPDATE."""

import importlib

from django.db import migrations, models

THROUGH_TOKEN_INDEX = importlib.import_module("contacts.migrations.0013_name_tokens_found_through_the_token_index")


def by_row_sql(source: str, tokens: str, fk: str) -> str:
    changed = "n.name_tokens IS DISTINCT FROM o.name_tokens OR n.organization_id <> o.organization_id"
    return f"""
CREATE OR REPLACE FUNCTION {source}_tokens_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'DELETE FROM {tokens} AS k WHERE k.{fk} = ANY (ARRAY('
        || 'SELECT o.id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE {changed}))';
    EXECUTE 'INSERT INTO {tokens} (organization_id, {fk}, token) '
        || 'SELECT n.organization_id, n.id, t FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id, '
        || 'unnest(n.name_tokens) AS t WHERE {changed}';
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION {source}_tokens_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {tokens} AS k WHERE k.{fk} = ANY (ARRAY(SELECT d.id FROM deleted_rows AS d));
    RETURN NULL;
END $$;
"""


def back_sql(source: str, tokens: str, fk: str) -> str:
    forward, _reverse = THROUGH_TOKEN_INDEX.through_token_index(source, tokens, fk)
    return forward


TABLES = (
    ("contacts_contact", "contacts_contactnametoken", "contact_id"),
    ("contacts_company", "contacts_companynametoken", "company_id"),
)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0013_name_tokens_found_through_the_token_index")]

    operations = [
        migrations.AlterField(
            model_name="contactnametoken",
            name="contact",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=models.DO_NOTHING,
                related_name="name_token_rows",
                to="contacts.contact",
            ),
        ),
        migrations.AlterField(
            model_name="companynametoken",
            name="company",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=models.DO_NOTHING,
                related_name="name_token_rows",
                to="contacts.company",
            ),
        ),
        *(
            migrations.RunSQL(by_row_sql(source, tokens, fk), back_sql(source, tokens, fk))
            for source, tokens, fk in TABLES
        ),
    ]
