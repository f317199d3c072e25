"""First-run demo data for `make run`: a believable Romanian small business, written through
the real services. Idempotent.

Demo SRL sells office furniture and fit-outs to companies around Romania. It has worked for
eight months with the CRM: a couple of hundred people at a few dozen companies (a handful of
large accounts, many with one or two people, some private customers), calls and meetings on
working days in working hours, tasks done, due and overdue, and deals in every stage of its
pipeline, won and lost over the months, so that every page and chart has something true to
show. The same data on every machine (a fixed random seed, dates relative to today)."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organization, User
from accounts.services import create_organization
from accounts.two_factor import TOTP_DEVICE_NAME
from accounts.two_factor_models import AuthenticatorDevice
from activity.models import Task
from activity.services import create_task, log_interaction
from consent.models import ConsentRecord
from consent.services.ledger import create_purpose, give_consent
from contacts.models import Company, Contact
from contacts.services.companies import create_company
from contacts.services.contacts import create_contact
from deals.models import Deal, Stage
from deals.services.catalog import create_lost_reason, save_product, set_currency_rate
from deals.services.deals import create_deal, set_deal_status
from deals.services.pipelines import default_pipeline
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
HISTORY_DAYS = 240
BUCHAREST = ZoneInfo("Europe/Bucharest")


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
        Seeder(organization, [user for user, _role in users]).run()
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


class Seeder:
    def __init__(self, organization: Organization, team: list[User]) -> None:
        self.organization = organization
        self.team = team
        self.sellers = team[:3]  # the read-only intern owns nothing
        self.rng = random.Random(2026)  # noqa: S311 - demo data, the same on every machine
        self.now = timezone.now()

    def run(self) -> None:
        companies = self.companies()
        contacts = self.contacts(companies)
        self.interactions(contacts)
        self.tasks(contacts)
        self.deals(companies, contacts)
        self.consent(contacts)

    # --- time -------------------------------------------------------------------------------

    def days_ago(self, days: float) -> datetime.datetime:
        return self.now - datetime.timedelta(days=days)

    def working_time(self, after: datetime.datetime, before: datetime.datetime | None = None) -> datetime.datetime:
        """A moment between `after` and `before` (now), moved to a weekday between 9:00 and
        18:00 in Bucharest, as people work."""
        before = before or self.now
        span = max((before - after).total_seconds(), 3600)
        moment = (after + datetime.timedelta(seconds=self.rng.uniform(0, span))).astimezone(BUCHAREST)
        while moment.weekday() >= 5:
            moment -= datetime.timedelta(days=1)
        moment = moment.replace(hour=self.rng.randint(9, 17), minute=self.rng.choice([0, 10, 15, 30, 40, 45]))
        return min(moment, self.now - datetime.timedelta(minutes=5))

    def working_hour(self, moment: datetime.datetime) -> datetime.datetime:
        """`moment`'s day (or the Monday after, on a weekend) at a working hour in Bucharest."""
        local = moment.astimezone(BUCHAREST)
        while local.weekday() >= 5:
            local += datetime.timedelta(days=1)
        return local.replace(hour=self.rng.randint(9, 17), minute=self.rng.choice([0, 30]), second=0, microsecond=0)

    def backdate(self, model, pk: int, moment: datetime.datetime, **extra) -> None:
        with tenant_context(self.organization):
            model.objects.filter(pk=pk).update(created_at=moment, **extra)

    # --- the CRM -----------------------------------------------------------------------------

    def companies(self) -> list[Company]:
        made = []
        for name, domain, industry, tags in COMPANIES:
            company = create_company(
                organization=self.organization,
                actor=self.team[0],
                name=name,
                data={"domain": domain, "industry": industry, "tags": tags, "owner": self.rng.choice(self.sellers)},
            )
            self.backdate(Company, company.pk, self.working_time(self.days_ago(HISTORY_DAYS)))
            made.append(company)
        return made

    def contacts(self, companies: list[Company]) -> list[Contact]:
        # Uneven, as real accounts are: the first companies employ most of the people met.
        weights = [1 / (rank + 1) ** 0.9 for rank in range(len(companies))]
        people = list(PEOPLE)
        used: set[tuple[str, str]] = set()
        made = []
        for index in range(CONTACTS):
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            while (first, last) in used:
                first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            if people:  # the named people the tests and the README refer to come first
                first, last = people.pop(0)
            used.add((first, last))
            private = self.rng.random() < 0.15
            company = None if private else self.rng.choices(companies, weights)[0]
            domain = "gmail.com" if private else COMPANIES[companies.index(company)][1]
            local = f"{_ascii(first)}.{_ascii(last)}" if index % 5 else f"{_ascii(first)[0]}{_ascii(last)}"
            created = self.working_time(self.days_ago(HISTORY_DAYS * (1 - index / CONTACTS) + 3))
            contact = create_contact(
                organization=self.organization,
                actor=self.team[0],
                data={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{local}{index if private else ''}@{domain}",
                    "phone": f"+40 7{self.rng.randint(20, 89)} {self.rng.randint(100, 999)} {self.rng.randint(100, 999)}",
                    "job_title": "" if private else self.rng.choice(JOB_TITLES),
                    "company": company,
                    "owner": self.rng.choices(self.sellers, [5, 2, 4])[0],
                    "status": self.rng.choices(STATUSES, [5, 3, 4, 1])[0],
                    "tags": self.rng.sample(TAGS, k=self.rng.choices([0, 1, 2], [5, 4, 1])[0]),
                    "preferred_language": "ro" if self.rng.random() < 0.85 else "en",
                    "source_date": created.date(),
                },
            )
            self.backdate(Contact, contact.pk, created, updated_at=created)
            contact.created_at = created
            made.append(contact)
        return made

    def interactions(self, contacts: list[Contact]) -> None:
        for contact in contacts:
            for _ in range(self.rng.choices([0, 1, 2, 3, 5, 8], [2, 4, 4, 3, 2, 1])[0]):
                kind, subject, body = self.rng.choice(INTERACTIONS)
                log_interaction(
                    organization=self.organization,
                    actor=contact.owner if contact.owner in self.sellers else self.team[0],
                    kind=kind,
                    occurred_at=self.working_time(contact.created_at),
                    subject=subject,
                    body=body,
                    contacts=[contact],
                    company=contact.company,
                )

    def tasks(self, contacts: list[Contact]) -> None:
        for index, (title, due_in_days, done) in enumerate(TASKS):
            contact = contacts[(index * 7) % len(contacts)]
            due = self.working_hour(self.now + datetime.timedelta(days=due_in_days))
            task = create_task(
                organization=self.organization,
                actor=self.team[0],
                title=title,
                due_at=due,
                assignee=self.sellers[index % 3],
                contact=contact,
            )
            with tenant_context(self.organization):
                Task.objects.filter(pk=task.pk).update(
                    created_at=min(due, self.now) - datetime.timedelta(days=5),
                    done_at=due if done else None,
                )

    def deals(self, companies: list[Company], contacts: list[Contact]) -> None:
        organization, owner = self.organization, self.team[0]
        pipeline = default_pipeline(organization, owner)
        with tenant_context(organization):
            stages = list(Stage.objects.filter(organization=organization, pipeline=pipeline).order_by("position"))
        for days, rate in ((HISTORY_DAYS, "4.9712"), (120, "4.9768"), (30, "4.9755"), (2, "4.9741")):
            set_currency_rate(
                organization=organization,
                actor=owner,
                currency="EUR",
                date=self.days_ago(days).date(),
                rate=Decimal(rate),
            )
        reasons = [create_lost_reason(organization=organization, actor=owner, name=name) for name in LOST_REASONS]
        for name, code, price in PRODUCTS:
            save_product(
                organization=organization,
                actor=owner,
                data={
                    "name": name,
                    "code": code,
                    "unit_price": Decimal(price),
                    "currency": "RON",
                    "vat_rate": Decimal("19"),
                },
            )
        people_at = {}
        for contact in contacts:
            if contact.company_id:
                people_at.setdefault(contact.company_id, []).append(contact)
        for _deal in range(DEALS):
            company = self.rng.choice([c for c in companies if c.pk in people_at])
            title, low, high = self.rng.choice(DEAL_KINDS)
            currency = "EUR" if self.rng.random() < 0.2 else "RON"
            value = Decimal(self.rng.randrange(low, high, 50))
            if currency == "EUR":
                value = (value / Decimal("5")).quantize(Decimal("1"))
            created = self.working_time(self.days_ago(HISTORY_DAYS - 10))
            outcome = self.rng.choices(["open", "won", "lost"], [5, 3, 2])[0]
            stage = self.rng.choices(stages, [4, 3, 3, 2])[0] if outcome == "open" else stages[-1]
            expected = (self.now + datetime.timedelta(days=self.rng.randint(-10, 100))).date()
            deal = create_deal(
                organization=organization,
                actor=owner,
                title=f"{title} · {company.name.split(' ')[0]}",
                stage=stage,
                value=value,
                currency=currency,
                expected_close=expected,
                owner=self.rng.choices(self.sellers, [3, 2, 4])[0],
                company=company,
                contacts=self.rng.sample(people_at[company.pk], k=min(2, len(people_at[company.pk]))),
            )
            self.backdate(Deal, deal.pk, created, stage_entered_at=self.working_time(created), updated_at=created)
            # The first call on the deal: on its timeline and on its contacts' (no draw from
            # the generator, so the rest of the seed stays as it was).
            log_interaction(
                organization=organization,
                actor=deal.owner,
                kind="call",
                occurred_at=created,
                subject="Primul apel despre ofertă",
                body="",
                contacts=[],
                company=company,
                deal=deal,
            )
            if outcome != "open":
                deal = set_deal_status(
                    organization=organization,
                    actor=deal.owner,
                    deal=deal,
                    status=outcome,
                    expected_version=deal.version,
                    lost_reason=self.rng.choice(reasons) if outcome == "lost" else None,
                )
                with tenant_context(organization):
                    Deal.objects.filter(pk=deal.pk).update(closed_at=self.working_time(created))

    def consent(self, contacts: list[Contact]) -> None:
        organization, owner = self.organization, self.team[0]
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


