"""The name-token UPDATE triggers plan their statements at each call, for the rows at hand.

A PL/pgSQL function plans each of its static statements once per database session and
keeps that plan; a statement over transition tables is planned with the row counts of the
first call. When the first UPDATE of contacts in a session changed few rows or none (an edit,
a foreign key emptied on no row), the kept plan joined `old_rows` and `new_rows` with a
nested loop, and every later UPDATE of the session paid (rows changed) squared comparisons:
measured, a 5,000-contact UPDATE spent 6.0 s in the trigger after a 0-row one in the same
session, against 0.15 s in a fresh session (the retention sweep's anonymising batches at a
million contacts, 1,962 µs a contact). EXECUTE plans each call anew: about 0.2 ms more for a
one-row UPDATE, the same plan whatever ran before. The statements are those of 0013 (a
row's tokens found through the token index, from its old array)."""

import importlib

from django.db import migrations

THROUGH_TOKEN_INDEX = importlib.import_module("contacts.migrations.0013_name_tokens_found_through_the_token_index")


def planned_per_call_sql(source: str, tokens: str, fk: str) -> str:
    changed = "n.name_tokens IS DISTINCT FROM o.name_tokens OR n.organization_id <> o.organization_id"
    return f"""
CREATE OR REPLACE FUNCTION {source}_tokens_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'WITH changed AS MATERIALIZED ('
        || 'SELECT o.organization_id, o.id, o.name_tokens FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id '
        || 'WHERE {changed}) '
        || 'DELETE FROM {tokens} AS k USING changed AS c, unnest(c.name_tokens) AS t '
        || 'WHERE k.organization_id = c.organization_id AND k.token = t AND k.{fk} = c.id';
    EXECUTE 'INSERT INTO {tokens} (organization_id, {fk}, token) '
        || 'SELECT n.organization_id, n.id, t FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id, '
        || 'unnest(n.name_tokens) AS t WHERE {changed}';
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
        migrations.RunSQL(planned_per_call_sql(source, tokens, fk), back_sql(source, tokens, fk))
        for source, tokens, fk in TABLES
    ]
