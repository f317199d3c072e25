from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PersonalDataConfig(AppConfig):
    name = "logicnet.personal_data"
    label = "personal_data"
    verbose_name = _("Personal data registry")

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from logicnet.personal_data import checks, policy, third_party  # noqa: F401  (register)

        # Each app classifies its own models in <app>/personal_data.py, next to them.
        autodiscover_modules("personal_data")
