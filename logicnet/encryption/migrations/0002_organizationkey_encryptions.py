from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("encryption", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="organizationkey",
            name="encryptions",
            field=models.BigIntegerField(default=0),
        ),
    ]
