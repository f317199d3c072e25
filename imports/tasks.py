"""Thin Celery adapters of imports."""

from celery import shared_task

from imports import storage


@shared_task(name="imports.delete_expired_uploads")
def delete_expired_uploads() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): uploads and error reports older than 7 days. Works on
    the files alone (their age), so it needs no cross-tenant database role."""
    return storage.delete_expired_uploads()
