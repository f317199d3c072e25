import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


def _flush_encryption_counts(**kwargs) -> None:
    from logicnet.encryption.keys import flush_encryption_counts

    try:
        flush_encryption_counts()
    except Exception:
        # Never fail a finished request or task over a counter; the counts stay pending.
        logger.exception("could not flush the data-key encryption counts; they stay pending")


class EncryptionConfig(AppConfig):
    name = "logicnet.encryption"
    label = "encryption"
    verbose_name = _("Encryption keys")

    def ready(self) -> None:
        from celery.signals import task_postrun
        from django.core.signals import request_finished

        from logicnet.encryption import checks, reindex  # noqa: F401  (the master-key check, the re-index job)

        # Encryption counts are added to the key rows when a request or a task ends
        # (see keys.count_encryption), outside the writers' transactions.
        request_finished.connect(_flush_encryption_counts, dispatch_uid="encryption-counts-request")
        task_postrun.connect(_flush_encryption_counts, dispatch_uid="encryption-counts-task", weak=False)
