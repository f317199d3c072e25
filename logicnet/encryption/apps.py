from django.apps import AppConfig


class EncryptionConfig(AppConfig):
    name = "logicnet.encryption"
    label = "encryption"
    verbose_name = "Encryption keys"

    def ready(self) -> None:
        from logicnet.encryption import checks  # noqa: F401  (registers the master-key check)
