"""logicnet_unconfirmed_email_owner(address_id): whose address a confirmation link names.

Email addresses are visible to the web role only for the acting user
(logicnet/tenancy/rls.py), and a confirmation link is opened by someone not yet acting for
anyone: often in another browser, signed out. The link's key is signed with the secret key,
so once the application has checked the signature it may act for the address's owner; this
narrow SECURITY DEFINER function tells it who that is, and nothing else. It answers only for
an address still unconfirmed that no other account has confirmed (allauth would refuse that
one anyway), so it cannot be used to learn who owns a confirmed address. The application
role is granted EXECUTE after every migrate (logicnet.tenancy.rls).
"""

from django.db import migrations


def create_function(apps, schema_editor):
    table = schema_editor.quote_name(apps.get_model("account", "EmailAddress")._meta.db_table)
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION logicnet_unconfirmed_email_owner(address_id bigint) RETURNS bigint
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
            SELECT address.user_id FROM public.{table} address
            WHERE address.id = address_id AND NOT address.verified
              AND NOT EXISTS (
                  SELECT 1 FROM public.{table} other
                  WHERE other.email = address.email AND other.verified AND other.id <> address.id
              )
        $$
        """
    )


def drop_function(apps, schema_editor):
    schema_editor.execute("DROP FUNCTION IF EXISTS logicnet_unconfirmed_email_owner(bigint)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_account_privacy_rights"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(create_function, drop_function)]
