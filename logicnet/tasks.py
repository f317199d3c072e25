"""Platform-level periodic tasks."""

from celery import shared_task
from celery.signals import worker_ready

from logicnet.health import record_worker_heartbeat


@shared_task(name="logicnet.heartbeat")
def heartbeat() -> None:
    record_worker_heartbeat()


@worker_ready.connect
def _heartbeat_on_start(**kwargs) -> None:
    record_worker_heartbeat()
