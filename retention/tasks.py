"""Thin Celery adapters for retention: the services do the work."""

from celery import shared_task


@shared_task(name="retention.start_nightly_sweeps")
def start_nightly_sweeps() -> int:
    """Nightly (CELERY_BEAT_SCHEDULE): the platform's own tables (sessions, email
    confirmations), then one sweep job per organization."""
    from retention.services.sweep import start_nightly_sweeps as start
    from retention.services.sweep import sweep_platform_tables

    sweep_platform_tables()
    return start()
