"""Thin Celery adapters for the notices app: ids in, services do the work."""

from celery import shared_task


@shared_task(name="notices.send_policy_notices", acks_late=True)
def send_policy_notices_task(version_id: int) -> int:
    from notices.services.policy import send_policy_notices

    return send_policy_notices(version_id=version_id)


@shared_task(name="notices.send_subprocessor_notices", acks_late=True)
def send_subprocessor_notices_task(change_id: int) -> int:
    from notices.services.subprocessors import send_change_notices

    return send_change_notices(change_id=change_id)


@shared_task(name="notices.sweep_notices")
def sweep_notices() -> int:
    """Every 10 minutes (CELERY_BEAT_SCHEDULE): notice mail a broker outage or a restart
    left unfinished is carried on (each run resumes from the last recipient mailed)."""
    from notices.services import policy, subprocessors

    count = 0
    for version_id in policy.unfinished_notices():
        count += policy.send_policy_notices(version_id=version_id)
    for change_id in subprocessors.unfinished_notices():
        count += subprocessors.send_change_notices(change_id=change_id)
    return count
