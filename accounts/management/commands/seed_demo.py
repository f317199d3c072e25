"""First-run demo data for `make run`: an organization with a team. Idempotent."""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Organization, User
from accounts.services import create_organization
from logicnet.tenancy.roles import Role

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed by make run, local demo only
TEAM = [
    ("owner@demo.logicnet.ro", "Ioana Popescu", Role.OWNER),
    ("admin@demo.logicnet.ro", "Andrei Ionescu", Role.ADMIN),
    ("sales@demo.logicnet.ro", "Ștefan Dumitrescu", Role.MEMBER),
    ("intern@demo.logicnet.ro", "Maria Constantinescu", Role.READ_ONLY),
]


class Command(BaseCommand):
    help = "Create the demo organization and its team, unless they exist."

    def handle(self, *args, **options):
        if Organization.objects.filter(slug="demo-srl").exists():
            self.stdout.write("demo data present; keeping it")
            return
        with transaction.atomic():
            users = []
            for email, name, role in TEAM:
                user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, phone="+40721000000")
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
                users.append((user, role))
            owner = users[0][0]
            organization = create_organization(name="Demo SRL", owner=owner)
            organization.slug = "demo-srl"
            organization.save(update_fields=["slug"])
            for user, role in users[1:]:
                Membership.objects.create(organization=organization, user=user, role=role)
        self.stdout.write(self.style.SUCCESS(f"demo organization created; sign in as {TEAM[0][0]} / {DEMO_PASSWORD}"))
