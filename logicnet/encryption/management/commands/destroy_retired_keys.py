"""Destroy the retired data keys whose grace period (ENCRYPTION_RETIRED_KEY_GRACE_DAYS) is
over, refusing any still named by a stored value. Beat runs the same service daily."""

from django.core.management.base import BaseCommand, CommandError

from logicnet.encryption.retirement import destroy_retired_keys


class Command(BaseCommand):
    help = "Destroy retired data keys past their grace period (never one that a stored value still uses)."

    def handle(self, *args, **options):
        result = destroy_retired_keys(report=lambda line: self.stdout.write(line))
        self.stdout.write(f"destroyed {len(result['destroyed'])} retired data keys")
        if result["refused"]:
            raise CommandError(
                f"{len(result['refused'])} retired data keys are still used by stored values and were kept; "
                "re-encrypt those organizations, then run this again"
            )
