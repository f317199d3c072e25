"""Thin Celery adapters for billing: the services do the work. Arguments are ids only."""

from celery import shared_task


@shared_task(name="billing.process_stripe_event")
def process_stripe_event(event_id: int) -> str:
    """A failure is marked on the row; beat's process_pending_events tries again (5 attempts)."""
    from billing.services import process_event

    return process_event(event_id)


@shared_task(name="billing.process_pending_events")
def process_pending_events() -> int:
    from billing.services import process_pending_events as queue_pending

    return queue_pending()
