"""Beat jobs of the audit log: sealing every few seconds, retention once a day."""

from celery import shared_task

from logicnet.audit.services import drop_expired_audit_events, seal_audit_log


@shared_task(name="audit.seal_audit_log")
def seal_audit_log_task() -> int:
    return seal_audit_log().sealed


@shared_task(name="audit.drop_expired_audit_events")
def drop_expired_audit_events_task() -> int:
    return drop_expired_audit_events()
