"""The revert journal loses its own index on the organization: both of its other indexes
start with it, and an import wrote one entry per row it changed."""

from django.db import migrations

from logicnet.tenancy.schema import drop_organization_index


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_unconfirmed_email_owner_function"),
        ("bulk", "0001_initial"),
    ]

    operations = [drop_organization_index("bulk", "revertentry")]
