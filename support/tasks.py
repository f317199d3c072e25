"""Thin Celery adapters for support: ids in, services do the work."""

from celery import shared_task


@shared_task(name="support.notify_answer", acks_late=True)
def notify_answer(message_id: int, user_id: int) -> bool:
    from support.services.requests import mail_answer_notice

    return mail_answer_notice(message_id=message_id, user_id=user_id)


@shared_task(name="support.delete_orphan_screenshots")
def delete_orphan_screenshots() -> int:
    from support.services.requests import delete_orphan_screenshots as sweep

    return sweep()
