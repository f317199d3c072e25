from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        from imports import (
            jobs,  # noqa: F401  (job handlers)
            personal_data,  # noqa: F401  (registry)
        )
