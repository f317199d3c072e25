"""Print where a data subject's personal data is: tables, fields and row counts."""

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from logicnet.personal_data.subjects import holdings
from logicnet.tenancy.context import platform_bypass, tenant_context
from logicnet.tenancy.organizations import organization_model


class Command(BaseCommand):
    help = "Print the tables, fields and row counts holding a user's or a contact's personal data."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", metavar="EMAIL", help="a user's email address")
        who.add_argument("--contact", type=int, metavar="ID", help="a contact's id (with --organization)")
        parser.add_argument("--organization", metavar="SLUG", help="the contact's organization")
        parser.add_argument(
            "--all", dest="show_all", action="store_true", help="also list tables that hold nothing about them"
        )

    def handle(self, *args, user=None, contact=None, organization=None, show_all=False, **options):
        if user is not None:
            subject = get_user_model().objects.filter(email__iexact=user.strip()).first()
            if subject is None:
                raise CommandError(f"no user with email {user!r}")
            # A user's rows span organizations: read them as the platform, audited.
            with platform_bypass(actor=None, reason="data_map for a user (data-subject request)"):
                self.show(f"user {subject.email} (id {subject.pk})", holdings("user", subject), show_all)
            return
        if not organization:
            raise CommandError("--contact needs --organization SLUG")
        found = organization_model().objects.filter(slug=organization).first()
        if found is None:
            raise CommandError(f"no organization with slug {organization!r}")
        # By label, not by import: this mechanism must not depend on a product app.
        contact_model = apps.get_model(settings.PERSONAL_DATA_CONTACT_MODEL)
        with tenant_context(found):
            subject = contact_model.objects.filter(pk=contact).first()
            if subject is None:
                raise CommandError(f"no contact {contact} in {found.slug}")
            self.show(f"contact {subject.pk} of {found.slug}", holdings("contact", subject), show_all)

    def show(self, title: str, found, show_all: bool) -> None:
        self.stdout.write(f"Personal data of {title}")
        rows = [(h, h.count) for h in found]
        rows = [(h, n) for h, n in rows if n or show_all]
        width = max((len(h.table) for h, _ in rows), default=5)
        self.stdout.write(f"{'table'.ljust(width)}  {'rows':>5}  path  fields")
        for holding, count in rows:
            self.stdout.write(f"{holding.table.ljust(width)}  {count:>5}  {holding.path}  {', '.join(holding.fields)}")
        self.stdout.write(f"{sum(n for _, n in rows)} rows in {sum(1 for _, n in rows if n)} tables")
