"""Benchmark of the deals pages at the issue's size: server time of the real views through
the Django test client (every middleware, the tenant context, the templates), on deals it
loads through the bulk write path (logicnet/bulk/writes.py: titles sealed a batch at a
time, COPY into staging, merged under row-level security) and removes afterwards.

    make bench BENCH=bench_deals                       # 20,000 deals, 5,000 open per stage
    make bench BENCH=bench_deals ARGS="--deals 1000000 --stage-changes 3000000 --orgs 9 --org-deals 100000"

The big organization holds `--deals` deals: `--per-stage` open ones in each of the five
stages of the board's pipeline, `--open` open ones in all (the rest in a second pipeline),
and the others won or lost over the last year; `--stage-changes` stage events spread over
them. `--orgs` more organizations hold `--org-deals` deals each, in the same proportions.

Measured in the big organization and in the first small one (the query counts must be
equal): the board's first render (every column's totals and first page), the next page of
a crowded column deep down (keyset on position and id), a move (a card dragged to another
stage and back, with its version; the answer carries both columns' totals), the dashboard
with all its charts (from the stored totals the database keeps, deals.DealTotal), and the
deal list's first page, plain and filtered.
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
from deals.models import Deal, DealEvent, DealTotal, LostReason, Pipeline, Stage
from deals.selectors import COLUMN_PAGE
from deals.services.pipelines import create_pipeline
from logicnet.bulk.writes import BatchEncoder, insert_rows
from logicnet.tenancy.context import acting_user, tenant_context

SLUG_PREFIX = "benchdeals-"
USER_DOMAIN = "@bench-deals.invalid"
WORDS = ["Acoperiș", "Gard", "Poartă", "Magazie", "Fațadă", "Ferestre", "Instalații", "Renovare", "Mansardă", "Terasă"]
STAGES = [("Lead", 10), ("Qualified", 25), ("Proposal", 50), ("Negotiation", 75), ("Contract", 90)]
# Removed in this order: the events and totals before the deals they follow.
TABLES = [DealEvent, Deal, DealTotal, Stage, Pipeline, LostReason]


class _Counter:
    """Counts the statements a request sends (the test client runs it on this connection)."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def __call__(self, execute, sql, params, many, context):
        self.seen.append(sql)
        return execute(sql, params, many, context)


