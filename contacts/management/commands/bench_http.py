"""Benchmark of the CRM pages over real HTTP: gunicorn as in production (sync workers,
DEBUG off, the access log on), a load generator on loopback at several concurrencies, on
the data `bench_crm` seeds.

    make bench BENCH=bench_http                                  # 50,000 contacts
    make bench BENCH=bench_http ARGS="--contacts 1000000"        # the issue's size
    make bench BENCH=bench_crm ARGS="--contacts 1000000 --keep"  # seed once, then:
    make bench BENCH=bench_http ARGS="--reuse"                   # measure the kept data

What a user waits for includes the middleware, the session, the template and the response
size; this measures all of it from a socket, where `bench_crm` times the views in-process.
The load is bounded: each page and concurrency runs for --seconds or --max-requests,
whichever ends first, against 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import Organization
from contacts.benchmarks import FIRST_NAMES, STEMS, percentile
from contacts.management.commands import bench_crm
from contacts.models import Contact
from logicnet.encryption import blind
from logicnet.tenancy.context import tenant_context

# The targets on 2 cores: p95 under 80 ms at concurrency 1, and the list at least
# 40 requests a second at concurrency 8, with no errors.
P95_TARGET_MS = 80
LIST_RPS_TARGET = 40


@dataclass
class Request:
    method: str
    path: str
    body: str = ""
    htmx: bool = False


@dataclass
class Page:
    name: str
    requests: list[Request]


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    bytes: int = 0
    cpu: float | None = None  # CPU seconds of the server and the database spent on the load

    def add_error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def process_tree_cpu(root_pid: int | None) -> float | None:
    """CPU seconds (user and system) a process and all its descendants have used, reaped
    children included, from /proc; None where /proc cannot tell (another OS, a remote
    database)."""
    if root_pid is None:
        return None
    children: dict[int, list[int]] = {}
    used: dict[int, int] = {}
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry))
        used[int(entry)] = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    if root_pid not in used:
        return None
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += used.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def database_server_pid() -> int | None:
    """The local PostgreSQL server (postmaster) serving this connection: the parent of its
    backend. None for a server on another machine."""
    try:
        backend = connection.connection.info.backend_pid
        with open(f"/proc/{backend}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (AttributeError, OSError, ValueError, IndexError):
        return None


def current_database_url() -> str:
    """DATABASE_URL naming the database this process uses (the test database under pytest)."""
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving logicnet.wsgi on a loopback port, as the production compose file runs it."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="bench-http-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        command = [
            gunicorn,
            "logicnet.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--access-logfile",
            "-",
        ]
        env = {**os.environ, "DEBUG": "0", "LOGICNET_DB_ROLE": "app", "DATABASE_URL": current_database_url()}
        self.process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            command, cwd=settings.BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                # Any answer means the workers serve (healthz is 503 without a Celery worker).
                fetch(self.port, Request("GET", "/healthz"), headers={})
                return self
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        raise CommandError(f"gunicorn did not answer within 60 s; see {self.log.name}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def fetch(
    port: int, request: Request, headers: dict[str, str], connection: http.client.HTTPConnection | None = None
) -> tuple[int, int, http.client.HTTPConnection]:
    """(status, body bytes, connection) of one request; the connection is reused when the
    server keeps it open."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    all_headers = dict(headers)
    if request.htmx:
        all_headers["HX-Request"] = "true"
    body = request.body.encode() if request.body else None
    if body is not None:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(request.method, request.path, body=body, headers=all_headers)
    response = conn.getresponse()
    size = len(response.read())
    if response.will_close:
        conn.close()
    return response.status, size, conn


