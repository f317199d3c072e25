"""Periodic work of the accounts app (thin adapters over services)."""

from celery import shared_task

from accounts.exports import delete_expired_exports


@shared_task(name="accounts.delete_expired_exports")
def sweep_expired_exports() -> int:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): export files past their retention go."""
    return delete_expired_exports()
