"""The name-token tables without an index on the row a token belongs to: the update and
delete triggers find a row's tokens through the token index (organization, token, row), from
the row's old array, which the triggers keep equal to its token rows (0002-0003). Inserting
eight or more tokens per name kept that index up to date at random places, as much as
the search index itself."""

from django.db import migrations, models


def through_token_index(source: str, tokens: str, fk: str) -> tuple[str, str]:
    changed = "n.name_tokens IS DISTINCT FROM o.name_tokens OR n.organization_id <> o.organization_id"
    # The changed rows first, on their own (materialised): joined in one statement with the
    # token table, the planner rescanned the new rows once per old row (270 ms for a bulk
    # update of 500 contacts that changed no name).
    forward = f"""
CREATE OR REPLACE FUNCTION {source}_tokens_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH changed AS MATERIALIZED (
        SELECT o.organization_id, o.id, o.name_tokens FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE {changed}
    )
    DELETE FROM {tokens} AS k USING changed AS c, unnest(c.name_tokens) AS t
    WHERE k.organization_id = c.organization_id AND k.token = t AND k.{fk} = c.id;
    INSERT INTO {tokens} (organization_id, {fk}, token)
    SELECT n.organization_id, n.id, t FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id,
        unnest(n.name_tokens) AS t
    WHERE {changed};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION {source}_tokens_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {tokens} AS k USING deleted_rows AS d, unnest(d.name_tokens) AS t
    WHERE k.organization_id = d.organization_id AND k.token = t AND k.{fk} = d.id;
    RETURN NULL;
END $$;
"""
    # Backwards: the functions of 0003 (by row id, through the index this migration drops).
    reverse = f"""
CREATE OR REPLACE FUNCTION {source}_tokens_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {tokens} AS k USING old_rows AS o JOIN new_rows AS n ON n.id = o.id
    WHERE k.{fk} = o.id AND ({changed});
    INSERT INTO {tokens} (organization_id, {fk}, token)
    SELECT n.organization_id, n.id, t FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id,
        unnest(n.name_tokens) AS t
    WHERE {changed};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION {source}_tokens_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {tokens} AS k USING deleted_rows AS d WHERE k.{fk} = d.id;
    RETURN NULL;
END $$;
"""
    return forward, reverse


class Migration(migrations.Migration):
    dependencies = [("contacts", "0012_organization_indexes_led_by_composites")]

    operations = [
        migrations.RunSQL(*through_token_index("contacts_contact", "contacts_contactnametoken", "contact_id")),
        migrations.RunSQL(*through_token_index("contacts_company", "contacts_companynametoken", "company_id")),
        migrations.AlterField(
            model_name="contactnametoken",
            name="contact",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
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
                db_index=False,
                on_delete=models.DO_NOTHING,
                related_name="name_token_rows",
                to="contacts.company",
            ),
        ),
    ]
