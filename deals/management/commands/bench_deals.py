"""Benchmark of the deals board: server time of the real views through the Django test
client (every middleware, the tenant context, the templates), on deals it bulk-loads
itself and removes afterwards.

    make bench BENCH=bench_deals                       # 20,000 deals, 5,000 in one stage
    make bench BENCH=bench_deals ARGS="--deals 200000 --hot 50000"

Measured: the board's first render (every column's totals and first page), the next page
of the crowded column deep down (keyset on position and id), a move (a card dragged to
another stage and back, with its version), and the dashboard with all its charts over the
open deals and `--closed` won and lost ones spread over the last year. Seeding goes through bulk_create, so titles are
encrypted as on every write path.
"""

from __future__ import annotations

import datetime
import random
import re
import statistics
import time
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization, User
from contacts.benchmarks import analyze, delete_users, make_bench_organization, percentile
from deals.models import Deal, DealEvent, LostReason, Pipeline, Stage
from deals.selectors import COLUMN_PAGE
from deals.services.pipelines import create_pipeline
from logicnet.tenancy.context import acting_user, tenant_context

SLUG_PREFIX = "benchdeals-"
USER_DOMAIN = "@bench-deals.invalid"
WORDS = ["Acoperiș", "Gard", "Poartă", "Magazie", "Fațadă", "Ferestre", "Instalații", "Renovare", "Mansardă", "Terasă"]
TABLES = [Deal, DealEvent, Stage, Pipeline, LostReason]


