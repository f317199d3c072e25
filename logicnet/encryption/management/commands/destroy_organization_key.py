"""An organization leaves: offboard it, then destroy its data keys.

Offboarding is driven by the personal-data registry (logicnet/personal_data/offboarding.py):
the organization is deactivated, every personal field of its rows is erased (plaintext ones
included: invitation emails, its name, saved views, job errors), its export and media files
are deleted, and its data key is destroyed last (crypto-shredding), so a ciphertext that
survives in a backup cannot be read either. A database backup taken earlier still holds the
wrapped keys: the privacy erasure ledger replays the destruction after a restore, and the
next master-key rotation (with the old master key removed) makes old copies useless.
"""

from django.core.management.base import BaseCommand, CommandError

from logicnet.personal_data.offboarding import offboard_organization
from logicnet.tenancy.organizations import organization_model


class Command(BaseCommand):
    help = "Offboard an organization and destroy its data keys: nothing personal of it stays readable."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="the organization's slug")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, organization, yes, **options):
        found = organization_model().objects.filter(slug=organization).first()
        if found is None:
            raise CommandError(f"no organization with slug {organization!r}")
        if not yes:
            answer = input(
                f"Type {found.slug} to offboard it: its data is erased and its data key destroyed, for good: "
            )
            if answer.strip() != found.slug:
                raise CommandError("not confirmed; nothing was changed")
        report = offboard_organization(organization=found)
        self.stdout.write(
            self.style.SUCCESS(
                f"offboarded organization {found.pk}: {sum(report.deleted_rows.values())} rows deleted, "
                f"{sum(report.blanked_rows.values())} rows blanked, {len(report.deleted_paths)} folders deleted, "
                f"data key versions {report.key_versions} destroyed. Processes holding the key in memory drop it "
                "within ENCRYPTION_KEY_CACHE_SECONDS."
            )
        )
