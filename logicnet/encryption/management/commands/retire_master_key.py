"""Check that an old master key may be removed from ENCRYPTION_MASTER_KEYS.

Run after rotate_master_key (which re-wraps every data key and re-seals every platform value
under the newest master key). Removing a master key that still wraps a data key, or still
seals a TOTP seed, would make that data unreadable for good."""

from django.core.management.base import BaseCommand, CommandError

from logicnet.encryption.keys import master_keys
from logicnet.encryption.retirement import check_master_key_retirement


class Command(BaseCommand):
    help = "Check, in one transaction, that nothing still needs a master key before it is removed."

    def add_arguments(self, parser):
        parser.add_argument("--key-id", required=True, help="the id of the master key to retire")

    def handle(self, *args, key_id, **options):
        if key_id not in {candidate for candidate, _ in master_keys()}:
            raise CommandError(f"master key {key_id!r} is not in ENCRYPTION_MASTER_KEYS")
        result = check_master_key_retirement(master_key_id=key_id)
        if not result["may_remove"]:
            reason = result.get("reason") or (
                f"{result['wrapped_keys']} data keys wrapped by it, {result['values_on_retired_versions']} "
                f"values on retired data key versions, {result['platform_values']} platform values sealed by it. "
                "Run rotate_master_key (and finish any re-encryption), then check again"
            )
            raise CommandError(f"master key {key_id!r} is still needed: {reason}")
        self.stdout.write(
            self.style.SUCCESS(f"master key {key_id!r} is no longer needed: remove it from ENCRYPTION_MASTER_KEYS")
        )
