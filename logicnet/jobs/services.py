"""Starting, claiming and finishing jobs."""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from psycopg import sql

from logicnet.jobs.models import Job
from logicnet.jobs.registry import handler_for
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.sweeps import sweep_ids

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
# A job whose message was never sent waits this long before the stalled-job check sends it.
JOB_SEND_GRACE = timedelta(minutes=1)


class JobBusy(Exception):
    """Another worker holds a live lease on the job."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"job is leased for {retry_in:.0f}s more")
        self.retry_in = retry_in


class JobFailed(Exception):
    """An attempt failed and the job is queued for another; the message holds no values."""


class JobLost(Exception):
    """This worker's lease expired and another attempt claimed the job: stop, touch nothing."""


def start_job(*, organization, actor, kind: str, params: dict | None = None) -> Job:
    """Create a queued job and send its task once the transaction commits."""
    handler_for(kind)  # an unknown kind fails here, not in the worker
    with tenant_context(organization):
        job = Job.objects.create(organization=organization, kind=kind, params=params or {}, created_by=actor)
        transaction.on_commit(lambda: send_job(organization_id=job.organization_id, job_id=job.pk))
    return job


def send_job(*, organization_id: int, job_id: int) -> bool:
    """Put the job's message on the broker and record when (`sent_at`); False when the
    broker is unreachable.

    The job row is the truth, the message only a wake-up call: with Redis down the job
    stays queued and unsent, the request that started it still succeeds, and the
    stalled-job check sends it once the broker is back. Recording `sent_at` is what lets
    that check leave alone a job whose message is merely waiting in a long queue.
    """
    from logicnet.jobs.tasks import run_job

    try:
        run_job.delay(job_id, organization_id)
    except BrokerError:
        log.exception("job %s: the broker is unreachable; left queued for the stalled-job check", job_id)
        return False
    with tenant_context(organization_id):
        Job.objects.filter(pk=job_id).update(sent_at=timezone.now())
    return True


def claim_job(*, organization_id: int, job_id: int) -> Job | None:
    """Atomically move a job to running; None when there is nothing to do.

    Claimable: queued, or running with an expired lease (its worker died). A live lease
    raises JobBusy so the task can retry after it, even on the last attempt (failing a job
    that is still running would lie about it); a job that used up its attempts fails.
    Each claim increments `attempts`, which identifies the claim: progress and the outcome
    are saved only while it is still the job's current claim.
    """
    now = timezone.now()
    with tenant_context(organization_id):
        claimable = Q(state=Job.State.QUEUED) | Q(state=Job.State.RUNNING, lease_expires_at__lt=now)
        claimed = Job.objects.filter(claimable, pk=job_id, attempts__lt=Job.MAX_ATTEMPTS).update(
            state=Job.State.RUNNING,
            attempts=F("attempts") + 1,
            lease_expires_at=now + LEASE,
            started_at=now,
            progress_done=0,
            error="",
        )
        job = Job.objects.filter(pk=job_id).first()
        if claimed:
            return job
        if job is None or job.is_finished:
            return None
        if job.state == Job.State.RUNNING and job.lease_expires_at and job.lease_expires_at >= now:
            raise JobBusy(max(1.0, (job.lease_expires_at - now).total_seconds() + 1))
        if job.attempts >= Job.MAX_ATTEMPTS:
            error = f"gave up after {job.attempts} attempts"
            _finish(job, state=Job.State.FAILED, error=f"{error}; last error: {job.error}" if job.error else error)
        return None


def report_progress(job: Job, done: int, total: int, *, side: SideConnection | None = None) -> None:
    """Save progress and renew the lease; JobLost when another attempt took the job over.

    Both must be committed at once, whatever the handler is doing: a handler that wraps a
    batch in a transaction would otherwise hold its renewals back until the batch commits,
    the lease would run out under a live worker, and a second attempt would start beside
    the first. So inside a transaction the renewal goes through a second connection
    (`side`, or one opened for this call); in autocommit the worker's own connection
    commits it at once.
    """
    job.progress_done, job.progress_total = done, total
    lease_expires_at = timezone.now() + LEASE
    renewed = None
    if connection.in_atomic_block:
        if side is not None:
            renewed = side.renew(job, done=done, total=total, lease_expires_at=lease_expires_at)
        else:
            with SideConnection() as once:
                renewed = once.renew(job, done=done, total=total, lease_expires_at=lease_expires_at)
    if renewed is None:
        # In autocommit; or the job row itself is not committed yet (the job was created and
        # run inside one transaction, as a test or an eager call does): no other worker can
        # see it, so only this connection can renew it.
        with tenant_context(job.organization_id):
            renewed = _current_claim(job).update(
                progress_done=done, progress_total=total, lease_expires_at=lease_expires_at
            )
    if not renewed:
        raise JobLost(f"job {job.pk}: attempt {job.attempts} no longer holds the lease")


