"""Bring stored values and search columns up to the current scheme (logicnet/encryption/reindex.py):
after the deploy that padded values and truncated the name tokens, run it once for every
organization; until a row is re-indexed, name search does not find it. Batched, resumable
(run it again after an interruption) and online (short transactions)."""

from django.core.management.base import BaseCommand, CommandError

from logicnet.encryption.reindex import reindex_organization
from logicnet.tenancy.organizations import organization_model


class Command(BaseCommand):
    help = "Re-index search columns (and pad older values) of one organization, or of all."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--organization", help="the organization's slug")
        which.add_argument("--all", action="store_true", help="every active organization, one after another")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, organization, all, batch_size, **options):
        if all:
            organizations = list(organization_model().objects.filter(is_active=True).order_by("pk"))
        else:
            organizations = list(organization_model().objects.filter(slug=organization))
            if not organizations:
                raise CommandError(f"no organization with slug {organization!r}")
        for found in organizations:
            rewritten = reindex_organization(found, batch_size=batch_size)
            summary = ", ".join(f"{label}: {n}" for label, n in rewritten.items() if n) or "nothing to change"
            self.stdout.write(self.style.SUCCESS(f"{found.slug}: {summary}"))
