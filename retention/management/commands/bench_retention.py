"""Benchmark of the nightly retention sweep, with the web pages measured while it runs.

    make bench BENCH=bench_retention                          # 100,000 contacts in total
    make bench BENCH=bench_retention ARGS="--contacts 1000000"  # the issue's size

Seeds ten organizations (--organizations) sharing --contacts contacts and three times as
many interactions (--interactions), of which --expired (5 %) are past the organization's
periods (contacts: no change and no interaction for two years, anonymised; interactions:
older than five years, deleted); a few expired rows are under a legal hold. The seed goes
through the one bulk write path (logicnet/bulk: COPY into staging, merged under row-level
security), an organization per process (--seed-workers). Then sweeps every organization as
its nightly job does (the job row claimed, progress saved after every batch), one after the
other or --sweep-workers at once as that many Celery workers would, while another process
requests the contacts list of the organization being swept through the Django test client
(every middleware, the tenant context, the template). Prints rows/s of the sweep, the CPU a
row costs in the sweeping processes and in their database backends (what a busy machine does
not inflate as it does wall time), the time per rule, the page's median and p95 before and
during the sweep, and checks that exactly the expired rows went.

Removes what it seeded unless --keep. --reuse takes a kept seed of the same sizes and
seeds again only what its sweep took (the expired rows), then VACUUM ANALYZE, as autovacuum
would have done between two nights: a million contacts take minutes to seed, a top-up
seconds.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import random
import resource
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
from contacts.management.commands.bench_import import backend_cpu_seconds
from contacts.models import Contact
from logicnet.bulk.writes import insert_rows
from logicnet.jobs.models import Job
from logicnet.jobs.services import execute_job
from logicnet.tenancy.context import acting_user, tenant_context
from retention.models import LegalHold, RetentionOverride
from retention.services.settings import place_hold, set_retention_period
from retention.services.sweep import BATCH_SIZE, SWEEP_JOB, preview

SLUG_PREFIX = "benchret-"
USER_DOMAIN = "@bench-retention.example"
CONTACT_PERIOD_DAYS = 730
INTERACTION_PERIOD_DAYS = 5 * 365
LIST_TARGET_MS = 80  # the contacts list's target (bench_crm)
HOLDS_PER_ORGANIZATION = 3


PROCESSES = multiprocessing.get_context("fork")


def _organization_name(n: int, contacts: int, interactions: int, expired: float) -> str:
    """The seeded sizes are in the name: --reuse takes a kept organization only when they match."""
    return f"Bench retention {n} ({contacts} contacts, {interactions} interactions, {expired:g} expired)"


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


def _new_totals() -> dict:
    return {
        "rows": 0,
        "batches": 0,
        "organizations": 0,
        "seconds": 0.0,
        "cpu": 0.0,
        "backend_cpu": 0.0,
        "lines": {},
        "per_rule": {},
        "deleted": {},
    }


def _merge_totals(into: dict, totals: dict) -> None:
    for key in ("rows", "batches", "organizations", "seconds", "cpu"):
        into[key] += totals[key]
    if into["backend_cpu"] is None or totals["backend_cpu"] is None:
        into["backend_cpu"] = None
    else:
        into["backend_cpu"] += totals["backend_cpu"]
    for key, line in totals["lines"].items():
        merged = into["lines"].setdefault(key, {"rows": 0, "seconds": 0.0})
        merged["rows"] += line["rows"]
        merged["seconds"] += line["seconds"]
    for field in ("per_rule", "deleted"):
        for key, count in totals[field].items():
            into[field][key] = into[field].get(key, 0) + count


def _process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _sweep_organizations(orgs, now, batch_size: int, current, following) -> dict:
    """Sweep the organizations, taking the next one not yet taken (`following`, shared with
    the other workers) until none is left; the totals, with this process's CPU time and its
    database backend's."""
    totals = _new_totals()
    cpu, backend = _process_cpu_seconds(), backend_cpu_seconds()
    while True:
        with following.get_lock():
            index = following.value
            following.value += 1
        if index >= len(orgs):
            break
        current.value = index  # the page requested is the organization being swept
        result = _sweep_as_job(orgs[index].pk, now, batch_size)
        totals["rows"] += result["rows"]
        totals["batches"] += result["batches"]
        totals["organizations"] += 1
        totals["seconds"] += result["seconds"]
        for line in result["rules"].values():
            key = f"{line['action']} {line['model']}"
            merged = totals["lines"].setdefault(key, {"rows": 0, "seconds": 0.0})
            merged["rows"] += line["rows"]
            merged["seconds"] += line["seconds"]
            totals["per_rule"][line["rule"]] = totals["per_rule"].get(line["rule"], 0) + line["rows"]
            for label, count in line["deleted"].items():
                totals["deleted"][label] = totals["deleted"].get(label, 0) + count
    totals["cpu"] = _process_cpu_seconds() - cpu
    after = backend_cpu_seconds()
    totals["backend_cpu"] = None if backend is None or after is None else after - backend
    return totals


