from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """First-run demo data. It writes through every product app's services, so it sits
    above them all: no product app (nor logicnet/) may import it."""

    name = "demo"
    verbose_name = _("Demo data")
