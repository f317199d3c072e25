"""Benchmark of the audit log's writers: do audited requests wait for one another?

8 writers in one organization and 8 without an organization (sign-ins, two-factor events),
each a thread with its own database connection, each event in a transaction that stays open
a few milliseconds after the insert, as a request's would; a sealer runs beside them. Prints
events per second, the time spent in record_event (where a writer would wait for another)
and the sealer's throughput. The events stay: the log is append-only.
"""

from __future__ import annotations

import statistics
import threading
import time

from django.core.management.base import BaseCommand
from django.db import connection, connections, transaction

from logicnet.audit.services import record_event, seal_audit_log
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.organizations import organization_model

SLUG = "bench-audit"
PREVIOUS_LOCK_NAMESPACE = 7_302_112  # not the one the audit log uses now


class Command(BaseCommand):
    help = "Benchmark concurrent audit writers (one organization and none) and the sealer beside them."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=5.0, help="how long the writers run")
        parser.add_argument("--writers", type=int, default=8, help="writers in the organization, and as many without")
        parser.add_argument("--hold-ms", type=float, default=3.0, help="how long each transaction stays open")
        parser.add_argument(
            "--previous-lock",
            action="store_true",
            help="for comparison: also take the previous release's lock per chain, held to commit",
        )

    def handle(self, *args, seconds, writers, hold_ms, previous_lock, **options):
        self.previous_lock = previous_lock
        organization, _ = organization_model().objects.get_or_create(slug=SLUG, defaults={"name": "Bench audit"})
        start = threading.Barrier(2 * writers + 1)
        stop = threading.Event()
        waits: list[list[float]] = [[] for _ in range(2 * writers)]
        transactions: list[list[float]] = [[] for _ in range(2 * writers)]
        errors: list[BaseException] = []
        sealed = [0, 0.0]  # events, seconds spent sealing

        def write(slot: int, organization_id: int | None) -> None:
            try:
                start.wait()
                n = 0
                while n == 0 or not stop.is_set():  # at least one event each, however busy the machine
                    began = time.perf_counter()
                    with transaction.atomic():
                        if organization_id is not None:
                            with tenant_context(organization_id):
                                self.write_one(organization_id, slot, n, waits[slot])
                        else:
                            self.write_one(None, slot, n, waits[slot])
                        time.sleep(hold_ms / 1000)  # the rest of the request, transaction open
                    transactions[slot].append(time.perf_counter() - began)
                    n += 1
            except BaseException as exc:
                errors.append(exc)
                stop.set()
            finally:
                connections.close_all()

        def seal() -> None:
            try:
                while not stop.is_set():
                    began = time.perf_counter()
                    sealed[0] += seal_audit_log(wait_seconds=0.5).sealed
                    sealed[1] += time.perf_counter() - began
                    stop.wait(0.2)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=write, args=(slot, organization.pk if slot < writers else None))
            for slot in range(2 * writers)
        ]
        sealer = threading.Thread(target=seal)
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        sealer.start()
        stop.wait(seconds)
        stop.set()
        for thread in [*threads, sealer]:
            thread.join()
        elapsed = time.perf_counter() - began
        if errors:
            raise errors[0]
        # What the sealer had left when the writers stopped.
        final = time.perf_counter()
        sealed[0] += seal_audit_log().sealed
        sealed[1] += time.perf_counter() - final

        self.stdout.write(
            f"audit writers: {writers} in one organization + {writers} without, each transaction held "
            f"{hold_ms:g} ms after its insert, {elapsed:.1f} s"
            + (" (with the previous release's lock per chain)" if previous_lock else "")
        )
        for title, group in (("organization", waits[:writers]), ("no organization", waits[writers:])):
            flat = [w for slot in group for w in slot]
            self.stdout.write(
                f"  {title:<16} {len(flat):>7} events  {len(flat) / elapsed:>8.0f}/s  record_event p50 "
                f"{self.ms(statistics.median(flat))}  p99 {self.ms(self.p99(flat))}  longest wait {self.ms(max(flat))}"
            )
        every = [w for slot in waits for w in slot]
        longest_transaction = max(t for slot in transactions for t in slot)
        self.stdout.write(
            f"  all              {len(every):>7} events  {len(every) / elapsed:>8.0f}/s  longest wait "
            f"{self.ms(max(every))}  longest transaction {self.ms(longest_transaction)}"
        )
        rate = sealed[0] / sealed[1] if sealed[1] else 0.0
        self.stdout.write(
            f"  sealer: {sealed[0]} events sealed in {sealed[1]:.2f} s of sealing runs "
            f"(waits for writers in flight included), {rate:.0f}/s"
        )

    def write_one(self, organization_id: int | None, slot: int, n: int, waits: list[float]) -> None:
        began = time.perf_counter()
        if self.previous_lock:
            # What record_event did before: one lock per chain, held until the commit.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashint8(%s::bigint))",
                    [PREVIOUS_LOCK_NAMESPACE, organization_id or 0],
                )
        record_event(
            action="bench.event", organization=organization_id, ip_address="192.0.2.1", details={"w": slot, "n": n}
        )
        waits.append(time.perf_counter() - began)

    @staticmethod
    def p99(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    @staticmethod
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:6.2f} ms"
