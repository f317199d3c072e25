"""Thin Celery adapters for interactions and tasks: ids in, services do the work."""

from celery import shared_task

from activity.services import sweep_task_reminders


@shared_task(name="activity.send_task_reminders")
def send_task_reminders() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): send the reminders of tasks now due. The sweep
    claims each task before sending, so overlapping runs send each reminder once."""
    return sweep_task_reminders()
