"""Benchmark of the deal timeline: server time of the real views through the Django test
client (every middleware, the tenant context, the templates), on deals, contacts, calls and
tasks it bulk-loads itself and removes afterwards.

    make bench BENCH=bench_activity                          # 2,000 deals, 20 calls each
    make bench BENCH=bench_activity ARGS="--deals 20000 --calls 50"

Measured: the deal page, its timeline's first page and an older page (keyset cursor), the
timeline of one of the deal's contacts (who shares every call on the deal), and logging a
call on a deal (the participants taken from the deal). Subjects and titles are encrypted
on the way in, as on every write path.
"""

from __future__ import annotations

import datetime
import random
import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization, User
from activity.models import Interaction, InteractionParticipant, Task
from activity.selectors import TIMELINE_PAGE_SIZE, Cursor
from contacts.benchmarks import FIRST_NAMES, STEMS, analyze, delete_users, make_bench_organization, percentile
from contacts.models import Contact
from deals.models import Deal, DealContact, Stage
from deals.services.pipelines import create_pipeline
from logicnet.tenancy.context import acting_user, tenant_context

SLUG_PREFIX = "benchactivity-"
USER_DOMAIN = "@bench-activity.invalid"
SUBJECTS = ["Apel de prezentare", "Ofertă discutată", "Întâlnire la client", "Revenire după ofertă", "Negociere"]


