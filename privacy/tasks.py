"""Thin Celery adapters for the privacy app: ids in, services do the work."""

from celery import shared_task


@shared_task(name="privacy.send_privacy_mail")
def send_privacy_mail(organization_id: int, request_id: int, kind: str) -> bool:
    from privacy.services.requests import send_request_mail

    return send_request_mail(organization_id=organization_id, request_id=request_id, kind=kind)


@shared_task(name="privacy.sweep_request_mail")
def sweep_request_mail() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): confirmations owed, reminders, expiry."""
    from privacy.services.requests import sweep_request_mail as sweep

    return sweep()


@shared_task(name="privacy.delete_expired_packages")
def delete_expired_packages() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): access and portability packages past 30 days go."""
    from privacy.services.fulfilment import delete_expired_packages as sweep

    return sweep()


@shared_task(name="privacy.notify_platform_staff", autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def notify_platform_staff(request_id: int) -> bool:
    """A request to Logicnet itself was confirmed: tell its privacy address (no personal data)."""
    from privacy.services.platform import notify_platform_staff as notify

    if not notify(request_id):
        raise OSError("the privacy address could not be told; retried")
    return True
