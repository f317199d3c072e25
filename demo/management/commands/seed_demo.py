"""First-run demo data for `make run`: an organization with a team, companies, contacts,
interactions and tasks, all written through the real services. Idempotent."""

import datetime
import random

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organization, User
from accounts.services import create_organization
from accounts.two_factor import TOTP_DEVICE_NAME
from accounts.two_factor_models import AuthenticatorDevice
from consent.models import ConsentRecord
from consent.services.ledger import create_purpose, give_consent
from contacts.services.activity import create_task, log_interaction
from contacts.services.companies import create_company
from contacts.services.contacts import create_contact
from logicnet.tenancy.context import acting_user, platform_bypass, tenant_context, user_context
from logicnet.tenancy.roles import Role

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed by make run, local demo only
TEAM = [
    ("owner@demo.logicnet.ro", "Ioana Popescu", Role.OWNER),
    ("admin@demo.logicnet.ro", "Andrei Ionescu", Role.ADMIN),
    ("sales@demo.logicnet.ro", "Ștefan Dumitrescu", Role.MEMBER),
    ("intern@demo.logicnet.ro", "Maria Constantinescu", Role.READ_ONLY),
]
# The platform administrator of the demo, for the admin process (make run: port 8001). Its
# authenticator-app key is fixed so that the README can print it: add it to an app, or get
# the current code with `.venv/bin/python -c "import pyotp; print(pyotp.TOTP('<key>').now())"`.
# A local demo only: a real deployment creates its staff with `createsuperuser --database platform`.
DEMO_STAFF_EMAIL = "platform@demo.logicnet.ro"
DEMO_STAFF_TOTP_KEY = b"logicnet-demo-admin!"  # base32: NRXWO2LDNZSXILLEMVWW6LLBMRWWS3RB


class Command(BaseCommand):
    help = "Create the demo organization and its team, unless they exist."

    def handle(self, *args, **options):
        self._seed_platform_staff()
        if Organization.objects.filter(slug="demo-srl").exists():
            self.stdout.write("demo data present; keeping it")
            return
        with transaction.atomic():
            users = []
            for email, name, role in TEAM:
                user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, phone="+40721000000")
                with user_context(user):  # an address is written only for its acting user (a row policy)
                    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
                users.append((user, role))
            owner = users[0][0]
            organization = create_organization(name="Demo SRL", owner=owner)
            organization.slug = "demo-srl"
            with tenant_context(organization):  # the database lets only the active organization change
                organization.save(update_fields=["slug"])
            for user, role in users[1:]:
                # A membership is added by the user who joins, in the organization joined.
                with acting_user(user), tenant_context(organization):
                    Membership.objects.create(organization=organization, user=user, role=role)
        self._seed_crm(organization, [user for user, _ in users])
        self.stdout.write(self.style.SUCCESS(f"demo organization created; sign in as {TEAM[0][0]} / {DEMO_PASSWORD}"))

    def _seed_platform_staff(self) -> None:
        """Staff flags belong to the platform role (column privileges), so the administrator
        is written through the audited platform bypass, as `createsuperuser --database
        platform` would; with a confirmed authenticator app, since the admin requires one."""
        from base64 import b32encode

        secret = b32encode(DEMO_STAFF_TOTP_KEY).decode()
        with platform_bypass(actor=None, reason="demo: the platform administrator of make run"):
            if not User.objects.filter(email=DEMO_STAFF_EMAIL).exists():
                staff = User.objects.create_superuser(DEMO_STAFF_EMAIL, DEMO_PASSWORD, full_name="Platform Admin")
                EmailAddress.objects.create(user=staff, email=DEMO_STAFF_EMAIL, verified=True, primary=True)
                device = AuthenticatorDevice(user=staff, name=TOTP_DEVICE_NAME, confirmed=True)
                device.set_key(DEMO_STAFF_TOTP_KEY)
                device.save()
        self.stdout.write(
            f"platform admin: {DEMO_STAFF_EMAIL} / {DEMO_PASSWORD}, authenticator key {secret} "
            f"(otpauth://totp/Logicnet%20CRM:{DEMO_STAFF_EMAIL}?secret={secret}&issuer=Logicnet%20CRM)"
        )

    def _seed_crm(self, organization, team) -> None:
        rng = random.Random(2026)  # the same demo on every machine  # noqa: S311
        owner, *_ = team
        companies = [
            create_company(
                organization=organization,
                actor=owner,
                name=name,
                data={"domain": domain, "industry": industry, "tags": tags},
            )
            for name, domain, industry, tags in COMPANIES
        ]
        now = timezone.now()
        statuses = ["lead", "prospect", "customer", "customer", "former_customer"]
        contacts = []
        for index, (first, last) in enumerate(PEOPLE):
            company = companies[index % len(companies)]
            domain = COMPANIES[index % len(COMPANIES)][1]
            ascii_first = first.translate(ASCII).lower()
            ascii_last = last.translate(ASCII).lower()
            contacts.append(
                create_contact(
                    organization=organization,
                    actor=owner,
                    data={
                        "first_name": first,
                        "last_name": last,
                        "email": f"{ascii_first}.{ascii_last}@{domain}",
                        "phone": f"+40 7{rng.randint(20, 89)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
                        "job_title": rng.choice(JOB_TITLES),
                        "company": company,
                        "owner": team[index % 3],
                        "status": statuses[index % len(statuses)],
                        "tags": rng.sample(["vip", "newsletter", "event-2026", "partner"], k=rng.randint(0, 2)),
                        "preferred_language": "ro" if index % 4 else "en",
                    },
                )
            )
        for index, contact in enumerate(contacts):
            for days_ago, (kind, subject, body) in enumerate(rng.sample(INTERACTIONS, k=2 + index % 3)):
                log_interaction(
                    organization=organization,
                    actor=team[index % 3],
                    kind=kind,
                    occurred_at=now - datetime.timedelta(days=days_ago * 6 + index % 5, hours=index % 7),
                    subject=subject,
                    body=body,
                    contacts=[contact],
                    company=contact.company,
                )
        for index, (title, due_in_days) in enumerate(TASKS):
            create_task(
                organization=organization,
                actor=owner,
                title=title,
                due_at=now + datetime.timedelta(days=due_in_days, hours=2),
                assignee=team[index % 3],
                contact=contacts[index * 3 % len(contacts)],
            )
        self._seed_consent(organization, owner, contacts)

    def _seed_consent(self, organization, owner, contacts) -> None:
        newsletter = create_purpose(
            organization=organization,
            actor=owner,
            key="newsletter",
            name="Newsletter",
            notice_text=(
                "Demo SRL sends you its newsletter about new products once a month. "
                "You can unsubscribe at any time with one click from any newsletter."
            ),
        )
        create_purpose(
            organization=organization,
            actor=owner,
            key="events",
            name="Event invitations",
            notice_text="Demo SRL invites you to its fairs and workshops, a few times a year.",
        )
        for contact in contacts[::3]:
            give_consent(
                organization=organization,
                contact=contact,
                purpose=newsletter,
                method=ConsentRecord.Method.IMPORT,
                actor=owner,
                details="Imported with the demo data",
            )