class _Counter:
    """Counts the statements a request sends (the test client runs it on this connection)."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def __call__(self, execute, sql, params, many, context):
        self.seen.append(sql)
        return execute(sql, params, many, context)


class Command(BaseCommand):
    help = "Time a deal's timeline, one of its contacts' timeline and a call logged on a deal."

    def add_arguments(self, parser):
        parser.add_argument("--deals", type=int, default=2_000, help="deals, each with two contacts")
        parser.add_argument("--calls", type=int, default=20, help="calls, notes and meetings per deal")
        parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
        parser.add_argument("--batch-size", type=int, default=2000)
        # make bench passes one ARGS to every benchmark: sizes meant for the others are ignored here.
        parser.add_argument("--contacts", type=int, help="ignored (the contacts benchmarks' size)")
        parser.add_argument("--other-contacts", type=int, help="ignored")
        parser.add_argument("--keep", action="store_true", help="ignored: the data is always removed")
        parser.add_argument("--reuse", action="store_true", help="ignored")

    def say(self, text: str) -> None:
        self.stdout.write(text)

    def handle(self, *args, deals, calls, requests, batch_size, **options):
        self.remove()
        try:
            organization, user, deal, contact = self.seed(deals, calls, batch_size)
            self.measure(organization, user, deal, contact, requests)
        finally:
            self.remove()

    def seed(self, deals: int, calls: int, batch_size: int):
        user = User.objects.create_user(f"{SLUG_PREFIX}owner{USER_DOMAIN}", None, full_name="Bench Activity Owner")
        organization = make_bench_organization(f"{SLUG_PREFIX}main", "Bench Activity")
        with acting_user(user), tenant_context(organization):
            Membership.objects.create(organization=organization, user=user, role="owner")
        pipeline = create_pipeline(organization=organization, actor=user, name="Bench")
        with tenant_context(organization):
            stage = Stage.objects.filter(pipeline=pipeline).order_by("position").first()
        rng = random.Random(11)  # noqa: S311  (made-up data)
        now = timezone.now()
        self.say(f"seeding {deals:,} deals with 2 contacts and {calls} calls each, 1 task each")
        started = time.perf_counter()
        for start in range(0, deals, batch_size):
            count = min(batch_size, deals - start)
            with tenant_context(organization):
                people = Contact.objects.bulk_create(
                    Contact(
                        organization=organization,
                        first_name=rng.choice(FIRST_NAMES),
                        last_name=rng.choice(STEMS) + "escu",
                        owner=user,
                        created_by=user,
                    )
                    for _ in range(count * 2)
                )
                made = Deal.objects.bulk_create(
                    Deal(
                        organization=organization,
                        title=f"Ofertă {start + n}",
                        owner=user,
                        created_by=user,
                        pipeline=pipeline,
                        stage=stage,
                        position=(start + n + 1) * Deal.POSITION_STEP,
                        stage_entered_at=now,
                        last_activity_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                    for n in range(count)
                )
                DealContact.objects.bulk_create(
                    DealContact(organization=organization, deal=deal, contact=people[2 * n + side])
                    for n, deal in enumerate(made)
                    for side in (0, 1)
                )
                logged = []
                for deal in made:
                    for k in range(calls):
                        logged.append(
                            Interaction(
                                organization=organization,
                                kind=rng.choice(Interaction.Kind.values),
                                occurred_at=now - datetime.timedelta(hours=k * 7 + rng.random()),
                                author=user,
                                subject=rng.choice(SUBJECTS),
                                deal=deal,
                            )
                        )
                logged = Interaction.objects.bulk_create(logged)
                InteractionParticipant.objects.bulk_create(
                    InteractionParticipant(
                        organization=organization,
                        interaction=interaction,
                        contact=people[2 * (i // calls) + side],
                        occurred_at=interaction.occurred_at,
                    )
                    for i, interaction in enumerate(logged)
                    for side in (0, 1)
                )
                Task.objects.bulk_create(
                    Task(
                        organization=organization,
                        title="Trimite contractul",
                        due_at=now + datetime.timedelta(days=3),
                        assignee=user,
                        deal=deal,
                        created_by=user,
                    )
                    for deal in made
                )
        elapsed = time.perf_counter() - started
        self.say(f"  seeded in {elapsed:.1f}s ({deals * calls / elapsed:,.0f} calls/s, encrypted); ANALYZE")
        analyze(
            [m._meta.db_table for m in (Contact, Deal, DealContact, Interaction, InteractionParticipant, Task)],
            self.say,
        )
        return organization, user, made[len(made) // 2], people[len(made)]

    def measure(self, organization, user, deal, contact, requests: int) -> None:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        slug = organization.slug
        htmx = {"HTTP_HX_REQUEST": "true"}
        deal_page = reverse("deal_detail", kwargs={"org_slug": slug, "deal_id": deal.pk})
        deal_timeline = reverse("deal_timeline", kwargs={"org_slug": slug, "deal_id": deal.pk})
        contact_timeline = reverse("contact_timeline", kwargs={"org_slug": slug, "contact_id": contact.pk})
        log_call = reverse("deal_interaction_create", kwargs={"org_slug": slug, "deal_id": deal.pk})
        with tenant_context(organization):
            # An older page: the cursor of the first page's last entry.
            newest = list(Interaction.objects.filter(deal=deal).order_by("-occurred_at", "-pk")[:TIMELINE_PAGE_SIZE])
        older = Cursor(at=newest[-1].occurred_at, kind="interaction", pk=newest[-1].pk).encode()
        local = timezone.localtime()
        call = {"kind": "call", "date": local.date().isoformat(), "time": local.strftime("%H:%M"), "subject": "Bench"}
        pages = [
            ("deal page", lambda: client.get(deal_page, secure=True)),
            ("deal timeline, first page (htmx)", lambda: client.get(deal_timeline, secure=True, **htmx)),
            (
                "deal timeline, older page (htmx)",
                lambda: client.get(deal_timeline, {"before": older}, secure=True, **htmx),
            ),
            ("a deal contact's timeline (htmx)", lambda: client.get(contact_timeline, secure=True, **htmx)),
            ("log a call on the deal (POST)", lambda: client.post(log_call, call, secure=True)),
        ]
        self.say(f"{'page':<40} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for title, request in pages:
            response = request()  # warm: templates, keys
            if response.status_code not in (200, 302):
                raise RuntimeError(f"{title}: HTTP {response.status_code}")
            counted: list[str] = []
            with connection.execute_wrapper(_Counter(counted)):
                request()
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                request()
                times.append((time.perf_counter() - started) * 1000)
            self.say(f"{title:<40} {statistics.median(times):>10.1f} {percentile(times, 0.95):>8.1f} {len(counted):>8}")
        self.say(f"({requests} requests each; {TIMELINE_PAGE_SIZE} entries per timeline page)")

    def remove(self) -> None:
        tables = [InteractionParticipant, Interaction, Task, DealContact, Deal]
        for organization in Organization.objects.filter(slug__startswith=SLUG_PREFIX):
            with tenant_context(organization), connection.cursor() as cursor:
                for model in tables:
                    cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE organization_id = %s", [organization.pk])
                cursor.execute("DELETE FROM encryption_organizationkey WHERE organization_id = %s", [organization.pk])
            with tenant_context(organization):
                organization.delete()
        delete_users(User.objects.filter(email__startswith=SLUG_PREFIX, email__endswith=USER_DOMAIN))
