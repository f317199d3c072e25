from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = _("Exports")

    def ready(self) -> None:
        from exports import services  # noqa: F401 - registers the job handler
        from exports.lists import register_crm_lists

        register_crm_lists()
