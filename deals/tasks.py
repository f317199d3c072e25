"""Deals' background work: thin adapters over deals.services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="deals.recount_totals")
def recount_totals() -> int:
    """Nightly (CELERY_BEAT_SCHEDULE): rebuild every organization's deal totals from its deals."""
    from deals.services.totals import recount_all_deal_totals

    return recount_all_deal_totals()
