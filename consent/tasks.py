"""Thin Celery adapters for the consent app: ids in, services do the work."""

from celery import shared_task


@shared_task(name="consent.send_signup_confirmation")
def send_signup_confirmation(organization_id: int, signup_id: int) -> bool:
    from consent.mail import send_signup_confirmation as send

    return send(organization_id, signup_id)


@shared_task(name="consent.send_consent_welcome")
def send_consent_welcome(organization_id: int, record_id: int) -> bool:
    from consent.mail import send_consent_welcome as send

    return send(organization_id, record_id)


@shared_task(name="consent.delete_expired_signups")
def delete_expired_signups() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): sign-ups never confirmed within 7 days go."""
    from consent.services.signup import delete_expired_signups as sweep

    return sweep()
