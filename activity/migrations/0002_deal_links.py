"""Interactions and tasks can be logged on a deal (its timeline): a nullable link each, and
a partial index per deal timeline (rows without a deal stay out of it)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_unconfirmed_email_owner_function"),
        ("activity", "0001_initial"),
        ("contacts", "0010_activity_models_moved_out"),
        ("deals", "0001_pipelines_deals_transactions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="interaction",
            name="deal",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="interactions",
                to="deals.deal",
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="deal",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tasks",
                to="deals.deal",
            ),
        ),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                condition=models.Q(("deal__isnull", False)),
                fields=["organization", "deal", "occurred_at"],
                name="interaction_deal_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("deal__isnull", False)),
                fields=["organization", "deal", "due_at"],
                name="task_deal_idx",
            ),
        ),
    ]
