"""Benchmark of the CRM pages: server time of the real views through the Django test
client (every middleware, the tenant context, the templates), on data it bulk-loads itself
and removes afterwards.

    make bench                                   # both benchmarks at their default sizes
    make bench BENCH=bench_crm                   # only this one: 50,000 contacts
    make bench BENCH=bench_crm ARGS="--contacts 1000000"   # the issue's size

The measured organization has N contacts, N/10 companies, 3N interactions (one contact has
exactly 200, for the detail page), tags and owners; ten other organizations have N/10
contacts each, and the first of them is seeded like the measured one (companies,
interactions, a 200-interaction contact) so that query counts can be compared between a
small and a big organization.

Plain baseline: every request is timed twice over, as a whole and the part spent in the
cryptography (decrypting values, deriving blind indexes and search tokens from the query),
which is timed inside the same request by wrapping those functions. "without crypto" is the
request minus that part: what the same view, SQL and templates cost on plaintext. It does
not remove the other costs of encryption, which the output states separately: ciphertext
makes rows larger, and name search has to go through token tables instead of a plaintext
index.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import random
import re
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.models import Count
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization, User
from activity.models import Interaction, InteractionParticipant, Task
from contacts import selectors_lists
from contacts.benchmarks import (
    FIRST_NAMES,
    JOBS,
    STEMS,
    SUFFIXES,
    analyze,
    delete_users,
    fake_person,
    make_bench_organization,
    percentile,
)
from contacts.models import (
    Company,
    CompanyNameToken,
    CompanyTag,
    Contact,
    ContactAddress,
    ContactEmail,
    ContactNameToken,
    ContactPhone,
    ContactShare,
    ContactTag,
    CustomField,
    SavedView,
    Tag,
)
from logicnet.bulk.writes import insert_rows
from logicnet.encryption import blind
from logicnet.encryption import fields as encrypted_fields
from logicnet.tenancy.context import acting_user, tenant_context

SLUG_PREFIX = "benchcrm-"
USER_DOMAIN = "@benchcrm.example.invalid"
MEMBERS = 5
OTHER_ORGANIZATIONS = 10
DETAIL_INTERACTIONS = 200
TAG_NAMES = [
    "vip", "newsletter", "partener", "furnizor", "eveniment-2025", "webinar", "recomandat", "b2b", "b2c",
    "export", "retail", "hore-ca", "it", "constructii", "agricultura", "transport", "sanatate", "educatie",
    "juridic", "inactiv",
]  # fmt: skip
LEGAL_FORMS = ["SRL", "SA", "PFA", "SRL-D", "SNC"]
INDUSTRIES = ["IT", "Construcții", "Retail", "Transport", "Agricultură", "Sănătate", "Turism", "Producție"]
WORDS = [
    "ofertă", "discutat", "termen", "livrare", "contract", "factură", "revenim", "săptămâna", "viitoare", "prețul",
    "volum", "client", "întâlnire", "demo", "cerințe", "buget", "aprobare", "echipa", "proiect", "suport", "telefon",
]  # fmt: skip
# Bench tables deleted per organization before the organization itself, children first.
TENANT_TABLES = [
    InteractionParticipant, Interaction, Task, ContactTag, CompanyTag, ContactShare, ContactEmail, ContactPhone,
    ContactAddress, ContactNameToken, CompanyNameToken, SavedView, Contact, Company, Tag, CustomField,
]  # fmt: skip
TARGETS_MS = {"list": 80, "deep": 80, "filter": 100, "search": 80, "detail": 100}


@dataclass
class Seeded:
    organization: Organization
    contacts: int = 0
    companies: int = 0
    interactions: int = 0
    participants: int = 0
    contact_tags: int = 0
    detail_contact_id: int | None = None
    busy_tag_id: int | None = None
    busy_owner_id: int | None = None
    contact_ids: list[int] = field(default_factory=list)


@dataclass
class Figure:
    name: str
    target: int | None
    durations: list[float] = field(default_factory=list)
    crypto: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    db_cpu: list[float] = field(default_factory=list)
    queries: dict[str, int] = field(default_factory=dict)
    note: str = ""


class CryptoClock:
    """Adds up the time spent in decryption and in blind-index/token derivation while on.

    The wrappers replace the module attributes the fields and selectors call through, so
    the real functions still do the work; their cost is what a plaintext CRM would not pay."""

    TARGETS = [(encrypted_fields, "decrypt_value"), (blind, "query_tokens"), (blind, "email_index")]
    TARGETS += [(blind, "phone_index")]

    def __init__(self) -> None:
        self.spent = 0.0
        self.calls = 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[CryptoClock]:
        originals = [(module, name, getattr(module, name)) for module, name in self.TARGETS]
        for module, name, original in originals:
            setattr(module, name, self._wrap(original))
        try:
            yield self
        finally:
            for module, name, original in originals:
                setattr(module, name, original)

    def _wrap(self, func: Callable) -> Callable:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - start
                self.calls += 1

        return timed


def backend_cpu_seconds() -> tuple[int, float] | None:
    """(pid, CPU seconds) of this connection's PostgreSQL backend, read from /proc: the
    database's share of a request's CPU, which a loaded machine does not inflate as it does
    wall time. None when the server is not a local process this user may inspect."""
    try:
        pid = connection.connection.info.backend_pid
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, ValueError, IndexError):
        return None


def fetch(client: Client, target):
    """A page request: a URL is a GET; ("POST", url, data) an htmx POST (the header search
    POSTs what is typed, so that it stays out of URLs)."""
    if isinstance(target, tuple):
        _method, url, data = target
        return client.post(url, data, secure=True, HTTP_HX_REQUEST="true")
    return client.get(target, secure=True)


class Command(BaseCommand):
    help = "Benchmark the CRM pages at scale (seeds, measures through the test client, removes its data)."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=50_000, help="contacts in the measured organization")
        parser.add_argument(
            "--other-contacts", type=int, default=None, help="contacts in each of 10 other orgs (default N/10)"
        )
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
        parser.add_argument("--keep", action="store_true", help="keep the data (a later run removes it first)")
        parser.add_argument("--reuse", action="store_true", help="measure data kept by an earlier --keep run")
        parser.add_argument(
            "--interactions-per-contact",
            type=int,
            default=None,
            help=f"interactions seeded per contact on average (default {self.interactions_per_contact})",
        )

    # Interactions seeded per contact on average (bench_privacy seeds fewer: it measures one person).
    interactions_per_contact = 3

    def say(self, line: str = "") -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(self, *args, contacts, other_contacts, batch_size, requests, keep, reuse, **options):
        self.rng = random.Random(2027)  # noqa: S311 - benchmark data, not secrets
        if options.get("interactions_per_contact") is not None:
            self.interactions_per_contact = options["interactions_per_contact"]
        self.batch_size = batch_size
        other_contacts = other_contacts if other_contacts is not None else max(100, contacts // 10)
        main = Organization.objects.filter(slug=f"{SLUG_PREFIX}main").first() if reuse else None
        small = Organization.objects.filter(slug=f"{SLUG_PREFIX}other-1").first() if reuse else None
        try:
            if main is not None and small is not None:
                self.say(f"reusing the data kept in {main.slug}")
                big_seed, small_seed = self.describe(main), self.describe(small)
            else:
                self.remove_bench_data()
                big_seed, small_seed = self.seed_all(contacts, other_contacts)
            self.report_sizes(big_seed, small_seed)
            figures = self.measure(big_seed, small_seed, requests)
            self.print_table(big_seed, small_seed, figures, requests)
        finally:
            if keep:
                self.say("keeping the data (--keep); the next run without --reuse removes it first")
            else:
                self.remove_bench_data()

    # --- data ------------------------------------------------------------------------------

    def seed_all(self, contacts: int, other_contacts: int) -> tuple[Seeded, Seeded]:
        members = [
            User.objects.create_user(f"{SLUG_PREFIX}member-{n}{USER_DOMAIN}", None, full_name=f"Bench Member {n}")
            for n in range(MEMBERS)
        ]
        self.user = members[0]
        self.say(
            f"seeding {contacts:,} contacts, {contacts // 10:,} companies and "
            f"{self.interactions_per_contact * contacts:,} interactions in "
            f"{SLUG_PREFIX}main; {OTHER_ORGANIZATIONS} other organizations with {other_contacts:,} contacts each"
        )
        started = time.perf_counter()
        small = None
        for n in range(1, OTHER_ORGANIZATIONS + 1):
            organization = self.organization(f"other-{n}", members)
            seeded = self.seed(organization, other_contacts, members, full=n == 1, quiet=True)
            small = small or seeded
        main = self.organization("main", members)
        big = self.seed(main, contacts, members, full=True, quiet=False)
        self.say(f"  all seeded in {time.perf_counter() - started:.0f}s; ANALYZE")
        analyze([model._meta.db_table for model in TENANT_TABLES], self.say)
        return big, small

    def organization(self, name: str, members: list[User]) -> Organization:
        organization = make_bench_organization(f"{SLUG_PREFIX}{name}", f"Bench CRM {name}")
        for n, user in enumerate(members):
            with acting_user(user), tenant_context(organization):  # a user joins as themselves
                Membership.objects.create(organization=organization, user=user, role="owner" if n == 0 else "member")
        return organization

    def seed(self, organization: Organization, count: int, members: list[User], *, full: bool, quiet: bool) -> Seeded:
        rng, seeded = self.rng, Seeded(organization)
        with tenant_context(organization):
            tags = Tag.objects.bulk_create([Tag(organization=organization, name=name) for name in TAG_NAMES])
        seeded.busy_tag_id = tags[0].pk
        seeded.busy_owner_id = members[1].pk
        # Owners are uneven, as in a real team: the first two members own most contacts.
        owner_weights = [30, 30, 20, 12, 8][: len(members)]
        company_ids = self.seed_companies(organization, count // 10, members, quiet) if full else []
        seeded.companies = len(company_ids)
        now = timezone.now()
        span = datetime.timedelta(days=3 * 365)
        start, done = time.perf_counter(), 0
        while done < count:
            size = min(self.batch_size, count - done)
            rows = []
            for i in range(done, done + size):
                created = now - span + span * (i / count)
                rows.append(
                    {
                        **fake_person(rng, i),
                        "company_id": rng.choice(company_ids) if company_ids and rng.random() < 0.7 else None,
                        "owner_id": rng.choices(members, owner_weights)[0].pk,
                        "status": rng.choice(Contact.Status.values),
                        "source": rng.choice(Contact.Source.values),
                        "source_date": created.date(),
                        "created_at": created,
                        "updated_at": min(now, created + datetime.timedelta(days=rng.randrange(60))),
                    }
                )
            with tenant_context(organization):
                # The one bulk write path (logicnet/bulk): sealed and indexed a batch at a time, COPY.
                created_ids = insert_rows(Contact, organization, rows)
                links = []
                for contact_id in created_ids:
                    chosen = {tags[0].pk} if rng.random() < 0.1 else set()
                    chosen |= {rng.choice(tags[1:]).pk for _ in range(rng.randrange(3))}
                    links += [{"contact_id": contact_id, "tag_id": t} for t in sorted(chosen)]
                insert_rows(ContactTag, organization, links)
            seeded.contact_ids += created_ids
            seeded.contact_tags += len(links)
            done += size
            if not quiet and (done // self.batch_size) % 25 == 0:
                self.say(
                    f"  {organization.slug}: {done:,}/{count:,} contacts ({done / (time.perf_counter() - start):,.0f}/s)"
                )
        elapsed = time.perf_counter() - start
        seeded.contacts = count
        if not quiet:
            self.say(f"  contacts (with {seeded.contact_tags:,} tag links): {count / elapsed:,.0f}/s ({elapsed:.1f}s)")
        if full:
            self.seed_interactions(seeded, members, quiet)
        return seeded

    def seed_companies(self, organization: Organization, count: int, members: list[User], quiet: bool) -> list[int]:
        rng, ids, start = self.rng, [], time.perf_counter()
        now = timezone.now()
        while len(ids) < count:
            size = min(self.batch_size, count - len(ids))
            rows = [
                {
                    "name": f"{rng.choice(STEMS)}{rng.choice(SUFFIXES)} {rng.choice(JOBS).split()[0]} "
                    f"{rng.choice(LEGAL_FORMS)}",
                    "domain": f"firma{len(ids) + i}.ro",
                    "industry": rng.choice(INDUSTRIES),
                    "size": rng.choice(Company.Size.values),
                    "owner_id": rng.choice(members).pk,
                    "created_at": now - datetime.timedelta(days=rng.randrange(1500)),
                }
                for i in range(size)
            ]
            with tenant_context(organization):
                ids += insert_rows(Company, organization, rows)
        if not quiet and count:
            elapsed = time.perf_counter() - start
            self.say(f"  companies: {count / elapsed:,.0f}/s ({elapsed:.1f}s for {count:,})")
        return ids

    def seed_interactions(self, seeded: Seeded, members: list[User], quiet: bool) -> None:
        """`interactions_per_contact` (3) on average, each with one participant (one in five with two); the
        contact in the middle of the list gets exactly DETAIL_INTERACTIONS."""
        rng, organization = self.rng, seeded.organization
        ids = seeded.contact_ids
        detail = ids[len(ids) // 2]
        others = [pk for pk in ids if pk != detail] or [detail]
        total = max(self.interactions_per_contact * len(ids), DETAIL_INTERACTIONS)
        now = timezone.now()
        start, done = time.perf_counter(), 0
        while done < total:
            size = min(self.batch_size, total - done)
            rows, who = [], []
            for n in range(done, done + size):
                occurred = now - datetime.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
                words = rng.choices(WORDS, k=rng.randrange(12, 40))
                rows.append(
                    Interaction(
                        organization=organization,
                        kind=rng.choice(Interaction.Kind.values),
                        occurred_at=occurred,
                        author=rng.choice(members),
                        subject=" ".join(words[:5]).capitalize(),
                        body=" ".join(words).capitalize() + ".",
                        created_at=occurred,
                    )
                )
                if n < DETAIL_INTERACTIONS:
                    people = [detail]
                else:
                    people = [rng.choice(others)]
                    if rng.random() < 0.2:
                        people = list({people[0], rng.choice(others)})
                who.append(people)
            with tenant_context(organization):
                created = Interaction.objects.bulk_create(rows)
                participants = [
                    InteractionParticipant(
                        organization=organization, interaction=row, contact_id=pk, occurred_at=row.occurred_at
                    )
                    for row, people in zip(created, who, strict=True)
                    for pk in people
                ]
                InteractionParticipant.objects.bulk_create(participants)
            seeded.participants += len(participants)
            done += size
        with tenant_context(organization):
            Task.objects.bulk_create(
                Task(
                    organization=organization,
                    title=f"Revenim cu oferta {n}",
                    due_at=now + datetime.timedelta(days=n - 5),
                    assignee=members[0],
                    contact_id=detail,
                    created_by=members[0],
                )
                for n in range(10)
            )
        seeded.interactions = total
        seeded.detail_contact_id = detail
        if not quiet:
            elapsed = time.perf_counter() - start
            self.say(
                f"  interactions (with {seeded.participants:,} participants): {total / elapsed:,.0f}/s "
                f"({elapsed:.1f}s for {total:,})"
            )

    def describe(self, organization: Organization) -> Seeded:
        """The figures of data kept by an earlier --keep run."""
        self.user = User.objects.get(email=f"{SLUG_PREFIX}member-0{USER_DOMAIN}")
        seeded = Seeded(organization)
        with tenant_context(organization):
            seeded.contacts = Contact.objects.filter(organization=organization).count()
            seeded.companies = Company.objects.filter(organization=organization).count()
            seeded.interactions = Interaction.objects.filter(organization=organization).count()
            seeded.participants = InteractionParticipant.objects.filter(organization=organization).count()
            seeded.contact_tags = ContactTag.objects.filter(organization=organization).count()
            seeded.busy_tag_id = Tag.objects.get(organization=organization, name=TAG_NAMES[0]).pk
            seeded.detail_contact_id = (
                InteractionParticipant.objects.filter(organization=organization)
                .values("contact_id")
                .order_by()
                .annotate(n=Count("pk"))
                .filter(n=DETAIL_INTERACTIONS)
                .order_by("contact_id")
                .values_list("contact_id", flat=True)
                .first()
            )
        seeded.busy_owner_id = User.objects.get(email=f"{SLUG_PREFIX}member-1{USER_DOMAIN}").pk
        return seeded

    def remove_bench_data(self) -> None:
        for organization in Organization.objects.filter(slug__startswith=SLUG_PREFIX):
            with tenant_context(organization), connection.cursor() as cursor:
                # Name tokens go before their rows, in one statement each; the per-row
                # triggers then have nothing left to delete.
                for model in TENANT_TABLES:
                    cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE organization_id = %s", [organization.pk])
                cursor.execute("DELETE FROM encryption_organizationkey WHERE organization_id = %s", [organization.pk])
            with tenant_context(organization):  # only the active organization can be deleted
                organization.delete()
        delete_users(User.objects.filter(email__startswith=SLUG_PREFIX, email__endswith=USER_DOMAIN))

    def report_sizes(self, big: Seeded, small: Seeded) -> None:
        with connection.cursor() as cursor:
            sizes = []
            for model in (Contact, ContactNameToken, Interaction, InteractionParticipant):
                table = model._meta.db_table
                cursor.execute(
                    "SELECT pg_size_pretty(pg_table_size(%s::regclass)), pg_size_pretty(pg_indexes_size(%s::regclass))",
                    [table, table],
                )
                data, indexes = cursor.fetchone()
                sizes.append(f"{table} {data} + {indexes} indexes")
        self.say(
            f"data: {big.organization.slug}: {big.contacts:,} contacts, {big.companies:,} companies, "
            f"{big.interactions:,} interactions ({big.participants:,} participants), {big.contact_tags:,} tag links; "
            f"small organization {small.organization.slug}: {small.contacts:,} contacts, "
            f"{small.interactions:,} interactions"
        )
        self.say(f"  tables (all organizations): {'; '.join(sizes)}")
        with tenant_context(big.organization), connection.cursor() as cursor:
            # What encryption adds to a row: the stored ciphertext against its plaintext.
            sample = list(Contact.objects.filter(organization=big.organization).order_by("pk")[:500])
            cursor.execute(
                "SELECT avg(pg_column_size(c.*)) FROM (SELECT * FROM contacts_contact WHERE organization_id = %s "
                "ORDER BY id LIMIT 500) AS c",
                [big.organization.pk],
            )
            (stored,) = cursor.fetchone()
            personal = ["first_name", "last_name", "email", "phone", "date_of_birth", "job_title"]
            sealed = statistics.mean(
                sum(len(c.__dict__[name].token) for name in personal if hasattr(c.__dict__[name], "token"))
                for c in sample
            )
            # Decrypting needs the organization's key, visible only inside its tenant context.
            plain = statistics.mean(sum(len(str(getattr(c, name) or "")) for name in personal) for c in sample)
        self.say(
            f"  a contact row is {float(stored or 0):.0f} bytes stored; its six personal fields take {sealed:.0f} "
            f"bytes as ciphertext, {plain:.0f} as plaintext"
        )

    # --- measurements ----------------------------------------------------------------------

    def measure(self, big: Seeded, small: Seeded, requests: int) -> list[Figure]:
        self.load = load_average()
        # A page that fails is reported in its row, and the other pages are still measured.
        client = Client(raise_request_exception=False)
        client.force_login(self.user)
        clock = CryptoClock()
        figures = []
        # The test client's host; the rest of the settings are the ones the command runs with.
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]), clock.installed():
            for name, title, build in self.pages():
                figure = Figure(title, TARGETS_MS.get(name))
                figures.append(figure)
                try:
                    big_url, small_url = build(big, client), build(small, client)
                except LookupError as exc:
                    figure.note = f"not measured: {exc}"
                    continue
                for label, urls in (("small", small_url), ("big", big_url)):
                    url = urls[0] if isinstance(urls, list) else urls
                    response = fetch(client, url)
                    if response.status_code != 200:
                        figure.note = f"HTTP {response.status_code} for {url}"
                        break
                    with CaptureQueriesContext(connection) as captured:
                        fetch(client, url)
                    figure.queries[label] = len(captured)
                if figure.note:
                    continue
                self.time_requests(client, clock, big_url, requests, figure)
        return figures

    def time_requests(self, client: Client, clock: CryptoClock, urls, requests: int, figure: Figure) -> None:
        urls = urls if isinstance(urls, list) else [urls]
        for n in range(requests + 5):
            url = urls[n % len(urls)]
            clock.spent = 0.0
            backend = backend_cpu_seconds()
            cpu = time.process_time()
            start = time.perf_counter()
            response = fetch(client, url)
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu
            if response.status_code != 200:
                figure.note = f"HTTP {response.status_code} for {url}"
                return
            if n >= 5:  # the first few warm the caches a running process has warm
                figure.durations.append(elapsed)
                figure.crypto.append(clock.spent)
                figure.cpu.append(cpu)
                after = backend_cpu_seconds()
                if backend and after and after[0] == backend[0]:  # same backend (no reconnection)
                    figure.db_cpu.append(after[1] - backend[1])

    def pages(self) -> list[tuple[str, str, Callable]]:
        def url(name: str, seeded: Seeded, **kwargs) -> str:
            return reverse(name, kwargs={"org_slug": seeded.organization.slug, **kwargs})

        def first_page(seeded, client):
            return url("contact_list", seeded)

        def deep_page(seeded, client):
            return self.deep_page_url(url("contact_list", seeded), seeded, client)

        def filtered(seeded, client):
            return f"{url('contact_list', seeded)}?tag={seeded.busy_tag_id}&owner={seeded.busy_owner_id}"

        def search(seeded, client):
            # Three letters of a name, as typed (POSTed, as the header search sends them); a
            # different prefix on each request.
            base = url("crm_search", seeded)
            prefixes = sorted({blind.fold_text(name)[:3].lower() for name in FIRST_NAMES + STEMS})
            if seeded.contacts <= 1000:
                prefixes = ["ana"]
            return [("POST", base, {"q": prefix}) for prefix in prefixes]

        def detail(seeded, client):
            return url("contact_detail", seeded, contact_id=self.detail_id(seeded))

        def timeline(seeded, client):
            return url("contact_timeline", seeded, contact_id=self.detail_id(seeded))

        return [
            ("list", "contacts list, first page", first_page),
            ("deep", "contacts list, deep page", deep_page),
            ("filter", "list filtered by tag and owner", filtered),
            ("search", "search-as-you-type, 3 letters", search),
            ("detail", f"contact detail ({DETAIL_INTERACTIONS} interactions)", detail),
            ("detail", "its timeline (htmx, first page)", timeline),
        ]

    @staticmethod
    def detail_id(seeded: Seeded) -> int:
        if seeded.detail_contact_id is None:
            raise LookupError(f"no contact with {DETAIL_INTERACTIONS} interactions in {seeded.organization.slug}")
        return seeded.detail_contact_id

    def deep_page_url(self, list_url: str, seeded: Seeded, client: Client) -> str:
        """A cursor at 90% of the list in its default order (newest first), made the way
        the list makes its own; the query parameter is the one its next-page link uses."""
        sort = selectors_lists.DEFAULT_SORT
        column = selectors_lists.SORTS[sort]
        with tenant_context(seeded.organization):
            ordered = Contact.objects.filter(organization=seeded.organization).order_by(f"-{column}", "-pk")
            if seeded.contacts <= selectors_lists.PAGE_SIZE:
                raise LookupError("the list has a single page")
            deep = ordered.only("pk", column)[int(seeded.contacts * 0.9)]
        html = client.get(list_url, secure=True).content.decode()
        # The parameter whose value reads back as a cursor of this sort, in any link.
        name = None
        for href in re.findall(r'href="([^"]*\?[^"]*)"', html):
            for key, values in parse_qs(urlsplit(unescape(href)).query).items():
                if any(selectors_lists.read_cursor(value, sort) for value in values):
                    name = key
        if name is None:
            raise LookupError("no next-page link with a cursor on the first page")
        return f"{list_url}?{urlencode({name: selectors_lists.make_cursor(sort, deep, 'after')})}"

    # --- output ----------------------------------------------------------------------------

    def print_table(self, big: Seeded, small: Seeded, figures: list[Figure], requests: int) -> None:
        self.say()
        self.say(
            f"server time through the Django test client (middleware, tenant context, templates), "
            f"{requests} requests each, in {big.organization.slug} ({big.contacts:,} contacts); DEBUG={settings.DEBUG}; "
            f"load average {self.load} before, {load_average()} after (the machine's other work inflates p95)"
        )
        header = (
            f"{'page':<42} {'p95':>8} {'median':>8} {'crypto':>8} {'p95 w/o':>8} {'cpu':>8} {'db cpu':>8} "
            f"{'queries':>13} {'target':>7}  ok"
        )
        self.say(header)
        self.say(
            f"{'':<42} {'ms':>8} {'ms':>8} {'med. ms':>8} {'crypto':>8} {'mean ms':>8} {'mean ms':>8} "
            f"{'small/big':>13} {'ms':>7}"
        )
        self.say("-" * len(header))
        for figure in figures:
            if figure.note:
                self.say(f"{figure.name:<42} {figure.note}")
                continue
            p95 = percentile(figure.durations, 0.95) * 1e3
            median = statistics.median(figure.durations) * 1e3
            crypto = statistics.median(figure.crypto) * 1e3
            plain = percentile([d - c for d, c in zip(figure.durations, figure.crypto, strict=True)], 0.95) * 1e3
            queries = f"{figure.queries.get('small', '?')}/{figure.queries.get('big', '?')}"
            constant = "" if figure.queries.get("small") == figure.queries.get("big") else " (!)"
            target = f"< {figure.target}" if figure.target else ""
            ok = "yes" if figure.target is None or p95 < figure.target else "NO"
            cpu = statistics.mean(figure.cpu) * 1e3
            db_cpu = f"{statistics.mean(figure.db_cpu) * 1e3:>8.1f}" if figure.db_cpu else f"{'-':>8}"
            self.say(
                f"{figure.name:<42} {p95:>8.1f} {median:>8.1f} {crypto:>8.2f} {plain:>8.1f} {cpu:>8.1f} {db_cpu} "
                f"{queries + constant:>13} {target:>7}  {ok}"
            )
        timed = {f.name: f for f in figures if not f.note}
        pair = [f for f in figures if f.name.startswith(("contact detail", "its timeline")) and f.name in timed]
        if len(pair) == 2:
            total = [a + b for a, b in zip(pair[0].durations, pair[1].durations, strict=True)]
            p95 = percentile(total, 0.95) * 1e3
            target = TARGETS_MS["detail"]
            self.say(
                f"{'detail + its timeline, together':<42} {p95:>8.1f} {statistics.median(total) * 1e3:>8.1f}"
                f"{'':>55} {'< ' + str(target):>7}  {'yes' if p95 < target else 'NO'}"
            )
        self.say()
        self.say(
            "crypto: time inside the same requests spent decrypting values and deriving blind indexes and search "
            "tokens; 'p95 w/o crypto' is the p95 of each request minus that time, the plain (unencrypted) baseline "
            "for the same views, SQL and templates. Encryption also makes rows larger (above) and name search go "
            "through token tables, which that baseline still includes."
        )
        self.say(
            "cpu: CPU time of this process per request (Python: middleware, view, templates), mean; db cpu: CPU "
            "time of the PostgreSQL backend serving it, mean (read from /proc; '-' when the server is not local). "
            "Unlike wall time, neither grows with the machine's other work: compare these between runs."
        )
        self.say(
            f"queries: per request in the small ({small.contacts:,} contacts) and big ({big.contacts:,}) "
            "organization; (!) marks a count that grows with the data."
        )


def load_average() -> str:
    try:
        return " ".join(f"{n:.1f}" for n in os.getloadavg())
    except OSError:
        return "unknown"
