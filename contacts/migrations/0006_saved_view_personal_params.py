"""A saved view's filters on personal values (the company-name filter) move out of the plain
`params` JSON into `personal_params`, encrypted with the organization's data key: in
`params` they sat in plaintext in every dump and backup."""

import json

from django.db import migrations

import logicnet.encryption.fields

PERSONAL_KEYS = ("company_name",)
# Tables read or written under FORCE ROW LEVEL SECURITY, whose policies are for the
# application roles only: the owner running migrate would see no row at all.
TABLES = ("contacts_savedview", "encryption_organizationkey", "accounts_organization")


def move_personal_filters(apps, schema_editor):
    from logicnet.encryption.keys import encrypt_value
    from logicnet.tenancy.context import tenant_context

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relforcerowsecurity", [list(TABLES)])
        forced = [name for (name,) in cursor.fetchall()]
        for table in forced:
            cursor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        cursor.execute(
            "SELECT id, organization_id, params FROM contacts_savedview WHERE params ?| %s", [list(PERSONAL_KEYS)]
        )
        for pk, organization_id, params in cursor.fetchall():
            params = json.loads(params) if isinstance(params, str) else params
            personal = {key: params.pop(key) for key in PERSONAL_KEYS if key in params}
            plaintext = json.dumps(personal, separators=(",", ":")).encode()
            with tenant_context(organization_id):
                token = encrypt_value(organization_id, "contacts.SavedView", "personal_params", plaintext)
                cursor.execute(
                    "UPDATE contacts_savedview SET params = %s, personal_params = %s WHERE id = %s",
                    [json.dumps(params), token, pk],
                )
        for table in forced:
            cursor.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0005_encrypt_contact_source_detail"),
        ("encryption", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="savedview",
            name="personal_params",
            field=logicnet.encryption.fields.EncryptedJSONField(blank=True, null=True),
        ),
        migrations.RunPython(move_personal_filters, migrations.RunPython.noop),
    ]
