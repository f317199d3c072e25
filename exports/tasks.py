"""Thin Celery adapters."""

from celery import shared_task

from exports import services


@shared_task(name="exports.delete_expired_exports")
def delete_expired_exports() -> int:
    """Every hour (CELERY_BEAT_SCHEDULE): export files past their retention go."""
    return services.delete_expired_exports()
