"""Keep the name-token tables equal to their rows' `name_tokens` arrays (see models.py).

AFTER triggers, run as the writing role, so row-level security checks the token rows as it
checks any insert: they carry the row's own organization."""

from django.db import migrations


def sync_sql(source: str, tokens: str, fk: str) -> tuple[str, str]:
    function = f"{source}_sync_name_tokens"
    forward = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.name_tokens IS NOT DISTINCT FROM OLD.name_tokens
       AND NEW.organization_id = OLD.organization_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM {tokens} WHERE {fk} = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO {tokens} (organization_id, {fk}, token)
        SELECT NEW.organization_id, NEW.id, t FROM unnest(NEW.name_tokens) AS t;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {source}_name_tokens
    AFTER INSERT OR UPDATE OF name_tokens, organization_id OR DELETE ON {source}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    reverse = f"DROP TRIGGER IF EXISTS {source}_name_tokens ON {source}; DROP FUNCTION IF EXISTS {function}();"
    return forward, reverse


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [
        migrations.RunSQL(*sync_sql("contacts_contact", "contacts_contactnametoken", "contact_id")),
        migrations.RunSQL(*sync_sql("contacts_company", "contacts_companynametoken", "company_id")),
    ]
