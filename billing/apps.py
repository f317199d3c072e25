from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from announcements.services import register_plan_audience
        from billing import tasks  # noqa: F401  (Celery tasks)
        from billing.selectors import organizations_on_plan

        register_plan_audience(organizations_on_plan)
