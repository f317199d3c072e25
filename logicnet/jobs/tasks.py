"""Thin Celery adapters: ids in, services do the work."""

from celery import shared_task

from logicnet.jobs import services


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def run_job(self, job_id: int, organization_id: int) -> None:
    try:
        services.execute_job(
            organization_id=organization_id, job_id=job_id, final_attempt=self.request.retries >= self.max_retries
        )
    except services.JobBusy as busy:
        raise self.retry(countdown=busy.retry_in) from None
    except Exception as exc:
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from None


@shared_task(name="logicnet.requeue_stalled_jobs")
def requeue_stalled_jobs() -> int:
    stalled = services.stalled_jobs()
    for organization_id, job_id in stalled:
        run_job.delay(job_id, organization_id)
    return len(stalled)