def _sweep_as_job(organization_id: int, now, batch_size: int) -> dict:
    """The organization's sweep as its nightly job runs it (what the Celery task calls): the
    job row claimed, the rows to do counted for the progress bar, progress saved after every
    batch, the result stored; the result."""
    with tenant_context(organization_id):
        job = Job.objects.create(
            organization_id=organization_id,
            kind=SWEEP_JOB,
            params={"as_of": now.isoformat(), "batch_size": batch_size},
        )
    execute_job(organization_id=organization_id, job_id=job.pk, final_attempt=True)
    with tenant_context(organization_id):
        job.refresh_from_db()
    if job.state != Job.State.SUCCEEDED:
        raise CommandError(f"the sweep job of organization {organization_id} ended {job.state}: {job.error}")
    return job.result


def _sweep_in_child(orgs, now, batch_size: int, current, following, outcomes) -> None:
    totals, error = _new_totals(), None
    try:
        totals = _sweep_organizations(orgs, now, batch_size, current, following)
    except Exception as exc:  # reported by the parent, which owns the output
        error = f"{exc.__class__.__name__}: {exc}"
    finally:
        connections.close_all()
        outcomes.put((totals, error))


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
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="reuse the data a run with --keep (or --reuse) left, when of the same sizes: only what its sweep "
            "took is seeded again; the data is kept",
        )
        parser.add_argument(
            "--sweep-workers",
            type=int,
            default=1,
            help="organizations swept at once, each in its own process (as that many Celery workers would)",
        )

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
        reuse,
        sweep_workers,
        **options,
    ):
        if organizations < 1 or contacts < organizations:
            raise CommandError("at least one contact per organization")
        interactions = 3 * contacts if interactions is None else interactions
        self.batch_size = batch_size
        self.seed_batch = seed_batch
        self.sweep_workers = sweep_workers
        self.now = timezone.now()
        shares = [
            (
                n,
                contacts // organizations + (1 if n < contacts % organizations else 0),
                interactions // organizations + (1 if n < interactions % organizations else 0),
            )
            for n in range(organizations)
        ]
        orgs = self.kept_organizations(shares, expired) if reuse else None
        if orgs is None:
            self.remove_bench_data()
        try:
            tables = [m._meta.db_table for m in (*TENANT_TABLES, LegalHold, RetentionOverride)]
            if orgs is not None:
                self.user = User.objects.get(email=f"{SLUG_PREFIX}owner{USER_DOMAIN}")
                self.say(
                    f"reusing the kept {contacts:,} contacts and {interactions:,} interactions in {organizations} "
                    f"organizations (--reuse): re-seeding what the last sweep took"
                )
                started = time.perf_counter()
                expected = {"contacts": 0, "interactions": 0, "held": 0}
                for org, (n, share_c, share_i) in zip(orgs, shares, strict=True):
                    self.top_up(org, n, share_c, share_i, expired, expected)
                self.say(f"  re-seeded in {time.perf_counter() - started:.0f}s; VACUUM ANALYZE")
                analyze(tables, self.say, vacuum=True)
            else:
                self.user = User.objects.create_user(f"{SLUG_PREFIX}owner{USER_DOMAIN}", None, full_name="Bench Owner")
                self.say(
                    f"seeding {contacts:,} contacts and {interactions:,} interactions in {organizations} "
                    f"organizations, {expired:.0%} of each expired"
                )
                started = time.perf_counter()
                orgs, expected = self.seed_all(shares, expired, seed_workers)
                elapsed = time.perf_counter() - started
                self.say(
                    f"  seeded in {elapsed:.0f}s ({(contacts + 2 * interactions) / elapsed:,.0f} rows/s: contacts, "
                    f"interactions and their participants, {seed_workers} process(es)); ANALYZE"
                )
                analyze(tables, self.say)
            self.measure(orgs, requests, expected)
        finally:
            if keep or reuse:
                self.say("keeping the data (--keep); the next run removes it first, or reuses it with --reuse")
            else:
                self.remove_bench_data()

    def kept_organizations(self, shares: list[tuple[int, int, int]], expired: float) -> list[Organization] | None:
        """The organizations a kept run seeded, when they are of the sizes asked for (their
        names say them); None otherwise."""
        kept = {org.slug: org for org in Organization.objects.filter(slug__startswith=SLUG_PREFIX)}
        wanted = {f"{SLUG_PREFIX}{n}": _organization_name(n, c, i, expired) for n, c, i in shares}
        if set(kept) != set(wanted) or any(kept[slug].name != name for slug, name in wanted.items()):
            return None
        if not User.objects.filter(email=f"{SLUG_PREFIX}owner{USER_DOMAIN}").exists():
            return None
        return [kept[f"{SLUG_PREFIX}{n}"] for n, _c, _i in shares]

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
        rng = random.Random(2026 * 1000 + n)  # noqa: S311 - benchmark data, not secrets
        organization = make_bench_organization(
            f"{SLUG_PREFIX}{n}", _organization_name(n, contacts, interactions, expired)
        )
        with acting_user(self.user), tenant_context(organization):
            Membership.objects.create(organization=organization, user=self.user, role="owner")
        set_retention_period(
            organization=organization, actor=self.user, rule="contact", period_days=CONTACT_PERIOD_DAYS
        )
        set_retention_period(
            organization=organization, actor=self.user, rule="interaction", period_days=INTERACTION_PERIOD_DAYS
        )
        stale_count, old_count = round(contacts * expired), round(interactions * expired)
        stale_ids = self.add_contacts(organization, rng, n, range(stale_count), stale=True)
        live_ids = self.add_contacts(organization, rng, n, range(stale_count, contacts), stale=False)
        sealed = self.sealed_interaction_values(organization)
        self.add_interactions(organization, rng, old_count, old=True, among=stale_ids + live_ids, sealed=sealed)
        self.add_interactions(
            organization, rng, interactions - old_count, old=False, among=live_ids or stale_ids, sealed=sealed
        )
        for pk in stale_ids[:HOLDS_PER_ORGANIZATION]:
            place_hold(organization=organization, actor=self.user, reference="BENCH", contact_id=pk)
        self.count_expected(organization, expected)
        return organization

    def add_contacts(self, organization, rng: random.Random, n: int, numbers: range, *, stale: bool) -> list[int]:
        """Contacts numbered `numbers` (the number makes the email unique in the organization),
        unchanged for longer than the period when `stale`; their ids."""
        ids = []
        for start in range(numbers.start, numbers.stop, self.seed_batch):
            rows = []
            for i in range(start, min(start + self.seed_batch, numbers.stop)):
                person = fake_person(rng, n * 10_000_000 + i)
                days = (900 + rng.randrange(400)) if stale else rng.randrange(600)
                changed = self.now - datetime.timedelta(days=days)
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
                ids += insert_rows(Contact, organization, rows)
        return ids

    def sealed_interaction_values(self, organization) -> dict[str, str]:
        """One ciphertext of the subject and of the body per organization, shared by its
        interactions (the associated data binds a value to its organization and field, not to
        its row): seeding then spends no encryption per interaction. The sweep deletes rows
        and never reads them, so its cost does not depend on it."""
        with tenant_context(organization):
            template = Interaction(organization=organization)
            return {
                name: Interaction._meta.get_field(name).seal(template, text)
                for name, text in (("subject", "Ofertă"), ("body", "Am discutat oferta"))
            }

    def add_interactions(
        self, organization, rng: random.Random, count: int, *, old: bool, among: list[int], sealed: dict
    ) -> None:
        """`count` calls, older than the period when `old`, each with one participant drawn
        from `among` (a stale contact has only old interactions: its last activity is long ago)."""
        for start in range(0, count, self.seed_batch):
            rows, who = [], []
            for _i in range(start, min(start + self.seed_batch, count)):
                days = (INTERACTION_PERIOD_DAYS + 30 + rng.randrange(700)) if old else rng.randrange(4 * 365)
                occurred = self.now - datetime.timedelta(days=days)
                rows.append({"kind": "call", "occurred_at": occurred, "created_at": occurred, **sealed})
                who.append(rng.choice(among))
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

    def count_expected(self, organization, expected: dict) -> None:
        """What the sweep must do in the organization, counted from the data by plain
        queries (not the sweep's own): the stale contacts and the old interactions, but those
        under a hold (a held contact keeps the old interactions it takes part in)."""
        contact_cutoff = self.now - datetime.timedelta(days=CONTACT_PERIOD_DAYS)
        interaction_cutoff = self.now - datetime.timedelta(days=INTERACTION_PERIOD_DAYS)
        with tenant_context(organization):
            held = list(
                LegalHold.objects.filter(released_at__isnull=True, contact__isnull=False).values_list(
                    "contact_id", flat=True
                )
            )
            stale = Contact.objects.filter(updated_at__lt=contact_cutoff).exclude(first_name="").exclude(pk__in=held)
            old = Interaction.objects.filter(occurred_at__lt=interaction_cutoff)
            held_interactions = old.filter(interactionparticipant__contact_id__in=held).distinct().count()
            expected["contacts"] += stale.count()
            expected["interactions"] += old.count() - held_interactions
            expected["held"] += len(held) + held_interactions

    def top_up(self, organization, n: int, contacts: int, interactions: int, expired: float, expected: dict) -> None:
        """A kept organization made as it was before its last sweep (--reuse): what the sweep
        anonymised or left half done goes, and as many new stale contacts and old
        interactions as the seed made are added; the held ones and the live rows stay."""
        rng = random.Random()  # noqa: S311 - benchmark data, not secrets
        contact_cutoff = self.now - datetime.timedelta(days=CONTACT_PERIOD_DAYS)
        interaction_cutoff = self.now - datetime.timedelta(days=INTERACTION_PERIOD_DAYS)
        participants = InteractionParticipant._meta.db_table
        with tenant_context(organization), connection.cursor() as cursor:
            held = list(
                LegalHold.objects.filter(released_at__isnull=True, contact__isnull=False).values_list(
                    "contact_id", flat=True
                )
            )
            # Old interactions without a held participant, then stale contacts but the held.
            cursor.execute(
                f"DELETE FROM {participants} AS p USING {Interaction._meta.db_table} AS i"
                " WHERE i.id = p.interaction_id AND i.organization_id = %(org)s AND p.organization_id = %(org)s"
                f" AND i.occurred_at < %(cutoff)s AND NOT EXISTS (SELECT 1 FROM {participants} AS h"
                " WHERE h.interaction_id = i.id AND h.contact_id = ANY(%(held)s))",
                {"org": organization.pk, "cutoff": interaction_cutoff, "held": held},
            )
            cursor.execute(
                f"DELETE FROM {Interaction._meta.db_table} AS i WHERE i.organization_id = %(org)s"
                f" AND i.occurred_at < %(cutoff)s AND NOT EXISTS (SELECT 1 FROM {participants} AS p"
                " WHERE p.interaction_id = i.id)",
                {"org": organization.pk, "cutoff": interaction_cutoff},
            )
            cursor.execute(
                f"DELETE FROM {Contact._meta.db_table} WHERE organization_id = %(org)s"
                " AND updated_at < %(cutoff)s AND NOT id = ANY(%(held)s)",
                {"org": organization.pk, "cutoff": contact_cutoff, "held": held},
            )
            old_left = Interaction.objects.filter(occurred_at__lt=interaction_cutoff).count()
            live_ids = list(Contact.objects.filter(updated_at__gte=contact_cutoff).values_list("pk", flat=True))
        stale_count, old_count = round(contacts * expired), round(interactions * expired)
        # Numbered past the seed's contacts: their emails are new to the organization.
        stale_ids = self.add_contacts(
            organization, rng, n, range(contacts, contacts + stale_count - len(held)), stale=True
        )
        sealed = self.sealed_interaction_values(organization)
        self.add_interactions(
            organization, rng, old_count - old_left, old=True, among=stale_ids + live_ids, sealed=sealed
        )
        self.count_expected(organization, expected)

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
            connections.close_all()  # the children open their own connections
            child = PROCESSES.Process(target=_load_page, args=(self.user.pk, order, current, stop, results))
            child.start()
            started = time.perf_counter()
            try:
                if self.sweep_workers <= 1:
                    swept = _sweep_organizations(orgs, self.now, self.batch_size, current, PROCESSES.Value("i", 0))
                else:
                    swept = self.sweep_in_workers(orgs, current)
            finally:
                elapsed = time.perf_counter() - started
                stop.set()
                during, errors = results.get(timeout=120)
                child.join(60)
        self.report(quiet, during, errors, swept, elapsed, expected)
        self.verify(orgs, expected)

    def sweep_in_workers(self, orgs: list[Organization], current) -> dict:
        """The organizations swept by --sweep-workers processes at once, each taking the next
        organization when done with one (as Celery workers take the per-organization jobs)."""
        following = PROCESSES.Value("i", 0)
        outcomes = PROCESSES.Queue()
        workers = [
            PROCESSES.Process(
                target=_sweep_in_child, args=(orgs, self.now, self.batch_size, current, following, outcomes)
            )
            for _ in range(self.sweep_workers)
        ]
        for worker in workers:
            worker.start()
        swept = _new_totals()
        failures = []
        for _ in workers:
            totals, error = outcomes.get()
            failures += [error] if error else []
            _merge_totals(swept, totals)
        for worker in workers:
            worker.join()
        if failures:
            raise CommandError(f"sweep failed: {failures[0]}")
        return swept

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

    def report(self, quiet, during, errors, swept, elapsed, expected) -> None:
        rows = swept["rows"]
        self.say(
            f"sweep: {rows:,} rows in {elapsed:.1f}s = {rows / elapsed if elapsed else 0:,.0f} rows/s "
            f"({swept['batches']:,} batches, one audit event each; {self.sweep_workers} worker(s), "
            f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())})"
        )
        if rows:
            self.say(
                f"  CPU per row: {swept['cpu'] / rows * 1e6:,.0f} µs in the sweep's process(es), "
                + (
                    f"{swept['backend_cpu'] / rows * 1e6:,.0f} µs in their database backends"
                    if swept["backend_cpu"] is not None
                    else "database backends not measurable"
                )
            )
        for key, line in sorted(swept["lines"].items()):
            if line["rows"]:
                self.say(
                    f"  {key}: {line['rows']:,} rows in {line['seconds']:.2f}s "
                    f"({line['seconds'] / line['rows'] * 1e6:,.0f} µs a row)"
                )
        outside = swept["seconds"] - sum(line["seconds"] for line in swept["lines"].values())
        self.say(
            f"  outside the batches (rules, empty claims): {outside:.2f}s, "
            f"{outside / max(1, swept['organizations']) * 1000:,.0f} ms per organization"
        )
        for rule, count in sorted(swept["per_rule"].items()):
            if count:
                self.say(f"  {rule}: {count:,}")
        dependent = sum(swept["deleted"].values())
        self.say(
            f"  with {dependent:,} dependent rows deleted: "
            + ", ".join(f"{label} {count:,}" for label, count in sorted(swept["deleted"].items()))
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
