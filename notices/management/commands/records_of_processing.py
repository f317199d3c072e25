"""Print a record of processing activities (GDPR Art. 30) as CSV, generated from the
personal-data registry: Logicnet's own (Art. 30(1)) or, with --organization, the one
Logicnet keeps as that organization's processor (Art. 30(2))."""

from django.core.management.base import BaseCommand, CommandError

from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.organizations import organization_model
from notices import records


class Command(BaseCommand):
    help = "Print the record of processing activities (GDPR Art. 30) as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--organization", metavar="SLUG", help="Art. 30(2) for this organization")

    def handle(self, *args, organization=None, **options):
        if not organization:
            self.stdout.write(records.record_csv(records.controller_record()), ending="")
            return
        found = organization_model().objects.filter(slug=organization).first()
        if found is None:
            raise CommandError(f"no organization with slug {organization!r}")
        with tenant_context(found):
            self.stdout.write(records.record_csv(records.processor_record(found)), ending="")
