"""The name-token tables without foreign-key constraints (see ContactNameToken): their rows
are written and deleted only by the token triggers, from the row they index, so a
constraint only checked every token row again at commit."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_unconfirmed_email_owner_function"),
        ("contacts", "0009_import_matching_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="companynametoken",
            name="company",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="name_token_rows",
                to="contacts.company",
            ),
        ),
        migrations.AlterField(
            model_name="companynametoken",
            name="organization",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.organization",
            ),
        ),
        migrations.AlterField(
            model_name="contactnametoken",
            name="contact",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="name_token_rows",
                to="contacts.contact",
            ),
        ),
        migrations.AlterField(
            model_name="contactnametoken",
            name="organization",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.organization",
            ),
        ),
    ]
