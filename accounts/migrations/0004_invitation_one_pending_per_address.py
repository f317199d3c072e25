from django.db import migrations, models

# Before the constraint: of several pending invitations to one address in one organization,
# keep the newest and mark the others withdrawn (their links stop working, as a second
# invitation's should have replaced them). Invitations were always stored lower-cased.
WITHDRAW_DUPLICATES = """
UPDATE accounts_invitation AS older
   SET revoked_at = now()
  FROM accounts_invitation AS newer
 WHERE older.organization_id = newer.organization_id
   AND older.email = newer.email
   AND older.accepted_at IS NULL AND older.revoked_at IS NULL
   AND newer.accepted_at IS NULL AND newer.revoked_at IS NULL
   AND (older.created_at, older.id) < (newer.created_at, newer.id)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_two_factor_sealed_devices"),
    ]

    operations = [
        migrations.RunSQL(WITHDRAW_DUPLICATES, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="invitation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("accepted_at__isnull", True), ("revoked_at__isnull", True)),
                fields=("organization", "email"),
                name="invitation_one_pending_per_address",
            ),
        ),
    ]
