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
    """Every minute (CELERY_BEAT_SCHEDULE): send again the jobs whose message is lost; the
    number sent. With the broker down it stops at the first failure: the next run retries."""
    sent = 0
    for organization_id, job_id in services.stalled_jobs():
        if not services.send_job(organization_id=organization_id, job_id=job_id):
            break
        sent += 1
    return sent
