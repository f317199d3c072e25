"""Contact.source_detail becomes an encrypted column: it is personal data (where a person's
data came from, GDPR Art. 14(2)(f)) and sat in plaintext in every dump and backup.

The column turns into text and each organization's existing values are encrypted with its
own data key, as the field would encrypt them on save."""

from django.db import migrations

import logicnet.encryption.fields

# Tables the migration reads or writes under FORCE ROW LEVEL SECURITY, whose policies are
# for the application roles only: the owner running migrate would see no row at all.
TABLES = ("contacts_contact", "encryption_organizationkey", "accounts_organization")
BATCH = 1000


def _forced(cursor) -> list[str]:
    cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relforcerowsecurity", [list(TABLES)])
    return [name for (name,) in cursor.fetchall()]


def encrypt_existing_source_details(apps, schema_editor):
    from logicnet.encryption.keys import encrypt_value
    from logicnet.tenancy.context import tenant_context

    with schema_editor.connection.cursor() as cursor:
        # The owner is exempt from row security unless it is forced: lift it for the length
        # of this (atomic) migration, so the rows are seen whoever the owner is.
        forced = _forced(cursor)
        for table in forced:
            cursor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        cursor.execute("SELECT DISTINCT organization_id FROM contacts_contact WHERE source_detail <> ''")
        organization_ids = [row[0] for row in cursor.fetchall()]
        for organization_id in organization_ids:
            with tenant_context(organization_id):
                cursor.execute(
                    "SELECT id, source_detail FROM contacts_contact WHERE organization_id = %s AND source_detail <> ''",
                    [organization_id],
                )
                rows = cursor.fetchall()
                for start in range(0, len(rows), BATCH):
                    cursor.executemany(
                        "UPDATE contacts_contact SET source_detail = %s WHERE id = %s",
                        [
                            (encrypt_value(organization_id, "contacts.Contact", "source_detail", value.encode()), pk)
                            for pk, value in rows[start : start + BATCH]
                        ],
                    )
        for table in forced:
            cursor.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0004_daily_crm_models"),
        ("encryption", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contact",
            name="source_detail",
            field=logicnet.encryption.fields.EncryptedCharField(
                blank=True, max_length=200, verbose_name="source detail"
            ),
        ),
        migrations.RunPython(encrypt_existing_source_details, migrations.RunPython.noop),
    ]
