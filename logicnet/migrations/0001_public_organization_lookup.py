"""logicnet_public_organization(slug): the id of an active organization, for public pages.

Public pages (/p/<org_slug>/) have no member to read the organizations table as; this
narrow SECURITY DEFINER function returns an id and nothing else (see
logicnet/tenancy/public.py). It tells no more than the public page itself (whether it
exists). The application role is created after the first migration, so it is not named
here: after every migrate, logicnet.tenancy.rls hands each logicnet_* SECURITY DEFINER
function to the platform role (whose policy reads every organization row), revokes PUBLIC's
EXECUTE and grants it to the application role.
"""

from django.conf import settings
from django.db import migrations


def create_lookup(apps, schema_editor):
    table = apps.get_model(settings.TENANCY_ORGANIZATION_MODEL)._meta.db_table
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION logicnet_public_organization(organization_slug text) RETURNS bigint
        LANGUAGE sql STABLE SECURITY DEFINER
        -- A definer function with a caller-controlled search_path could be tricked into
        -- running another schema's "{table}"; pin it.
        SET search_path = pg_catalog, public
        AS $$ SELECT id FROM public.{schema_editor.quote_name(table)} WHERE slug = organization_slug AND is_active $$
        """
    )


def drop_lookup(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS logicnet_public_organization(text)")


class Migration(migrations.Migration):
    dependencies = [migrations.swappable_dependency(settings.TENANCY_ORGANIZATION_MODEL)]

    operations = [migrations.RunPython(create_lookup, drop_lookup)]
