"""Destroy an organization's data keys (when it leaves): its encrypted data becomes unreadable.

Crypto-shredding: the wrapped keys are wiped and the organization is marked so no new key
is created for it. A database backup taken earlier still holds the wrapped keys, so the
destruction must also reach backups: the privacy erasure ledger replays it after a restore,
and the next master-key rotation (with the old master key removed) makes old copies useless.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_scopes import scopes_disabled

from logicnet.audit.services import record_event
from logicnet.encryption.keys import forget_organization
from logicnet.encryption.models import OrganizationKey
from logicnet.tenancy.context import platform_bypass
from logicnet.tenancy.organizations import organization_model


class Command(BaseCommand):
    help = "Destroy an organization's data keys: its encrypted data can never be read again."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="the organization's slug")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, organization, yes, **options):
        found = organization_model().objects.filter(slug=organization).first()
        if found is None:
            raise CommandError(f"no organization with slug {organization!r}")
        if not yes:
            answer = input(f"Type {found.slug} to destroy its data key; its encrypted data will be lost for good: ")
            if answer.strip() != found.slug:
                raise CommandError("not confirmed; nothing was changed")
        now = timezone.now()
        with platform_bypass(actor=None, reason=f"destroy_organization_key {found.slug}", organization=found):
            with scopes_disabled():
                versions = list(OrganizationKey.objects.filter(organization=found).values_list("version", flat=True))
                OrganizationKey.objects.filter(organization=found).update(wrapped_key="", destroyed_at=now)
                if not versions:
                    # Leave a marker so no key is ever created for this organization again.
                    OrganizationKey.objects.create(organization=found, version=1, master_key_id="", destroyed_at=now)
            record_event(action="encryption.key_destroyed", organization=found, details={"versions": versions or [1]})
        forget_organization(found.pk)
        self.stdout.write(
            self.style.SUCCESS(
                f"destroyed the data key of {found.slug} (versions {versions or [1]}); its encrypted data is unreadable. "
                "Processes holding the key in memory drop it within ENCRYPTION_KEY_CACHE_SECONDS."
            )
        )