def run_load(port: int, page: Page, headers: dict[str, str], concurrency: int, seconds: float, cap: int) -> Outcome:
    """`concurrency` clients, each sending the page's requests in turn with no think time,
    until `seconds` pass or `cap` requests were sent in all."""
    outcome = Outcome()
    lock = threading.Lock()
    sent = [0]
    deadline = time.monotonic() + seconds

    def client(offset: int) -> None:
        conn = None
        n = offset
        while time.monotonic() < deadline:
            with lock:
                if sent[0] >= cap:
                    return
                sent[0] += 1
            request = page.requests[n % len(page.requests)]
            n += 1
            start = time.perf_counter()
            try:
                status, size, conn = fetch(port, request, headers, conn)
            except (OSError, http.client.HTTPException) as exc:
                conn = None
                with lock:
                    outcome.add_error(type(exc).__name__)
                continue
            elapsed = time.perf_counter() - start
            with lock:
                if status == 200:
                    outcome.latencies.append(elapsed)
                    outcome.bytes += size
                else:
                    outcome.add_error(f"HTTP {status}")

    threads = [threading.Thread(target=client, args=(i * 7,)) for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.elapsed = time.perf_counter() - started
    return outcome


class Command(BaseCommand):
    help = "Benchmark the CRM pages over HTTP (gunicorn, DEBUG off) at concurrency 1 and 8."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=50_000, help="contacts in the measured organization")
        parser.add_argument("--other-contacts", type=int, default=None, help="contacts in each of 10 other orgs")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--reuse", action="store_true", help="measure data kept by bench_crm/bench_http --keep")
        parser.add_argument("--keep", action="store_true", help="keep the data (a later run removes it first)")
        parser.add_argument("--seconds", type=float, default=10.0, help="load time per page and concurrency")
        parser.add_argument("--max-requests", type=int, default=2000, help="request cap per page and concurrency")
        parser.add_argument("--concurrency", default="1,8", help="comma-separated client counts")
        parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (production's default)")

    def say(self, line: str = "") -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(self, *args, contacts, other_contacts, batch_size, reuse, keep, seconds, max_requests, **options):
        levels = [int(n) for n in options["concurrency"].split(",") if n.strip()]
        seeder = bench_crm.Command(stdout=self.stdout, stderr=self.stderr)
        seeder.rng = random.Random(2027)  # noqa: S311 - benchmark data, not secrets
        seeder.batch_size = batch_size
        main = Organization.objects.filter(slug=f"{bench_crm.SLUG_PREFIX}main").first() if reuse else None
        try:
            if main is not None:
                self.say(f"reusing the data kept in {main.slug}")
                seeded = seeder.describe(main)
            else:
                seeder.remove_bench_data()
                other = other_contacts if other_contacts is not None else max(100, contacts // 10)
                seeded, _small = seeder.seed_all(contacts, other)
            headers = self.signed_in_headers(seeder.user)
            pages = self.pages(seeded)
            with Server(options["workers"]) as server:
                self.say(
                    f"gunicorn: {options['workers']} sync workers on 127.0.0.1:{server.port}, DEBUG off, access log on; "
                    f"{seeded.organization.slug}: {seeded.contacts:,} contacts; load average {bench_crm.load_average()}"
                )
                self.measure(server.process.pid, server.port, pages, headers, levels, seconds, max_requests)
                self.say(f"load average after: {bench_crm.load_average()}")
                self.say(
                    "cpu ms: CPU time per request of the gunicorn workers and the PostgreSQL server together "
                    "(from /proc; '-' when the database is not local). Unlike the times above it does not grow "
                    "with the machine's other work: N cores serve at most N x 1000 / (cpu ms) requests a second."
                )
        finally:
            if keep:
                self.say("keeping the data (--keep); the next run without --reuse removes it first")
            else:
                seeder.remove_bench_data()

    def signed_in_headers(self, user) -> dict[str, str]:
        """A real session (in the database, as a sign-in makes) and a CSRF token, sent as a
        browser would behind the TLS proxy (X-Forwarded-Proto, Referer for CSRF on HTTPS)."""
        client = Client()
        client.force_login(user)
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            client.get(reverse("home"), secure=True)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        token = "bench" + "x" * 27  # a well-formed CSRF secret of our own (32 characters)
        host = "127.0.0.1"
        return {
            "Host": host,
            "X-Forwarded-Proto": "https",
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={token}",
            "X-CSRFToken": token,
            "Referer": f"https://{host}/",
            "Accept-Encoding": "identity",
        }

    def pages(self, seeded: bench_crm.Seeded) -> list[Page]:
        slug = seeded.organization.slug

        def url(name: str, **kwargs) -> str:
            return reverse(name, kwargs={"org_slug": slug, **kwargs})

        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            client = Client()
            client.force_login(self._user_of(seeded))
            deep = bench_crm.Command().deep_page_url(url("contact_list"), seeded, client)
        prefixes = sorted({blind.fold_text(name)[:3].lower() for name in FIRST_NAMES + STEMS})
        emails = self.sample_emails(seeded.organization, 50)
        detail_id = bench_crm.Command.detail_id(seeded)
        search = url("crm_search")
        return [
            Page("contacts list, first page", [Request("GET", url("contact_list"))]),
            Page("contacts list, deep page", [Request("GET", deep)]),
            Page("search-as-you-type, 3 letters", [self.search_request(search, p) for p in prefixes]),
            Page("exact email lookup", [self.search_request(search, e) for e in emails]),
            Page(
                "contact detail + its timeline",
                [
                    Request("GET", url("contact_detail", contact_id=detail_id)),
                    Request("GET", url("contact_timeline", contact_id=detail_id), htmx=True),
                ],
            ),
        ]

    @staticmethod
    def search_request(path: str, query: str) -> Request:
        # The header search POSTs what is typed: personal values never travel in a URL.
        return Request("POST", path, body=urlencode({"q": query}), htmx=True)

    @staticmethod
    def _user_of(seeded: bench_crm.Seeded):
        from accounts.models import User

        return User.objects.get(email=f"{bench_crm.SLUG_PREFIX}member-0{bench_crm.USER_DOMAIN}")

    @staticmethod
    def sample_emails(organization: Organization, count: int) -> list[str]:
        with tenant_context(organization):
            rows = Contact.objects.filter(organization=organization).order_by("pk").only("email")
            step = max(1, rows.count() // count)
            return [contact.email for contact in rows[::step][:count] if contact.email]

    def measure(
        self,
        server_pid: int | None,
        port: int,
        pages: list[Page],
        headers: dict[str, str],
        levels: list[int],
        seconds: float,
        cap: int,
    ) -> None:
        header = (
            f"{'page':<34} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
            f"{'KiB':>6} {'errors':>7} {'cpu ms':>7}  target"
        )
        self.say(header)
        self.say("-" * len(header))
        connection.ensure_connection()
        database = database_server_pid()
        for page in pages:
            for request in page.requests[:3]:  # warm every worker's caches and check the page answers
                for _ in range(6):
                    status, _size, _conn = fetch(port, request, headers)
                    if status != 200:
                        raise CommandError(f"{page.name}: HTTP {status} for {request.method} {request.path}")
            for level in levels:
                before = (process_tree_cpu(server_pid), process_tree_cpu(database))
                outcome = run_load(port, page, headers, level, seconds, cap)
                after = (process_tree_cpu(server_pid), process_tree_cpu(database))
                if None not in before and None not in after:
                    outcome.cpu = (after[0] - before[0]) + (after[1] - before[1])
                self.say(self.row(page, level, outcome))

    @staticmethod
    def row(page: Page, level: int, outcome: Outcome) -> str:
        count = len(outcome.latencies)
        errors = sum(outcome.errors.values())
        if not count:
            return f"{page.name:<34} {level:>7} no successful request; errors: {outcome.errors}"
        rps = count / outcome.elapsed
        p50 = statistics.median(outcome.latencies) * 1e3
        p95 = percentile(outcome.latencies, 0.95) * 1e3
        p99 = percentile(outcome.latencies, 0.99) * 1e3
        size = outcome.bytes / count / 1024
        sent = count + errors
        cpu = f"{outcome.cpu / sent * 1e3:>7.1f}" if outcome.cpu is not None else f"{'-':>7}"
        verdicts = []
        if level == 1:
            verdicts.append(f"p95 < {P95_TARGET_MS}: {'yes' if p95 < P95_TARGET_MS else 'NO'}")
        if level == 8 and page.name.startswith("contacts list, first"):
            verdicts.append(f">= {LIST_RPS_TARGET} req/s: {'yes' if rps >= LIST_RPS_TARGET else 'NO'}")
        if errors:
            verdicts.append(f"errors: {outcome.errors}")
        return (
            f"{page.name:<34} {level:>7} {rps:>8.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {size:>6.1f} {errors:>7} {cpu}  "
            + "; ".join(verdicts)
        )
