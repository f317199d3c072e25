"""Re-encrypt one organization's data under a new data key version: batched, resumable
(run it again after an interruption), online (short transactions), with progress."""

from django.core.management.base import BaseCommand, CommandError

from logicnet.encryption.reencryption import reencrypt_organization
from logicnet.tenancy.organizations import organization_model


class Command(BaseCommand):
    help = "Re-encrypt an organization's data under a new data key version, then retire the old one."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="the organization's slug")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--max-batches", type=int, default=None, help="stop after this many batches")

    def handle(self, *args, organization, batch_size, max_batches, **options):
        found = organization_model().objects.filter(slug=organization).first()
        if found is None:
            raise CommandError(f"no organization with slug {organization!r}")
        result = reencrypt_organization(
            found, batch_size=batch_size, max_batches=max_batches, report=lambda line: self.stdout.write(line)
        )
        if result["finished"]:
            self.stdout.write(self.style.SUCCESS(f"done: data key v{result['version']}"))
        else:
            self.stdout.write(self.style.WARNING("not finished yet; run the command again to resume"))
