"""A legal hold's interaction is now activity.Interaction (activity 0001 moved the model and
renamed its table in place): the foreign key constraint followed the table, so only the
state changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0001_initial"),
        ("retention", "0001_retention_rules_and_legal_holds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="legalhold",
                    name="interaction",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="activity.interaction",
                        verbose_name="interaction",
                    ),
                ),
            ],
        ),
    ]
