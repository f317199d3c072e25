"""Thin Celery adapters for the CRM: ids in, services do the work."""

from celery import shared_task

# --- access audit -----------------------------------------------------------------------------


@shared_task(name="contacts.flush_contact_views")
def flush_contact_views() -> int:
    """Every 10 seconds (CELERY_BEAT_SCHEDULE): move the queued contact-page views into the
    audit log (see contacts/access_log.py)."""
    from contacts.access_log import drain_contact_views

    return drain_contact_views()


# --- derived flags ----------------------------------------------------------------------------


@shared_task(name="contacts.refresh_minor_flags")
def refresh_minor_flags() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): recompute `Contact.is_minor` from the dates of birth,
    since turning sixteen writes nothing to the row (see contacts/services/minors.py)."""
    from contacts.services.minors import refresh_all_minor_flags

    return refresh_all_minor_flags()
