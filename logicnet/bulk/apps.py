from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BulkConfig(AppConfig):
    name = "logicnet.bulk"
    label = "bulk"
    verbose_name = _("Bulk writes")
    default_auto_field = "django.db.models.BigAutoField"