ASCII = str.maketrans("ăâîșțĂÂÎȘȚ", "aaistAAIST")
COMPANIES = [
    ("Carpați Logistic SRL", "carpati-logistic.ro", "Transport", ["partner"]),
    ("Dunărea Software SRL", "dunarea-soft.ro", "Software", ["vip"]),
    ("Brutăria Bunicii SRL", "brutariabunicii.ro", "Food", []),
    ("Transilvania Mobila SA", "transilvania-mobila.ro", "Furniture", ["event-2026"]),
    ("Bucovina Turism SRL", "bucovina-turism.ro", "Tourism", []),
    ("Delta Energy SRL", "delta-energy.ro", "Energy", ["vip", "partner"]),
]
PEOPLE = [
    ("Ana-Maria", "Ștefănescu"),
    ("Mihai", "Popa"),
    ("Elena", "Rădulescu"),
    ("Șerban", "Georgescu"),
    ("Ioana", "Marin"),
    ("Cristian", "Stoica"),
    ("Alexandra", "Tudor"),
    ("Vlad", "Munteanu"),
    ("Raluca", "Dinu"),
    ("Bogdan", "Ene"),
    ("Irina", "Lungu"),
    ("Tudor", "Matei"),
    ("Oana", "Barbu"),
    ("Radu", "Nistor"),
    ("Diana", "Ciobanu"),
    ("Adrian", "Țurcanu"),
    ("Gabriela", "Moldovan"),
    ("Florin", "Avram"),
    ("Simona", "Preda"),
    ("Horia", "Păun"),
    ("Corina", "Sârbu"),
    ("Dan", "Coman"),
    ("Laura", "Neagu"),
    ("Ovidiu", "Iordache"),
]
JOB_TITLES = ["Director general", "Manager achiziții", "Contabil-șef", "Office manager", "CTO", "Director vânzări"]
INTERACTIONS = [
    ("call", "Apel de prezentare", "Interesați de modulul de facturare; revenim cu o ofertă."),
    ("meeting", "Întâlnire la sediul clientului", "Am discutat termenii contractului pe 12 luni."),
    ("email", "Ofertă trimisă", "Oferta pentru 10 utilizatori, valabilă 30 de zile."),
    ("note", "Preferă comunicarea pe email", "Nu sunați înainte de ora 10."),
    ("call", "Follow-up ofertă", "Au cerut o reducere pentru plata anuală."),
    ("meeting", "Demo online", "Demo pentru echipa de vânzări; feedback bun."),
]
TASKS = [
    ("Trimite contractul semnat", -2),
    ("Sună pentru feedback după demo", 0),
    ("Pregătește oferta de reînnoire", 1),
    ("Programează întâlnirea trimestrială", 3),
    ("Verifică plata facturii", 7),
    ("Invită la evenimentul din martie", 14),
]
