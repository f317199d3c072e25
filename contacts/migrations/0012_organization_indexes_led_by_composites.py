"""Tables whose indexes all start with the organization lose their own index on it: any of
the others serves a lookup by organization, and an import maintained the extra one for every
contact, address, tag link, email and phone it wrote."""

from django.db import migrations

from logicnet.tenancy.schema import drop_organization_index


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_unconfirmed_email_owner_function"),
        ("contacts", "0011_merge_activity_retention_views"),
    ]

    operations = [
        drop_organization_index("contacts", model)
        for model in (
            "tag",
            "company",
            "contact",
            "contactemail",
            "contactphone",
            "contactaddress",
            "contacttag",
            "companytag",
        )
    ]