class _Counter:
    """Counts the statements a request sends (the test client runs it on this connection)."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def __call__(self, execute, sql, params, many, context):
        self.seen.append(sql)
        return execute(sql, params, many, context)


class Command(BaseCommand):
    help = "Time the deals board, a deep column page and a move on bulk-loaded deals."

    def add_arguments(self, parser):
        parser.add_argument("--deals", type=int, default=20_000, help="open deals in the pipeline")
        parser.add_argument("--hot", type=int, default=5_000, help="of which in the first stage")
        parser.add_argument("--closed", type=int, default=20_000, help="won and lost deals, over the last year")
        parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
        parser.add_argument("--batch-size", type=int, default=2000)
        # make bench passes one ARGS to every benchmark: sizes meant for the others are ignored here.
        parser.add_argument("--contacts", type=int, help="ignored (the contacts benchmarks' size)")
        parser.add_argument("--other-contacts", type=int, help="ignored")
        parser.add_argument("--keep", action="store_true", help="ignored: the data is always removed")
        parser.add_argument("--reuse", action="store_true", help="ignored")

    def say(self, text: str) -> None:
        self.stdout.write(text)

    def handle(self, *args, deals, hot, closed, requests, batch_size, **options):
        hot = min(hot, deals)
        self.remove()
        try:
            organization, user, pipeline, stages = self.seed(deals, hot, batch_size, closed)
            self.measure(organization, user, pipeline, stages, hot, requests)
        finally:
            self.remove()

    def seed(self, deals: int, hot: int, batch_size: int, closed: int = 0):
        user = User.objects.create_user(f"{SLUG_PREFIX}owner{USER_DOMAIN}", None, full_name="Bench Deals Owner")
        organization = make_bench_organization(f"{SLUG_PREFIX}main", "Bench Deals")
        with acting_user(user), tenant_context(organization):
            Membership.objects.create(organization=organization, user=user, role="owner")
        pipeline = create_pipeline(
            organization=organization,
            actor=user,
            name="Bench",
            stages=[("Lead", 10), ("Qualified", 25), ("Proposal", 50), ("Negotiation", 75), ("Contract", 90)],
        )
        with tenant_context(organization):
            stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
        rng = random.Random(7)  # noqa: S311  (made-up data)
        counts = [hot] + [(deals - hot) // (len(stages) - 1)] * (len(stages) - 1)
        counts[-1] += deals - sum(counts)
        self.say(f"seeding {deals:,} open deals, {hot:,} of them in {stages[0].name}")
        started = time.perf_counter()
        now = timezone.now()
        rows = []
        for stage, count in zip(stages, counts, strict=True):
            for n in range(count):
                rows.append(
                    Deal(
                        organization=organization,
                        title=f"{rng.choice(WORDS)} {n}",
                        value=Decimal(rng.randrange(100, 10_000_000)) / 100,
                        currency=rng.choice(["RON", "RON", "EUR", "USD"]),
                        owner=user,
                        created_by=user,
                        pipeline=pipeline,
                        stage=stage,
                        position=(n + 1) * Deal.POSITION_STEP,
                        stage_entered_at=now,
                        last_activity_at=now,
                        created_at=now,
                        updated_at=now,
                        expected_close=(now + datetime.timedelta(days=rng.randint(-20, 120))).date(),
                    )
                )
        if closed:
            with tenant_context(organization):
                reason = LostReason.objects.create(organization=organization, name="Price")
            for n in range(closed):
                won = rng.random() < 0.6
                closed_at = now - datetime.timedelta(days=rng.uniform(0, 365))
                rows.append(
                    Deal(
                        organization=organization,
                        title=f"{rng.choice(WORDS)} closed {n}",
                        value=Decimal(rng.randrange(100, 10_000_000)) / 100,
                        currency=rng.choice(["RON", "RON", "EUR", "USD"]),
                        owner=user,
                        created_by=user,
                        pipeline=pipeline,
                        stage=stages[-1],
                        status=Deal.Status.WON if won else Deal.Status.LOST,
                        lost_reason=None if won else reason,
                        closed_at=closed_at,
                        position=(n + 1) * Deal.POSITION_STEP,
                        stage_entered_at=closed_at,
                        last_activity_at=closed_at,
                        created_at=closed_at,
                        updated_at=closed_at,
                    )
                )
            self.say(f"  and {closed:,} won and lost deals closed over the last year")
        for start in range(0, len(rows), batch_size):
            with tenant_context(organization):
                Deal.objects.bulk_create(rows[start : start + batch_size])
        elapsed = time.perf_counter() - started
        self.say(f"  seeded in {elapsed:.1f}s ({deals / elapsed:,.0f} deals/s, titles encrypted); ANALYZE")
        analyze([model._meta.db_table for model in TABLES], self.say)
        return organization, user, pipeline, stages

    def measure(self, organization, user, pipeline, stages, hot: int, requests: int) -> None:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        slug = organization.slug
        with tenant_context(organization):
            deep = Deal.objects.filter(stage=stages[0]).order_by("position", "id")[max(hot // 2, 1) - 1]
            mover = Deal.objects.filter(stage=stages[1]).order_by("position", "id").first()
        board_url = reverse("deal_pipeline_board", kwargs={"org_slug": slug, "pipeline_id": pipeline.pk})
        column_url = reverse("deal_column", kwargs={"org_slug": slug, "stage_id": stages[0].pk})
        column_url += f"?after={deep.position}~{deep.pk}"
        move_url = reverse("deal_move", kwargs={"org_slug": slug, "deal_id": mover.pk})
        dashboard_url = reverse("dashboard", kwargs={"org_slug": slug}) + f"?pipeline={pipeline.pk}&months=12"
        state = {"version": mover.version, "to": 2}

        def move():
            target = stages[state["to"]]
            response = client.post(
                move_url, {"version": state["version"], "stage": target.pk}, HTTP_HX_REQUEST="true", secure=True
            )
            found = re.search(r'data-version="(\d+)"', response.content.decode())
            state["version"] = int(found.group(1)) if found else state["version"]
            state["to"] = 1 if state["to"] == 2 else 2
            return response

        pages = [
            ("board, first render", lambda: client.get(board_url, secure=True)),
            (f"column next page (after card {hot // 2:,})", lambda: client.get(column_url, secure=True)),
            ("move a card (drag and drop)", move),
            ("dashboard, every chart, 12 months", lambda: client.get(dashboard_url, secure=True)),
        ]
        self.say(f"\n{'page':<40} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            for title, call in pages:
                response = call()
                if response.status_code != 200:
                    self.say(f"{title:<40} HTTP {response.status_code}")
                    continue
                counted: list[str] = []
                with connection.execute_wrapper(_Counter(counted)):
                    call()
                times = []
                for _ in range(requests):
                    started = time.perf_counter()
                    call()
                    times.append((time.perf_counter() - started) * 1000)
                self.say(
                    f"{title:<40} {statistics.median(times):>10.1f} {percentile(times, 0.95):>8.1f} {len(counted):>8}"
                )
        self.say(f"({requests} requests each; {COLUMN_PAGE} cards per column page)")

    def remove(self) -> None:
        for organization in Organization.objects.filter(slug__startswith=SLUG_PREFIX):
            with tenant_context(organization), connection.cursor() as cursor:
                for model in TABLES:
                    cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE organization_id = %s", [organization.pk])
                cursor.execute("DELETE FROM encryption_organizationkey WHERE organization_id = %s", [organization.pk])
            with tenant_context(organization):
                organization.delete()
        delete_users(User.objects.filter(email__startswith=SLUG_PREFIX, email__endswith=USER_DOMAIN))
