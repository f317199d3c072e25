from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = _("Retention")

    def ready(self) -> None:
        from retention import checks  # noqa: F401  (system checks)
        from retention.services import sweep  # noqa: F401  (job handler)
