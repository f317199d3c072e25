"""Benchmark of the nightly retention sweep, with the web pages measured while it runs.

    make bench BENCH=bench_retention                          # 100,000 contacts in total
    make bench BENCH=bench_retention ARGS="--contacts 1000000"  # the issue's size

Seeds ten organizations (--organizations) sharing --contacts contacts and three times as
many interactions (--interactions), of which --expired (5 %) are past the organization's
periods (contacts: no change and no interaction for two years, anonymised; interactions:
older than five years, deleted); a few expired rows are under a legal hold. The seed goes
through the one bulk write path (logicnet/bulk: COPY into staging, merged under row-level
security), an organization per process (--seed-workers). Then sweeps
every organization, one after the other as the nightly jobs do, while another process
requests the contacts list of the organization being swept through the Django test client
(every middleware, the tenant context, the template). Prints rows/s of the sweep, the page's
median and p95 before and during the sweep, and checks that exactly the expired rows went.
Removes what it seeded unless --keep.
"""

from __future__ import annotations

import datetime
import multiprocessing
import random
import statistics
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization, User
from activity.models import Interaction, InteractionParticipant
from contacts.benchmarks import analyze, delete_users, fake_person, make_bench_organization, percentile
from contacts.management.commands.bench_crm import TENANT_TABLES
from contacts.models import Contact
from logicnet.bulk.writes import insert_rows
from logicnet.jobs.models import Job
from logicnet.tenancy.context import acting_user, tenant_context
from retention.models import LegalHold, RetentionOverride
from retention.services.settings import place_hold, set_retention_period
from retention.services.sweep import BATCH_SIZE, preview, sweep_organization

SLUG_PREFIX = "benchret-"
USER_DOMAIN = "@bench-retention.example"
CONTACT_PERIOD_DAYS = 730
INTERACTION_PERIOD_DAYS = 5 * 365
LIST_TARGET_MS = 80  # the contacts list's target (bench_crm)
HOLDS_PER_ORGANIZATION = 3


PROCESSES = multiprocessing.get_context("fork")


def _load_page(user_id: int, urls: list[str], current, stop, results) -> None:
    """In a child process: the contacts list of the organization being swept, one request
    after another until told to stop; sends back (durations, errors)."""
    durations, errors = [], []
    try:
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(pk=user_id))
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            while not stop.is_set():
                start = time.perf_counter()
                response = client.get(urls[current.value], secure=True)
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}")
                    continue
                durations.append(time.perf_counter() - start)
    except Exception as exc:  # reported by the parent, which owns the output
        errors.append(f"{exc.__class__.__name__}: {exc}")
    finally:
        connections.close_all()
        results.put((durations, errors))


