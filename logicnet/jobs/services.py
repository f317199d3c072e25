"""Starting, claiming and finishing jobs."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from logicnet.jobs.models import Job
from logicnet.jobs.registry import handler_for
from logicnet.tenancy.context import tenant_context

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)


class JobBusy(Exception):
    """Another worker holds a live lease on the job."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"job is leased for {retry_in:.0f}s more")
        self.retry_in = retry_in


class JobLost(Exception):
    """This worker's lease expired and another attempt claimed the job: stop, touch nothing."""


def start_job(*, organization, actor, kind: str, params: dict | None = None) -> Job:
    """Create a queued job and send its task once the transaction commits."""
    from logicnet.jobs.tasks import run_job

    handler_for(kind)  # an unknown kind fails here, not in the worker
    with tenant_context(organization):
        job = Job.objects.create(organization=organization, kind=kind, params=params or {}, created_by=actor)
        transaction.on_commit(lambda: run_job.delay(job.pk, job.organization_id))
    return job


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


def report_progress(job: Job, done: int, total: int) -> None:
    """Save progress and renew the lease; JobLost when another attempt took the job over."""
    job.progress_done, job.progress_total = done, total
    with tenant_context(job.organization_id):
        renewed = _current_claim(job).update(
            progress_done=done, progress_total=total, lease_expires_at=timezone.now() + LEASE
        )
    if not renewed:
        raise JobLost(f"job {job.pk}: attempt {job.attempts} no longer holds the lease")


def _current_claim(job: Job):
    return Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, attempts=job.attempts)


def _finish(job: Job, *, state: str, result: dict | None = None, error: str = "") -> bool:
    with tenant_context(job.organization_id):
        return bool(
            Job.objects.filter(pk=job.pk, attempts=job.attempts)
            .exclude(state__in=[Job.State.SUCCEEDED, Job.State.FAILED])
            .update(state=state, result=result or {}, error=error, finished_at=timezone.now(), lease_expires_at=None)
        )


def execute_job(*, organization_id: int, job_id: int, final_attempt: bool) -> None:
    """Claim the job, run its handler, record success; on an error record it as failed only
    on the final attempt (earlier ones go back to queued and the task retries). A worker
    whose claim was taken over (its lease expired) records nothing."""
    job = claim_job(organization_id=organization_id, job_id=job_id)
    if job is None:
        return
    handler = handler_for(job.kind)
    try:
        result = handler(job, lambda done, total: report_progress(job, done, total))
    except JobLost:
        log.warning("job %s: attempt %s lost its lease to a newer attempt; stopped", job.pk, job.attempts)
        return
    except Exception as exc:
        log.exception("job %s failed", job.pk)
        if final_attempt or job.attempts >= Job.MAX_ATTEMPTS:
            _finish(job, state=Job.State.FAILED, error=str(exc) or exc.__class__.__name__)
            return
        with tenant_context(organization_id):
            requeued = _current_claim(job).update(state=Job.State.QUEUED, error=str(exc), lease_expires_at=None)
        if requeued:
            raise
        return
    if not _finish(job, state=Job.State.SUCCEEDED, result=result):
        log.warning("job %s: attempt %s finished after losing its lease; result dropped", job.pk, job.attempts)


def stalled_jobs() -> list[tuple[int, int]]:
    """(organization_id, job_id) of queued jobs nobody picked up in 5 minutes and running
    jobs whose lease expired: their message was lost or their worker died.

    Across every organization, through the narrow function logicnet_stalled_jobs (ids
    only, migration jobs 0002): beat's role reaches no role that reads every tenant. One
    audit event per sweep that found work, none for the quiet minutes."""
    from logicnet.audit.services import record_event

    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT organization_id, job_id FROM logicnet_stalled_jobs(%s, %s, %s)",
            [now - timedelta(minutes=5), now, 500],
        )
        found = [(int(organization_id), int(job_id)) for organization_id, job_id in cursor.fetchall()]
        if found:
            record_event(
                action="platform.sweep",
                details={
                    "reason": "stalled jobs",
                    "organizations": len({organization_id for organization_id, _job in found}),
                    "jobs": len(found),
                },
            )
    return found
