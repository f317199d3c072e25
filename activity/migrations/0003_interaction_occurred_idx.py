"""The retention sweep claims the interactions older than the organization's period a batch
at a time; without this index each claim read every interaction of the organization."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("activity", "0002_deal_links")]

    operations = [
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(fields=["organization", "occurred_at"], name="interaction_occurred_idx"),
        ),
    ]
