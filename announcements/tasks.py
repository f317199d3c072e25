"""Thin Celery adapters for announcements: ids in, services do the work."""

from celery import shared_task


@shared_task(name="announcements.send_mail", acks_late=True)
def send_announcement_mail_task(announcement_id: int) -> dict:
    from announcements.services import send_announcement_mail

    return send_announcement_mail(announcement_id=announcement_id)


@shared_task(name="announcements.sweep_mail")
def sweep_announcement_mail() -> int:
    """Every 10 minutes (CELERY_BEAT_SCHEDULE): mailings a broker outage or a crash left
    unfinished are carried on, sending only what is still pending."""
    from announcements.services import send_announcement_mail, unfinished_mailings
    from logicnet.tenancy.context import platform_reads

    with platform_reads():
        ids = unfinished_mailings()
    for announcement_id in ids:
        send_announcement_mail(announcement_id=announcement_id)
    return len(ids)