class Command(BaseCommand):
    help = "Benchmark the nightly retention sweep, with the contacts list timed while it runs."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=100_000, help="contacts in total, over all organizations")
        parser.add_argument("--interactions", type=int, default=None, help="interactions in total (3 per contact)")
        parser.add_argument("--organizations", type=int, default=10)
        parser.add_argument("--expired", type=float, default=0.05, help="the expired share of both")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per sweep batch")
        parser.add_argument("--seed-batch", type=int, default=5000, help="rows per seeding batch")
        parser.add_argument("--seed-workers", type=int, default=2, help="processes seeding organizations at once")
        parser.add_argument("--requests", type=int, default=50, help="timed requests of the page before the sweep")
        parser.add_argument("--keep", action="store_true", help="keep the data (a later run removes it first)")

    def say(self, line: str = "") -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(
        self,
        *args,
        contacts,
        interactions,
        organizations,
        expired,
        batch_size,
        seed_batch,
        seed_workers,
        requests,
        keep,
        **options,
    ):
        if organizations < 1 or contacts < organizations:
            raise CommandError("at least one contact per organization")
        interactions = 3 * contacts if interactions is None else interactions
        self.batch_size = batch_size
        self.seed_batch = seed_batch
        self.now = timezone.now()
        self.remove_bench_data()
        try:
            self.user = User.objects.create_user(f"{SLUG_PREFIX}owner{USER_DOMAIN}", None, full_name="Bench Owner")
            self.say(
                f"seeding {contacts:,} contacts and {interactions:,} interactions in {organizations} organizations, "
                f"{expired:.0%} of each expired"
            )
            started = time.perf_counter()
            shares = [
                (
                    n,
                    contacts // organizations + (1 if n < contacts % organizations else 0),
                    interactions // organizations + (1 if n < interactions % organizations else 0),
                )
                for n in range(organizations)
            ]
            orgs, expected = self.seed_all(shares, expired, seed_workers)
            elapsed = time.perf_counter() - started
            self.say(
                f"  seeded in {elapsed:.0f}s ({(contacts + 2 * interactions) / elapsed:,.0f} rows/s: contacts, "
                f"interactions and their participants, {seed_workers} process(es)); ANALYZE"
            )
            analyze([m._meta.db_table for m in (*TENANT_TABLES, LegalHold, RetentionOverride)], self.say)
            self.measure(orgs, requests, expected)
        finally:
            if keep:
                self.say("keeping the data (--keep); the next run removes it first")
            else:
                self.remove_bench_data()

    # --- data ------------------------------------------------------------------------------------

    def seed_all(self, shares: list[tuple[int, int, int]], expired: float, workers: int):
        """Each organization seeded by one of `workers` processes (the per-row work of the
        database, ids and tenant reference checks, is most of a load's cost, and one
        connection uses one core); the organizations and the expected counts."""
        expected = {"contacts": 0, "interactions": 0, "held": 0}
        if workers <= 1:
            orgs = [self.seed(n, share_c, share_i, expired, expected) for n, share_c, share_i in shares]
            return orgs, expected
        results = PROCESSES.Queue()
        connections.close_all()  # each child opens its own connections
        children = [
            PROCESSES.Process(target=self._seed_in_child, args=(shares[k::workers], expired, results))
            for k in range(workers)
        ]
        for child in children:
            child.start()
        seeded, failures = {}, []
        for _ in children:
            done, counts, error = results.get()
            seeded.update(done)
            failures += [error] if error else []
            for key, value in counts.items():
                expected[key] += value
        for child in children:
            child.join()
        if failures:
            raise CommandError(f"seeding failed: {failures[0]}")
        by_pk = Organization.objects.in_bulk(list(seeded.values()))
        return [by_pk[seeded[n]] for n, _c, _i in shares], expected

    def _seed_in_child(self, shares, expired: float, results) -> None:
        done, counts, error = {}, {"contacts": 0, "interactions": 0, "held": 0}, None
        try:
            for n, share_c, share_i in shares:
                done[n] = self.seed(n, share_c, share_i, expired, counts).pk
        except Exception as exc:  # reported by the parent, which owns the output
            error = f"{exc.__class__.__name__}: {exc}"
        finally:
            connections.close_all()
            results.put((done, counts, error))

    def seed(self, n: int, contacts: int, interactions: int, expired: float, expected: dict) -> Organization:
        # One generator per organization: the same data whichever process seeds it.
        rng, now = random.Random(2026 * 1000 + n), self.now  # noqa: S311 - benchmark data, not secrets
        organization = make_bench_organization(f"{SLUG_PREFIX}{n}", f"Bench retention {n}")
        with acting_user(self.user), tenant_context(organization):
            Membership.objects.create(organization=organization, user=self.user, role="owner")
        set_retention_period(
            organization=organization, actor=self.user, rule="contact", period_days=CONTACT_PERIOD_DAYS
        )
        set_retention_period(
            organization=organization, actor=self.user, rule="interaction", period_days=INTERACTION_PERIOD_DAYS
        )
        stale_count, old_count = round(contacts * expired), round(interactions * expired)
        live_ids, stale_ids = [], []
        done = 0
        while done < contacts:
            size = min(self.seed_batch, contacts - done)
            rows = []
            for i in range(done, done + size):
                person = fake_person(rng, n * 10_000_000 + i)
                stale = i < stale_count
                changed = now - datetime.timedelta(days=(900 + rng.randrange(400)) if stale else rng.randrange(600))
                rows.append(
                    {
                        "first_name": person["first_name"],
                        "last_name": person["last_name"],
                        "email": person["email"],
                        "job_title": person["job_title"],
                        "created_at": changed,
                        "updated_at": changed,
                    }
                )
            with tenant_context(organization):
                # The one bulk write path (logicnet/bulk): sealed and indexed a batch at a time, COPY.
                created = insert_rows(Contact, organization, rows)
            for offset, pk in enumerate(created):
                (stale_ids if done + offset < stale_count else live_ids).append(pk)
            done += size
        # One ciphertext of the subject and of the body per organization, shared by its
        # interactions (the associated data binds a value to its organization and field, not
        # to its row): seeding then spends no encryption per interaction. The sweep deletes
        # rows and never reads them, so its cost does not depend on it.
        with tenant_context(organization):
            template = Interaction(organization=organization)
            sealed = {
                name: Interaction._meta.get_field(name).seal(template, text)
                for name, text in (("subject", "Ofertă"), ("body", "Am discutat oferta"))
            }
        everyone = stale_ids + live_ids
        done = 0
        while done < interactions:
            size = min(self.seed_batch, interactions - done)
            rows, who = [], []
            for i in range(done, done + size):
                old = i < old_count
                occurred = now - datetime.timedelta(
                    days=(INTERACTION_PERIOD_DAYS + 30 + rng.randrange(700)) if old else rng.randrange(4 * 365)
                )
                rows.append({"kind": "call", "occurred_at": occurred, "created_at": occurred, **sealed})
                # A stale contact has only old interactions (its last activity is long ago).
                who.append(rng.choice(everyone) if old else rng.choice(live_ids or stale_ids))
            with tenant_context(organization):
                made = insert_rows(Interaction, organization, rows)
                insert_rows(
                    InteractionParticipant,
                    organization,
                    [
                        {"interaction_id": pk, "contact_id": contact_id, "occurred_at": row["occurred_at"]}
                        for pk, contact_id, row in zip(made, who, rows, strict=True)
                    ],
                )
            done += size
        held = stale_ids[:HOLDS_PER_ORGANIZATION]
        for pk in held:
            place_hold(organization=organization, actor=self.user, reference="BENCH", contact_id=pk)
        with tenant_context(organization):
            # Old interactions of a held person stay too.
            held_interactions = (
                Interaction.objects.filter(occurred_at__lt=now - datetime.timedelta(days=INTERACTION_PERIOD_DAYS))
                .filter(interactionparticipant__contact_id__in=held)
                .distinct()
                .count()
            )
        expected["contacts"] += len(stale_ids) - len(held)
        expected["interactions"] += old_count - held_interactions
        expected["held"] += len(held) + held_interactions
        return organization

    def remove_bench_data(self) -> None:
        for organization in Organization.objects.filter(slug__startswith=SLUG_PREFIX):
            with tenant_context(organization), connection.cursor() as cursor:
                for model in (LegalHold, RetentionOverride, Job, *TENANT_TABLES):
                    cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE organization_id = %s", [organization.pk])
                cursor.execute("DELETE FROM encryption_organizationkey WHERE organization_id = %s", [organization.pk])
            with tenant_context(organization):
                organization.delete()
        delete_users(User.objects.filter(email__startswith=SLUG_PREFIX, email__endswith=USER_DOMAIN))

    # --- measuring -------------------------------------------------------------------------------

    def measure(self, orgs: list[Organization], requests: int, expected: dict) -> None:
        client = Client(raise_request_exception=False)
        client.force_login(self.user)
        urls = {org.pk: reverse("contact_list", kwargs={"org_slug": org.slug}) for org in orgs}
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            quiet = self.time_page(client, [urls[org.pk] for org in orgs], requests)
            counted = sum(line["to_do"] for org in orgs for line in preview(org.pk, now=self.now))
            self.say(f"tonight's sweep, counted (dry run): {counted:,} rows")
            # The page is requested from another process, as the web process is another
            # process than the worker: a thread here would share the interpreter lock with
            # the sweep and measure that instead.
            order = [urls[org.pk] for org in orgs]
            current = PROCESSES.Value("i", 0)
            stop = PROCESSES.Event()
            results = PROCESSES.Queue()
            connections.close_all()  # the child opens its own connections
            child = PROCESSES.Process(target=_load_page, args=(self.user.pk, order, current, stop, results))
            child.start()
            totals = {"rows": 0, "batches": 0, "deleted": {}}
            per_rule: dict[str, int] = {}
            started = time.perf_counter()
            try:
                for index, org in enumerate(orgs):
                    current.value = index
                    result = sweep_organization(org.pk, now=self.now, batch_size=self.batch_size)
                    totals["rows"] += result["rows"]
                    totals["batches"] += result["batches"]
                    for line in result["rules"].values():
                        per_rule[line["rule"]] = per_rule.get(line["rule"], 0) + line["rows"]
                        for label, count in line["deleted"].items():
                            totals["deleted"][label] = totals["deleted"].get(label, 0) + count
            finally:
                elapsed = time.perf_counter() - started
                stop.set()
                during, errors = results.get(timeout=120)
                child.join(60)
        self.report(quiet, during, errors, totals, per_rule, elapsed, expected)
        self.verify(orgs, expected)

    def time_page(self, client: Client, urls: list[str], requests: int) -> list[float]:
        durations = []
        for n in range(requests + 5):
            start = time.perf_counter()
            response = client.get(urls[n % len(urls)], secure=True)
            if response.status_code != 200:
                raise CommandError(f"HTTP {response.status_code} for {urls[n % len(urls)]}")
            if n >= 5:
                durations.append(time.perf_counter() - start)
        return durations

    def report(self, quiet, during, errors, totals, per_rule, elapsed, expected) -> None:
        rows = totals["rows"]
        self.say(
            f"sweep: {rows:,} rows in {elapsed:.1f}s = {rows / elapsed if elapsed else 0:,.0f} rows/s "
            f"({totals['batches']:,} batches, one audit event each)"
        )
        for rule, count in sorted(per_rule.items()):
            if count:
                self.say(f"  {rule}: {count:,}")
        dependent = sum(totals["deleted"].values())
        self.say(
            f"  with {dependent:,} dependent rows deleted: "
            + ", ".join(f"{label} {count:,}" for label, count in sorted(totals["deleted"].items()))
        )
        self.say(f"  spared under legal holds: {expected['held']:,}")
        for label, values in (("before the sweep", quiet), ("during the sweep", during)):
            if values:
                self.say(
                    f"contacts list {label}: median {statistics.median(values) * 1000:.1f} ms, "
                    f"p95 {percentile(values, 0.95) * 1000:.1f} ms over {len(values)} requests "
                    f"(target {LIST_TARGET_MS} ms)"
                )
            else:
                self.say(f"contacts list {label}: no request completed")
        if errors:
            self.say(f"  page errors during the sweep: {len(errors)} ({errors[0]})")

    def verify(self, orgs: list[Organization], expected: dict) -> None:
        anonymised = interactions_left = 0
        for org in orgs:
            with tenant_context(org):
                anonymised += Contact.objects.filter(first_name="").count()
                interactions_left += Interaction.objects.filter(
                    occurred_at__lt=self.now - datetime.timedelta(days=INTERACTION_PERIOD_DAYS)
                ).count()
        held_ok = all(line["to_do"] == 0 for org in orgs for line in preview(org.pk, now=self.now))
        ok = anonymised == expected["contacts"] and held_ok
        self.say(
            f"check: {anonymised:,} contacts anonymised (expected {expected['contacts']:,}), "
            f"{interactions_left:,} expired interactions left under holds; nothing left to do: {held_ok}"
        )
        if not ok:
            raise CommandError("the sweep did not do exactly what expired")
