"""Thin Celery adapters for the CRM: ids in, services do the work."""

from celery import shared_task

from contacts.services.activity import sweep_task_reminders

# --- task reminders ---------------------------------------------------------------------------


@shared_task(name="contacts.send_task_reminders")
def send_task_reminders() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): send the reminders of tasks now due. The sweep
    claims each task before sending, so overlapping runs send each reminder once."""
    return sweep_task_reminders()