class SideConnection:
    """A second connection to the same database, as the same role, in autocommit: what a
    handler's open transaction cannot hold back. Opened on first use, closed by close()
    (execute_job closes it when the run ends, so no connection outlives its job)."""

    def __init__(self) -> None:
        self._conn: psycopg.Connection | None = None

    def __enter__(self) -> SideConnection:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connect(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            # The worker connection's own parameters: same database, same (least-privilege)
            # role, so row-level security applies here exactly as on the main connection.
            params = connection.get_connection_params()
            self._conn = psycopg.connect(**params, autocommit=True)
            # The handler's transaction could hold a lock on the job row (it should not
            # write it): wait a bounded time and say why, rather than wait forever on a
            # lock that only this same worker could release.
            self._conn.execute(
                "SELECT set_config('lock_timeout', %s, false)", [f"{settings.JOB_PROGRESS_LOCK_TIMEOUT_MS}ms"]
            )
        return self._conn

    def renew(self, job: Job, *, done: int, total: int, lease_expires_at) -> int | None:
        """The number of rows renewed: 1 while this attempt still holds the job, else 0;
        None when this connection cannot see the job at all (not committed yet)."""
        table = sql.Identifier(Job._meta.db_table)
        update = sql.SQL(
            "UPDATE {table} SET progress_done = %s, progress_total = %s, lease_expires_at = %s"
            " WHERE id = %s AND state = %s AND attempts = %s"
        ).format(table=table)
        exists = sql.SQL("SELECT 1 FROM {table} WHERE id = %s").format(table=table)
        conn = self._connect()
        try:
            with conn.transaction():
                conn.execute("SELECT set_config('app.organization_id', %s, true)", [str(job.organization_id)])
                cursor = conn.execute(update, [done, total, lease_expires_at, job.pk, Job.State.RUNNING, job.attempts])
                if cursor.rowcount:
                    return cursor.rowcount
                return 0 if conn.execute(exists, [job.pk]).fetchone() else None
        except psycopg.errors.LockNotAvailable:
            raise RuntimeError(
                f"job {job.pk}: its row is locked by the handler's own transaction, so progress cannot be saved;"
                " a handler must not write its job row"
            ) from None


def _current_claim(job: Job):
    return Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, attempts=job.attempts)


def _finish(job: Job, *, state: str, result: dict | None = None, error: str = "") -> bool:
    with tenant_context(job.organization_id):
        return bool(
            Job.objects.filter(pk=job.pk, attempts=job.attempts)
            .exclude(state__in=[Job.State.SUCCEEDED, Job.State.FAILED])
            .update(state=state, result=result or {}, error=error, finished_at=timezone.now(), lease_expires_at=None)
        )


def safe_error_text(exc: BaseException) -> str:
    """What a failed job records and shows: the exception's class and a generic text.

    An exception's message often quotes the value that broke (a database error quotes the
    row, a validation error the email address): stored in the job row and shown on a page,
    it would be plaintext personal data outside the encrypted columns, kept past erasure."""
    return f"{exc.__class__.__name__}: the job stopped on an internal error (details are in the worker log)"


def _log_failure(job: Job, exc: BaseException) -> None:
    """The traceback's frames (file, line, function: where it failed) without the exception's
    message or source lines (what the value was): logs are kept outside the encrypted
    database and read by operators."""
    frames = "\n".join(
        f"  {frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(exc.__traceback__)
    )
    log.error("job %s (%s) failed with %s\n%s", job.pk, job.kind, exc.__class__.__name__, frames)


def execute_job(*, organization_id: int, job_id: int, final_attempt: bool) -> None:
    """Claim the job, run its handler, record success; on an error record it as failed only
    on the final attempt (earlier ones go back to queued and the task retries). A worker
    whose claim was taken over (its lease expired) records nothing."""
    job = claim_job(organization_id=organization_id, job_id=job_id)
    if job is None:
        return
    handler = handler_for(job.kind)
    side = SideConnection()
    try:
        result = handler(job, lambda done, total: report_progress(job, done, total, side=side))
    except JobLost:
        log.warning("job %s: attempt %s lost its lease to a newer attempt; stopped", job.pk, job.attempts)
        return
    except Exception as exc:
        _log_failure(job, exc)
        if final_attempt or job.attempts >= Job.MAX_ATTEMPTS:
            _finish(job, state=Job.State.FAILED, error=safe_error_text(exc))
            return
        with tenant_context(organization_id):
            requeued = _current_claim(job).update(
                state=Job.State.QUEUED, error=safe_error_text(exc), lease_expires_at=None
            )
        if requeued:
            # Retried by the task; Celery logs the exception it is given and keeps it in the
            # result backend (Redis): hand it the safe text, not the original message.
            raise JobFailed(safe_error_text(exc)) from None
        return
    finally:
        side.close()
    if not _finish(job, state=Job.State.SUCCEEDED, result=result):
        log.warning("job %s: attempt %s finished after losing its lease; result dropped", job.pk, job.attempts)


def stalled_jobs() -> list[tuple[int, int]]:
    """(organization_id, job_id) of jobs whose message must be sent (again): queued jobs
    nobody picked up and running jobs whose lease expired (the message was lost or the
    worker died), leaving out every job whose message went out recently.

    A message sent less than JOB_RESEND_AFTER_SECONDS ago may still be waiting its turn in
    a long queue: sending it again every minute would pile duplicates up behind it (each
    harmless, since claims are atomic, but each a wasted delivery). A job never sent (the
    broker was down when it was started) is sent after a short grace, which leaves the
    starting request's own after-commit send the time to record itself.

    Across every organization, through the narrow function logicnet_stalled_jobs (ids
    only, jobs migration 0003): beat's role reaches no role that reads every tenant. One
    audit event per sweep that found work, none for the quiet minutes.
    """
    now = timezone.now()
    return sweep_ids(
        "logicnet_stalled_jobs",
        [now - JOB_SEND_GRACE, now - timedelta(seconds=settings.JOB_RESEND_AFTER_SECONDS), now, 500],
        reason="stalled jobs",
        counted="jobs",
    )