def _ascii(text: str) -> str:
    return text.translate(ASCII).lower().replace(" ", "").replace("-", "")


ASCII = str.maketrans("ăâîșțşţĂÂÎȘȚ", "aaistSTAAIST")
CONTACTS = 180
DEALS = 70
COMPANIES = [
    ("Carpați Logistic SRL", "carpati-logistic.ro", "Transport și logistică", ["partener"]),
    ("Dunărea Software SRL", "dunarea-soft.ro", "Software", ["vip"]),
    ("Transilvania Mobila SA", "transilvania-mobila.ro", "Producție mobilier", ["partener"]),
    ("Clinica Sfânta Maria SRL", "clinicasfantamaria.ro", "Sănătate", ["vip"]),
    ("Brutăria Bunicii SRL", "brutariabunicii.ro", "Panificație", []),
    ("Bucovina Turism SRL", "bucovina-turism.ro", "Turism", []),
    ("Delta Energy SRL", "delta-energy.ro", "Energie", ["vip"]),
    ("Școala Gimnazială Nr. 5 Iași", "scoala5iasi.ro", "Educație", ["sector-public"]),
    ("Agroferma Bărăgan SRL", "agroferma-baragan.ro", "Agricultură", []),
    ("Hotel Cetate Alba Iulia SRL", "hotelcetate.ro", "HoReCa", []),
    ("Construct Expert Cluj SRL", "constructexpert.ro", "Construcții", []),
    ("Farmacia Tei SRL", "farmaciatei.ro", "Retail farmaceutic", []),
    ("Avocatura Mureșan & Asociații", "muresan-avocati.ro", "Servicii juridice", []),
    ("Contabilitate Oltenia SRL", "contaoltenia.ro", "Contabilitate", []),
    ("Tipografia Banat SRL", "tipografiabanat.ro", "Tipografie", []),
    ("Primăria Comunei Ciugud", "ciugud.ro", "Administrație publică", ["sector-public"]),
    ("Vinuri de Dealu Mare SRL", "vinuridealumare.ro", "Vinificație", []),
    ("Studio Arhitectură Lumină SRL", "studiolumina.ro", "Arhitectură", ["partener"]),
    ("Moara lui Călifar SRL", "moaracalifar.ro", "Morărit", []),
    ("Auto Service Rapid SRL", "autoservicerapid.ro", "Service auto", []),
    ("Galeria Artă Veche SRL", "artaveche.ro", "Comerț artă", []),
    ("Croitoria Elegant SRL", "croitoriaelegant.ro", "Confecții", []),
    ("Eco Curat Servicii SRL", "ecocurat.ro", "Servicii de curățenie", []),
    ("Fundația Copiii Zâmbesc", "copiiizambesc.ro", "ONG", ["sector-public"]),
    ("Cafeneaua Boemă SRL", "cafeneauaboema.ro", "HoReCa", []),
    ("Tehnomed Distribuție SRL", "tehnomed.ro", "Distribuție echipamente medicale", []),
    ("Sera Verde Ilfov SRL", "seraverde.ro", "Horticultură", []),
    ("Pensiunea Bran SRL", "pensiuneabran.ro", "Turism", []),
]
PEOPLE = [("Ana-Maria", "Ștefănescu"), ("Mihai", "Popa"), ("Elena", "Rădulescu")]
FIRST_NAMES = [
    "Ana", "Andreea", "Alexandra", "Bianca", "Camelia", "Carmen", "Corina", "Cristina", "Daniela", "Diana",
    "Elena", "Gabriela", "Ileana", "Ioana", "Irina", "Larisa", "Laura", "Mădălina", "Mihaela", "Monica",
    "Oana", "Raluca", "Roxana", "Simona", "Ștefania", "Teodora", "Adrian", "Alexandru", "Bogdan", "Cătălin",
    "Cosmin", "Cristian", "Dan", "Daniel", "Dragoș", "Florin", "George", "Horia", "Ionuț", "Lucian",
    "Marius", "Mihai", "Ovidiu", "Paul", "Radu", "Răzvan", "Sergiu", "Ștefan", "Tudor", "Victor", "Vlad",
]  # fmt: skip
LAST_NAMES = [
    "Albu", "Avram", "Barbu", "Bălan", "Ciobanu", "Coman", "Constantin", "Dinu", "Dobre", "Dumitru",
    "Ene", "Florea", "Georgescu", "Gheorghiu", "Iordache", "Lungu", "Marin", "Matei", "Mocanu", "Moldovan",
    "Munteanu", "Neagu", "Nistor", "Oprea", "Păun", "Pop", "Preda", "Rădulescu", "Roman", "Sârbu",
    "Stan", "Stoica", "Șerban", "Tănase", "Toma", "Tudor", "Țurcanu", "Ursu", "Vasile", "Voicu",
]  # fmt: skip
STATUSES = ["lead", "prospect", "customer", "former_customer"]
TAGS = ["vip", "newsletter", "târg-2026", "partener", "recomandare"]
JOB_TITLES = [
    "Director general", "Manager achiziții", "Contabil-șef", "Office manager", "Director tehnic",
    "Director vânzări", "Administrator", "Manager de proiect", "Asistent manager", "Director financiar",
]  # fmt: skip
INTERACTIONS = [
    ("call", "Apel de prezentare", "Interesați de mobilierul pentru biroul nou; revenim cu o ofertă."),
    ("meeting", "Vizită la sediul clientului", "Am măsurat spațiul; au nevoie de 14 posturi de lucru."),
    ("email", "Ofertă trimisă", "Oferta pentru amenajarea recepției, valabilă 30 de zile."),
    ("note", "Preferă comunicarea pe email", "Nu sunați înainte de ora 10."),
    ("call", "Follow-up ofertă", "Au cerut o reducere pentru plata integrală în avans."),
    ("meeting", "Prezentare în showroom", "Au ales modelul de birou reglabil pe înălțime."),
    ("email", "Confirmare livrare", "Livrarea e programată marți, între 9 și 12."),
    ("call", "Reclamație rezolvată", "Un sertar defect, înlocuit în garanție."),
]
TASKS = [
    ("Trimite contractul semnat", -9, True),
    ("Sună pentru feedback după montaj", -6, True),
    ("Trimite oferta revizuită", -3, False),
    ("Verifică plata facturii 2026-118", -1, False),
    ("Sună pentru feedback după vizită", 0, False),
    ("Pregătește oferta de reînnoire", 1, False),
    ("Programează vizita în showroom", 2, False),
    ("Confirmă data livrării", 4, False),
    ("Programează întâlnirea trimestrială", 6, False),
    ("Invită la târgul din martie", 14, False),
]
DEAL_KINDS = [
    ("Amenajare birou", 8_000, 60_000),
    ("Mobilier recepție", 4_000, 20_000),
    ("Scaune ergonomice", 2_000, 15_000),
    ("Sală de ședințe", 6_000, 35_000),
    ("Amenajare open space", 40_000, 150_000),
    ("Contract mentenanță anual", 3_000, 12_000),
]
LOST_REASONS = ["Preț prea mare", "A ales un concurent", "Fără buget anul acesta", "Proiect amânat"]
PRODUCTS = [
    ("Birou reglabil pe înălțime", "BRD-160", "2450.00"),
    ("Scaun ergonomic", "SCN-ERG", "1290.00"),
    ("Masă de ședință 10 locuri", "MSS-10", "5900.00"),
    ("Montaj și transport", "SRV-MNT", "650.00"),
]
