from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EncryptionConfig(AppConfig):
    name = "logicnet.encryption"
    label = "encryption"
    verbose_name = _("Encryption keys")

    def ready(self) -> None:
        from logicnet.encryption import checks, reindex  # noqa: F401  (the master-key check, the re-index job)
