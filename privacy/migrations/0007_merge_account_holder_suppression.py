"""Joins two changes made side by side: requests to Logicnet linked to the account holder,
and the reason a person is on an organization's suppression list."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0006_privacyrequest_account_holder"),
        ("privacy", "0006_suppression_reason"),
    ]

    operations = []
