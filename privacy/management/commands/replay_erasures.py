"""After a backup restore: erase again every contact the erasure ledger names.

A backup taken before an erasure still holds the person; the ledger (privacy.ErasureRecord,
no personal data) says which rows must not come back. Run it once after every restore,
before the application serves requests again."""

from django.core.management.base import BaseCommand

from logicnet.tenancy.organizations import organization_model
from privacy.services.fulfilment import replay_erasures


class Command(BaseCommand):
    help = "Erase again every contact the erasure ledger names (run after restoring a backup)."

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="the slug of one organization (default: all)")

    def handle(self, *args, **options):
        organizations = organization_model().objects.filter(is_active=True).order_by("pk")
        if options["organization"]:
            organizations = organizations.filter(slug=options["organization"])
        total = 0
        for organization in organizations:
            replayed = replay_erasures(organization)
            total += replayed
            if replayed:
                self.stdout.write(
                    f"{organization.slug}: {replayed} erased contacts had come back and were erased again"
                )
        self.stdout.write(f"replayed {total} erasures")
