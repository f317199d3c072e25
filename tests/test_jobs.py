"""Background jobs: the member export end to end on a real Celery worker (a thread of this
process, consuming from the test Redis), and the claim/lease rules that make a task safe
to deliver twice."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from celery.signals import task_postrun
from django.conf import settings
from django.db import connections, transaction
from django.urls import resolve, reverse
from django.utils import timezone

from accounts.exports import MEMBER_EXPORT, export_path
from accounts.models import Membership
from logicnet.audit.models import AuditEvent
from logicnet.jobs.models import Job
from logicnet.jobs.registry import job_handler
from logicnet.jobs.services import (
    JobBusy,
    JobFailed,
    JobLost,
    claim_job,
    execute_job,
    report_progress,
    stalled_jobs,
    start_job,
)
from logicnet.jobs.tasks import requeue_stalled_jobs
from logicnet.tenancy.context import tenant_context
from tests.conftest import use_database_role
from tests.factories import make_member, make_user

WAIT_SECONDS = 30
PROGRESS_DONE = re.compile(r'<progress max="100" value="100"[^>]*>')


@pytest.fixture
def reader(org_a):
    user = make_user("reader@example.com", "Read Only")
    make_member(org_a, user, "read_only")
    return user


def _close_worker_connections(**kwargs) -> None:
    # The worker thread's connection would otherwise outlive the test (CONN_MAX_AGE) and
    # hold the test database open.
    connections.close_all()


@pytest.fixture
def job_worker(committed_db) -> Iterator[None]:
    """A real Celery worker, solo pool, in a thread; stopped before the database is flushed.

    Its connections use settings.DATABASES, which conftest points at the application role,
    so the worker meets row-level security exactly as in production."""
    from celery.contrib.testing.worker import start_worker

    from logicnet.celery import app

    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        task_postrun.disconnect(_close_worker_connections)


def _job(organization, job_id: int) -> Job:
    with tenant_context(organization):
        return Job.objects.get(pk=job_id)


def _wait_until_finished(organization, job_id: int) -> Job:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job = _job(organization, job_id)
        if job.is_finished:
            return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} still {job.state} after {WAIT_SECONDS}s")


# --- end to end, on a real worker --------------------------------------------------------------------


def test_member_export_runs_on_a_worker_and_downloads(job_worker, client, alice, bob, charlie, reader, org_a, org_b):
    # Alice joined at 22:30 UTC on 6 December: the 7th in Bucharest, the day the file gives.
    use_database_role("owner")  # the application role may not rewrite a membership's date
    try:
        Membership.objects.filter(organization=org_a, user=alice).update(
            created_at=datetime(2026, 12, 6, 22, 30, tzinfo=UTC)
        )
    finally:
        use_database_role("app")
    client.force_login(alice)
    response = client.post(reverse("members_export", args=[org_a.slug]))
    assert response.status_code == 302
    match = resolve(response.url)
    assert (match.url_name, match.kwargs["org_slug"]) == ("job_detail", org_a.slug)
    job_id = match.kwargs["job_id"]

    job = _wait_until_finished(org_a, job_id)
    assert job.state == Job.State.SUCCEEDED, job.error
    assert (job.progress_done, job.progress_total, job.percent) == (3, 3, 100)
    assert job.attempts == 1
    assert job.created_by_id == alice.pk
    assert job.result == {"filename": f"members-{org_a.slug}.csv", "rows": 3}
    assert job.lease_expires_at is None and job.finished_at is not None

    page = client.get(response.url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "<html" in content
    assert PROGRESS_DONE.search(content)
    assert reverse("job_download", args=[org_a.slug, job_id]) in content

    partial = client.get(response.url, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    fragment = partial.content.decode()
    assert f'id="job-{job_id}"' in fragment
    assert "<html" not in fragment
    assert PROGRESS_DONE.search(fragment)
    assert "hx-trigger" not in fragment  # finished: the partial stops polling

    download = client.get(reverse("job_download", args=[org_a.slug, job_id]))
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    assert f'filename="members-{org_a.slug}.csv"' in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    download.close()
    assert rows[0] == ["name", "email", "role", "member_since"]
    assert sorted((row[1], row[2]) for row in rows[1:]) == [
        ("alice@example.com", "owner"),
        ("bob@example.com", "member"),
        ("reader@example.com", "read_only"),
    ]
    assert "charlie" not in str(rows)
    assert [row[3] for row in rows if row[1] == "alice@example.com"] == ["2026-12-07"]

    with tenant_context(org_a):
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"export.members_requested", "export.downloaded"} <= actions

    # The outsider sees nothing of it; members below admin may not read it.
    for user, status in ((charlie, 404), (bob, 403), (reader, 403)):
        client.force_login(user)
        assert client.get(reverse("job_detail", args=[org_a.slug, job_id])).status_code == status
        assert client.get(reverse("job_download", args=[org_a.slug, job_id])).status_code == status
    client.force_login(reader)
    assert client.post(reverse("members_export", args=[org_a.slug])).status_code == 403
    client.force_login(charlie)
    assert client.post(reverse("members_export", args=[org_a.slug])).status_code == 404
    with tenant_context(org_a):
        assert Job.objects.count() == 1


def test_a_lost_message_is_sent_again_by_the_stalled_job_sweep(committed_db, alice, org_a):
    """The job row, not the broker, is the truth: a job whose message never reached a
    worker is found by the beat sweep and run."""
    from logicnet.celery import app

    job = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    app.control.purge()  # the message is lost (this test process's own Redis database)
    sent = _job(org_a, job.pk).sent_at
    assert sent is not None  # start_job's after-commit send recorded itself
    assert stalled_jobs() == []  # sent a moment ago: it may still be waiting in the queue
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_RESEND_AFTER_SECONDS + 1)
    with tenant_context(org_a):
        Job.objects.filter(pk=job.pk).update(created_at=long_ago, sent_at=long_ago)

    from celery.contrib.testing.worker import start_worker

    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            assert requeue_stalled_jobs() == 1
            finished = _wait_until_finished(org_a, job.pk)
    finally:
        task_postrun.disconnect(_close_worker_connections)
    assert finished.state == Job.State.SUCCEEDED, finished.error
    assert export_path(finished).exists()
    assert finished.sent_at > long_ago  # the re-send is recorded too


# --- claiming and leases -------------------------------------------------------------------------


@pytest.fixture
def queued_job(org_a, alice) -> Job:
    # A `db` test never commits, so start_job's task is never sent: nothing else claims it.
    return start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)


def _set(job: Job, **fields) -> None:
    with tenant_context(job.organization_id):
        Job.objects.filter(pk=job.pk).update(**fields)


def test_claim_moves_a_queued_job_to_running_with_a_lease(queued_job, org_a):
    before = timezone.now()
    job = claim_job(organization_id=org_a.pk, job_id=queued_job.pk)
    assert job.pk == queued_job.pk
    assert (job.state, job.attempts) == (Job.State.RUNNING, 1)
    assert before + timedelta(seconds=50) < job.lease_expires_at <= timezone.now() + timedelta(seconds=60)


def test_a_live_lease_cannot_be_claimed_twice(queued_job, org_a):
    first = claim_job(organization_id=org_a.pk, job_id=queued_job.pk)
    with pytest.raises(JobBusy) as busy:
        claim_job(organization_id=org_a.pk, job_id=queued_job.pk)
    assert 1 <= busy.value.retry_in <= 61
    again = _job(org_a, queued_job.pk)
    assert (again.state, again.attempts, again.lease_expires_at) == (Job.State.RUNNING, 1, first.lease_expires_at)


def test_an_expired_lease_is_claimed_again(queued_job, org_a):
    claim_job(organization_id=org_a.pk, job_id=queued_job.pk)
    _set(queued_job, lease_expires_at=timezone.now() - timedelta(seconds=1), progress_done=7)
    job = claim_job(organization_id=org_a.pk, job_id=queued_job.pk)
    assert (job.state, job.attempts, job.progress_done) == (Job.State.RUNNING, 2, 0)
    assert job.lease_expires_at > timezone.now()


def test_after_max_attempts_the_job_fails_with_a_clear_error(queued_job, org_a):
    _set(
        queued_job,
        state=Job.State.RUNNING,
        attempts=Job.MAX_ATTEMPTS,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        error="worker lost",
    )
    assert claim_job(organization_id=org_a.pk, job_id=queued_job.pk) is None
    job = _job(org_a, queued_job.pk)
    assert job.state == Job.State.FAILED
    assert job.error == f"gave up after {Job.MAX_ATTEMPTS} attempts; last error: worker lost"
    assert job.finished_at is not None and job.lease_expires_at is None
    assert claim_job(organization_id=org_a.pk, job_id=queued_job.pk) is None  # finished: nothing to do


def test_the_last_attempt_still_running_is_not_failed_under_its_worker(queued_job, org_a):
    """A duplicate delivery while the last attempt runs must wait, not fail a job that is
    about to succeed."""
    _set(queued_job, attempts=Job.MAX_ATTEMPTS - 1)
    claim_job(organization_id=org_a.pk, job_id=queued_job.pk)
    with pytest.raises(JobBusy):
        claim_job(organization_id=org_a.pk, job_id=queued_job.pk)
    job = _job(org_a, queued_job.pk)
    assert (job.state, job.attempts, job.error) == (Job.State.RUNNING, Job.MAX_ATTEMPTS, "")


def test_claim_does_not_cross_organizations(queued_job, org_b):
    assert claim_job(organization_id=org_b.pk, job_id=queued_job.pk) is None
    assert _job(queued_job.organization_id, queued_job.pk).state == Job.State.QUEUED


def test_concurrent_claims_have_one_winner(committed_db, queued_job, org_a):
    """Two workers given the same message: the conditional UPDATE lets exactly one in."""
    import threading

    outcomes: list[str] = []
    start = threading.Barrier(2)

    def claim() -> None:
        start.wait()
        try:
            outcomes.append("claimed" if claim_job(organization_id=org_a.pk, job_id=queued_job.pk) else "none")
        except JobBusy:
            outcomes.append("busy")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["busy", "claimed"]
    assert _job(org_a, queued_job.pk).attempts == 1


def test_stalled_jobs_finds_lost_messages_and_dead_workers(org_a, org_b, alice, charlie):
    old = timezone.now() - timedelta(minutes=6)
    lost = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    fresh = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    dead = start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    alive = start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    done = start_job(organization=org_b, actor=charlie, kind=MEMBER_EXPORT)
    _set(lost, created_at=old)
    _set(dead, created_at=old, state=Job.State.RUNNING, lease_expires_at=timezone.now() - timedelta(seconds=1))
    _set(alive, created_at=old, state=Job.State.RUNNING, lease_expires_at=timezone.now() + timedelta(seconds=30))
    _set(done, created_at=old, state=Job.State.SUCCEEDED)
    found = set(stalled_jobs())
    assert (org_a.pk, lost.pk) in found
    assert (org_b.pk, dead.pk) in found  # across organizations: the sweep is platform work
    assert not {(org_a.pk, fresh.pk), (org_b.pk, alive.pk), (org_b.pk, done.pk)} & found


def test_stalled_jobs_leaves_alone_what_was_sent_recently(org_a, alice):
    """A message sent a minute ago may be waiting behind a long queue: sending it again
    every minute would pile duplicates up. Only what was not sent recently goes again."""
    now = timezone.now()
    resend_after = timedelta(seconds=settings.JOB_RESEND_AFTER_SECONDS)
    old = now - timedelta(minutes=30)
    waiting = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    forgotten = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    never_sent = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    dead_resent = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    dead_forgotten = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    expired = {"state": Job.State.RUNNING, "lease_expires_at": now - timedelta(seconds=1)}
    _set(waiting, created_at=old, sent_at=now - resend_after + timedelta(minutes=1))
    _set(forgotten, created_at=old, sent_at=now - resend_after - timedelta(minutes=1))
    _set(never_sent, created_at=old, sent_at=None)
    _set(dead_resent, created_at=old, sent_at=now - timedelta(minutes=1), **expired)
    _set(dead_forgotten, created_at=old, sent_at=old, **expired)
    found = {job_id for _org, job_id in stalled_jobs()}
    assert found == {forgotten.pk, never_sent.pk, dead_forgotten.pk}


def test_a_resend_is_recorded_so_the_next_check_skips_it(committed_db, org_a, alice):
    from logicnet.celery import app

    job = start_job(organization=org_a, actor=alice, kind=MEMBER_EXPORT)
    _set(job, created_at=timezone.now() - timedelta(hours=1), sent_at=None)
    app.control.purge()
    assert requeue_stalled_jobs() == 1
    assert _job(org_a, job.pk).sent_at > timezone.now() - timedelta(minutes=1)
    assert requeue_stalled_jobs() == 0  # its message is on the broker now: not again
    app.control.purge()


# --- running a handler ---------------------------------------------------------------------------
# Progress reports must be committed the moment they are made, so inside a transaction they
# go through a second connection, which sees only committed rows: the tests of that commit
# their data (committed_db); a test wrapped in one uncommitted transaction could not show it.


@job_handler("tests.fails")
def _failing_handler(job, report) -> dict:
    report(1, 2)
    # An exception message quoting a value, as a database or validation error would.
    raise ValueError("the row of ana.leak@example.ro is unreadable")


@job_handler("tests.overtaken")
def _overtaken_handler(job, report) -> dict:
    """Runs so long its lease expires and another attempt claims the job, then reports."""
    with tenant_context(job.organization_id):
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    claim_job(organization_id=job.organization_id, job_id=job.pk)
    if job.params.get("report"):
        report(2, 2)
    return {"from": "the stale attempt"}


def test_a_failing_handler_is_retried_then_failed(org_a, alice, caplog):
    job = start_job(organization=org_a, actor=alice, kind="tests.fails")
    with pytest.raises(JobFailed, match=r"^ValueError: ") as raised:
        execute_job(organization_id=org_a.pk, job_id=job.pk, final_attempt=False)
    assert "ana.leak" not in str(raised.value)
    queued = _job(org_a, job.pk)
    safe = "ValueError: the job stopped on an internal error (details are in the worker log)"
    assert (queued.state, queued.attempts, queued.error) == (Job.State.QUEUED, 1, safe)
    assert queued.lease_expires_at is None

    execute_job(organization_id=org_a.pk, job_id=job.pk, final_attempt=True)
    failed = _job(org_a, job.pk)
    assert (failed.state, failed.attempts, failed.error) == (Job.State.FAILED, 2, safe)
    # Neither the job row nor the log keeps the value the exception quoted; the log still
    # says which job failed where.
    assert "ana.leak" not in failed.error
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"job {job.pk} (tests.fails) failed with ValueError" in logged
    assert "_failing_handler" in logged
    assert "ana.leak" not in logged + caplog.text


@pytest.mark.parametrize("reports", [True, False], ids=["reports-progress", "returns-quietly"])
def test_an_overtaken_attempt_leaves_the_job_to_its_successor(reports, org_a, alice):
    job = start_job(organization=org_a, actor=alice, kind="tests.overtaken", params={"report": reports})
    execute_job(organization_id=org_a.pk, job_id=job.pk, final_attempt=False)
    current = _job(org_a, job.pk)
    # The second attempt holds the job; the first one's result and progress were dropped.
    assert (current.state, current.attempts, current.result, current.progress_done) == (Job.State.RUNNING, 2, {}, 0)
    assert current.lease_expires_at > timezone.now()


def test_progress_renews_the_lease(queued_job, org_a):
    job = claim_job(organization_id=org_a.pk, job_id=queued_job.pk)
    _set(job, lease_expires_at=timezone.now() + timedelta(seconds=5))
    report_progress(job, 5, 10)
    saved = _job(org_a, job.pk)
    assert (saved.progress_done, saved.progress_total, saved.percent) == (5, 10, 50)
    assert saved.lease_expires_at > timezone.now() + timedelta(seconds=50)


def _from_another_connection(func):
    """Run func in a thread, on that thread's own database connection: what another
    worker would see."""
    import threading

    results: list = []

    def run() -> None:
        try:
            results.append(func())
        except Exception as exc:
            results.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(WAIT_SECONDS)
    assert results, "the other connection did not answer"
    return results[0]


@job_handler("tests.batches_in_a_transaction")
def _batches_in_a_transaction_handler(job, report) -> dict:
    """Holds one transaction open across every progress report, as a handler that writes a
    batch atomically does; records what another connection sees after each report."""
    seen = []
    # As if the first minute of work had passed: only a renewal committed now keeps the
    # lease alive (this write is outside the handler's transaction, as a test device).
    _set(job, lease_expires_at=timezone.now() + timedelta(seconds=2))
    with transaction.atomic():
        for done in (1, 2, 3):
            report(done, 3)
            seen.append(_from_another_connection(lambda: _job(job.organization_id, job.pk)))
            seen.append(_from_another_connection(lambda: claim_job(organization_id=job.organization_id, job_id=job.pk)))
    _observed.extend(seen)
    return {"batches": 3}


_observed: list = []


def test_progress_inside_a_handler_transaction_commits_at_once(committed_db, org_a, alice):
    """The lease is renewed while the handler's transaction is still open, so the job is
    never claimable twice: a second delivery meets a live lease (JobBusy)."""
    _observed.clear()
    job = start_job(organization=org_a, actor=alice, kind="tests.batches_in_a_transaction")
    execute_job(organization_id=org_a.pk, job_id=job.pk, final_attempt=False)
    rows, claims = _observed[0::2], _observed[1::2]
    assert [(row.progress_done, row.progress_total) for row in rows] == [(1, 3), (2, 3), (3, 3)]
    for row in rows:
        assert row.state == Job.State.RUNNING and row.attempts == 1
        assert row.lease_expires_at > timezone.now() + timedelta(seconds=30)
    assert all(isinstance(claim, JobBusy) for claim in claims), claims
    finished = _job(org_a, job.pk)
    assert (finished.state, finished.attempts, finished.result) == (Job.State.SUCCEEDED, 1, {"batches": 3})


def test_progress_inside_a_transaction_still_detects_a_lost_lease(committed_db, queued_job, org_a):
    job = claim_job(organization_id=org_a.pk, job_id=queued_job.pk)
    _set(job, lease_expires_at=timezone.now() - timedelta(seconds=1))
    claim_job(organization_id=org_a.pk, job_id=job.pk)  # a newer attempt takes it over
    with transaction.atomic(), pytest.raises(JobLost):
        report_progress(job, 1, 2)
    assert _job(org_a, job.pk).attempts == 2


def test_progress_of_a_job_created_in_the_same_transaction_is_saved_there(queued_job, org_a):
    """A job created and run inside one transaction (a `db` test, an eager call) is seen by
    no other connection: its progress is saved on the only one that sees it."""
    job = claim_job(organization_id=org_a.pk, job_id=queued_job.pk)
    with transaction.atomic():
        report_progress(job, 3, 4)
    saved = _job(org_a, job.pk)
    assert (saved.progress_done, saved.progress_total) == (3, 4)


def test_an_unknown_kind_is_refused_before_anything_is_queued(org_a, alice):
    with pytest.raises(KeyError):
        start_job(organization=org_a, actor=alice, kind="no.such.kind")
    with tenant_context(org_a), transaction.atomic():
        assert Job.objects.count() == 0