class Shape:
    """How many deals of which kind an organization gets."""

    def __init__(self, deals: int, per_stage: int, open_deals: int) -> None:
        self.per_stage = min(per_stage, deals // len(STAGES))
        self.board = self.per_stage * len(STAGES)
        self.open = min(max(open_deals, self.board), deals)
        self.closed = deals - self.open
        self.deals = deals


class Command(BaseCommand):
    help = "Time the deals board, a deep column page, a move, the dashboard and the deal list on bulk-loaded deals."

    def add_arguments(self, parser):
        parser.add_argument("--deals", type=int, default=20_000, help="deals in the big organization")
        parser.add_argument("--per-stage", type=int, default=5_000, help="open deals in each stage of the board")
        parser.add_argument("--open", type=int, default=None, help="open deals in all (default: a tenth)")
        parser.add_argument("--stage-changes", type=int, default=None, help="stage events (default: 3 per deal)")
        parser.add_argument("--orgs", type=int, default=1, help="small organizations besides the big one")
        parser.add_argument("--org-deals", type=int, default=None, help="deals in each (default: a tenth)")
        parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--keep", action="store_true", help="keep the data (for --reuse by the next run)")
        parser.add_argument("--reuse", action="store_true", help="measure the data a --keep run left")
        # make bench passes one ARGS to every benchmark: sizes meant for the others are ignored here.
        parser.add_argument("--contacts", type=int, help="ignored (the contacts benchmarks' size)")
        parser.add_argument("--other-contacts", type=int, help="ignored")

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args, deals, per_stage, requests, batch_size, keep, reuse, **options):
        open_deals = options["open"] if options["open"] is not None else deals // 10
        changes = options["stage_changes"] if options["stage_changes"] is not None else 3 * deals
        org_deals = options["org_deals"] if options["org_deals"] is not None else max(deals // 10, 1)
        big_shape = Shape(deals, per_stage, open_deals)
        small_shape = Shape(org_deals, per_stage * org_deals // max(deals, 1), open_deals * org_deals // max(deals, 1))
        found = list(Organization.objects.filter(slug__startswith=SLUG_PREFIX).order_by("slug"))
        if reuse and found:
            self.say(f"reusing {len(found)} organizations a --keep run left")
            big, small = self.found(found[0]), self.found(found[1]) if len(found) > 1 else None
        else:
            self.remove()
            started = time.perf_counter()
            seeded = 0
            big = self.seed("main", big_shape, changes, batch_size)
            seeded += big_shape.deals
            small = None
            for n in range(options["orgs"]):
                made = self.seed(f"org{n + 1:02d}", small_shape, 0, batch_size)
                seeded += small_shape.deals
                small = small or made
            elapsed = time.perf_counter() - started
            self.say(
                f"seeded {seeded:,} deals and {changes:,} stage changes in {elapsed:.0f}s "
                f"({(seeded + changes) / elapsed:,.0f} rows/s through the bulk path, titles encrypted); ANALYZE"
            )
            analyze([model._meta.db_table for model in TABLES], self.say)
        try:
            results = {"big": self.measure(big, requests)}
            if small is not None:
                results["small"] = self.measure(small, max(requests // 3, 2))
            self.report(results, requests)
        finally:
            if not keep:
                self.remove()

    # --- seeding ------------------------------------------------------------------------------

    def seed(self, name: str, shape: Shape, changes: int, batch_size: int) -> dict:
        user = User.objects.create_user(f"{SLUG_PREFIX}{name}{USER_DOMAIN}", None, full_name=f"Bench {name}")
        organization = make_bench_organization(f"{SLUG_PREFIX}{name}", f"Bench Deals {name}")
        with acting_user(user), tenant_context(organization):
            Membership.objects.create(organization=organization, user=user, role="owner")
        board = create_pipeline(organization=organization, actor=user, name="Bench", stages=STAGES)
        other = create_pipeline(organization=organization, actor=user, name="Service", stages=STAGES)
        with tenant_context(organization):
            stages = list(Stage.objects.filter(pipeline=board).order_by("position"))
            other_stages = list(Stage.objects.filter(pipeline=other).order_by("position"))
            reason = LostReason.objects.create(organization=organization, name="Price")
        self.say(
            f"{organization.slug}: {shape.deals:,} deals: {shape.per_stage:,} open in each of {len(stages)} stages, "
            f"{shape.open - shape.board:,} open in a second pipeline, {shape.closed:,} won and lost over the last year"
            + (f"; {changes:,} stage changes" if changes else "")
        )
        rng = random.Random(7)  # noqa: S311  (made-up data)
        now = timezone.now()
        started = time.perf_counter()
        events_per_deal, events_left = divmod(changes, max(shape.deals, 1))
        written = events = 0
        encoder = None
        for batch in self._batches(shape, stages, other_stages, user, reason, rng, now, batch_size):
            with tenant_context(organization):
                encoder = encoder or BatchEncoder(Deal, organization)
                ids = insert_rows(Deal, organization, batch, encoder=encoder)
                if changes:
                    rows = []
                    for deal_id, row in zip(ids, batch, strict=True):
                        count = events_per_deal + (1 if events_left > 0 else 0)
                        events_left -= 1 if events_left > 0 else 0
                        rows += self._events(deal_id, row, count, stages, user, rng)
                    insert_rows(DealEvent, organization, rows)
                    events += len(rows)
            written += len(batch)
            if written % (batch_size * 40) == 0:
                elapsed = time.perf_counter() - started
                self.say(f"  {written:,} deals, {events:,} events, {(written + events) / elapsed:,.0f} rows/s")
        elapsed = time.perf_counter() - started
        self.say(
            f"  {written:,} deals and {events:,} events in {elapsed:.0f}s ({(written + events) / elapsed:,.0f} rows/s)"
        )
        return {"organization": organization, "user": user, "pipeline": board, "stages": stages, "hot": shape.per_stage}

    def _batches(self, shape: Shape, stages, other_stages, user, reason, rng, now, batch_size: int):
        def deal(n: int, stage: Stage, status: str, position: int, closed_at=None) -> dict:
            at = closed_at or now
            return {
                "title": f"{rng.choice(WORDS)} {n}",
                "value": Decimal(rng.randrange(100, 10_000_000)) / 100,
                "currency": rng.choice(["RON", "RON", "EUR", "USD"]),
                "owner_id": user.pk,
                "created_by_id": user.pk,
                "pipeline_id": stage.pipeline_id,
                "stage_id": stage.pk,
                "status": status,
                "lost_reason_id": reason.pk if status == Deal.Status.LOST else None,
                "closed_at": closed_at,
                "position": position,
                "stage_entered_at": at,
                "last_activity_at": at,
                "created_at": at,
                "updated_at": at,
                "expected_close": (now + datetime.timedelta(days=rng.randint(-20, 120))).date()
                if status == Deal.Status.OPEN
                else None,
            }

        def rows():
            n = 0
            for stage in stages:
                for i in range(shape.per_stage):
                    n += 1
                    yield deal(n, stage, Deal.Status.OPEN, (i + 1) * Deal.POSITION_STEP)
            for i in range(shape.open - shape.board):
                n += 1
                yield deal(n, other_stages[i % len(other_stages)], Deal.Status.OPEN, (i + 1) * Deal.POSITION_STEP)
            for i in range(shape.closed):
                n += 1
                status = Deal.Status.WON if rng.random() < 0.6 else Deal.Status.LOST
                closed_at = now - datetime.timedelta(days=rng.uniform(0, 365))
                yield deal(n, stages[-1], status, (i + 1) * Deal.POSITION_STEP, closed_at)

        batch = []
        for row in rows():
            batch.append(row)
            if len(batch) == batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _events(self, deal_id: int, row: dict, count: int, stages, user, rng) -> list[dict]:
        """`count` stage changes leading to the deal's stage, the last one when it entered it."""
        events = []
        at = row["stage_entered_at"]
        to_stage = row["stage_id"]
        for _ in range(count):
            from_stage = rng.choice(stages).pk
            events.append(
                {
                    "deal_id": deal_id,
                    "kind": DealEvent.Kind.STAGE,
                    "at": at,
                    "actor_id": user.pk,
                    "from_stage_id": from_stage,
                    "to_stage_id": to_stage,
                }
            )
            at -= datetime.timedelta(days=rng.uniform(1, 20))
            to_stage = from_stage
        return events

    def found(self, organization: Organization) -> dict:
        user = User.objects.get(email=f"{organization.slug}{USER_DOMAIN}")
        with tenant_context(organization):
            board = Pipeline.objects.get(organization=organization, name="Bench")
            stages = list(Stage.objects.filter(pipeline=board).order_by("position"))
            hot = Deal.objects.filter(organization=organization, stage=stages[0], status=Deal.Status.OPEN).count()
        return {"organization": organization, "user": user, "pipeline": board, "stages": stages, "hot": hot}

    # --- measuring ----------------------------------------------------------------------------

    def measure(self, seeded: dict, requests: int) -> dict[str, tuple[float, float, int] | str]:
        organization, user, pipeline, stages, hot = (
            seeded[key] for key in ("organization", "user", "pipeline", "stages", "hot")
        )
        client = Client(raise_request_exception=False)
        client.force_login(user)
        slug = organization.slug
        with tenant_context(organization):
            column = Deal.objects.filter(stage=stages[0], status=Deal.Status.OPEN).order_by("position", "id")
            deep = column[max(hot // 2, 1) - 1]
            mover = Deal.objects.filter(stage=stages[1], status=Deal.Status.OPEN).order_by("position", "id").first()
        board_url = reverse("deal_pipeline_board", kwargs={"org_slug": slug, "pipeline_id": pipeline.pk})
        column_url = reverse("deal_column", kwargs={"org_slug": slug, "stage_id": stages[0].pk})
        column_url += f"?after={deep.position}~{deep.pk}"
        move_url = reverse("deal_move", kwargs={"org_slug": slug, "deal_id": mover.pk})
        dashboard_url = reverse("dashboard", kwargs={"org_slug": slug}) + f"?pipeline={pipeline.pk}&months=12"
        list_url = reverse("deal_list", kwargs={"org_slug": slug})
        state = {"version": mover.version, "to": 2}

        def move():
            target = stages[state["to"]]
            response = client.post(
                move_url,
                {"version": state["version"], "stage": target.pk, "from": stages[3 - state["to"]].pk},
                HTTP_HX_REQUEST="true",
                secure=True,
            )
            found = re.search(r'data-version="(\d+)"', response.content.decode())
            state["version"] = int(found.group(1)) if found else state["version"]
            state["to"] = 1 if state["to"] == 2 else 2
            return response

        pages = [
            ("board, first render", lambda: client.get(board_url, secure=True)),
            ("column next page (deep)", lambda: client.get(column_url, secure=True)),
            ("move a card (drag and drop)", move),
            ("dashboard, every chart, 12 months", lambda: client.get(dashboard_url, secure=True)),
            ("deal list, first page", lambda: client.get(list_url, secure=True)),
            ("deal list, owner filter", lambda: client.get(f"{list_url}?owner={user.pk}", secure=True)),
            ("deal list, value from 50,000", lambda: client.get(f"{list_url}?value_min=50000", secure=True)),
            ("deal list, won", lambda: client.get(f"{list_url}?status=won", secure=True)),
        ]
        results: dict[str, tuple[float, float, int] | str] = {}
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            for title, call in pages:
                response = call()
                if response.status_code != 200:
                    results[title] = f"HTTP {response.status_code}"
                    continue
                counted: list[str] = []
                with connection.execute_wrapper(_Counter(counted)):
                    call()
                times = []
                for _ in range(requests):
                    started = time.perf_counter()
                    call()
                    times.append((time.perf_counter() - started) * 1000)
                results[title] = (statistics.median(times), percentile(times, 0.95), len(counted))
        return results

    def report(self, results: dict, requests: int) -> None:
        sizes = list(results)
        head = f"{'page':<36}" + "".join(
            f" {size + ' median':>12} {size + ' p95':>10} {'queries':>8}" for size in sizes
        )
        self.say("\n" + head)
        for title in results["big"]:
            line = f"{title:<36}"
            for size in sizes:
                figures = results[size].get(title)
                if isinstance(figures, tuple):
                    median, p95, queries = figures
                    line += f" {median:>12.1f} {p95:>10.1f} {queries:>8}"
                else:
                    line += f" {figures or '-':>32}"
            self.say(line)
        self.say(f"({requests} requests each in the big organization; {COLUMN_PAGE} cards per column page)")

    def remove(self) -> None:
        for organization in Organization.objects.filter(slug__startswith=SLUG_PREFIX):
            with tenant_context(organization), connection.cursor() as cursor:
                for model in TABLES:
                    cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE organization_id = %s", [organization.pk])
                cursor.execute("DELETE FROM encryption_organizationkey WHERE organization_id = %s", [organization.pk])
            with tenant_context(organization):
                organization.delete()
        delete_users(User.objects.filter(email__startswith=SLUG_PREFIX, email__endswith=USER_DOMAIN))
