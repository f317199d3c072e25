"""Background work of the usage app (thin adapters over services)."""

from celery import shared_task


@shared_task(name="usage.sweep_usage_retention")
def sweep_usage_retention() -> dict:
    """Daily (CELERY_BEAT_SCHEDULE): usage events and cookie choices past
    the retention rules declared in usage/personal_data.py and the registry's policy."""
    from usage.services import sweep_usage_retention as sweep

    return sweep()
