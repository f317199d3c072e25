"""Re-wrap every organization's data key under the newest master key. No data is rewritten.

Rotation: put the new key first in ENCRYPTION_MASTER_KEYS (keep the old one after it),
deploy, run this command, check with `retire_master_key --key-id OLD`, then remove the old key.
Platform values (TOTP seeds) are sealed again under the new key too."""

from django.core.management.base import BaseCommand

from logicnet.encryption.keys import newest_master_key, reseal_platform_values, rewrap_all_keys
from logicnet.tenancy.context import platform_bypass


class Command(BaseCommand):
    help = "Re-wrap every organization data key under the newest master key (no data is rewritten)."

    def handle(self, *args, **options):
        newest_id, _ = newest_master_key()
        with platform_bypass(actor=None, reason="rotate_master_key: re-wrap every data key"):
            rewrapped, already = rewrap_all_keys()
            resealed = reseal_platform_values()
        self.stdout.write(
            self.style.SUCCESS(
                f"re-wrapped {rewrapped} data keys under master key {newest_id!r} ({already} already were) and "
                f"re-sealed {resealed} platform values; check an older master key with retire_master_key "
                "before removing it from ENCRYPTION_MASTER_KEYS"
            )
        )
