from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BreachesConfig(AppConfig):
    name = "breaches"
    verbose_name = _("Personal data breaches")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from breaches import jobs  # noqa: F401  (job handlers)
        from breaches.security import close_platform_tables

        # After logicnet's own post_migrate (connected for the audit app, installed earlier),
        # which grants the application role every table: take the platform's tables back.
        post_migrate.connect(close_platform_tables, sender=self, dispatch_uid="breaches-platform-tables")
