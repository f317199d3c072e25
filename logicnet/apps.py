from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class LogicnetConfig(AppConfig):
    name = "logicnet"
    verbose_name = _("Logicnet platform")

    def ready(self) -> None:
        from django.apps import apps
        from django.db.models.signals import post_migrate

        from logicnet import (
            checks,  # noqa: F401  (registers the project's system checks)
            lookups,  # noqa: F401  (field__any: a list as one array parameter)
        )
        from logicnet.tenancy.rls import sync_database_security

        # Runs after every migrate, so a new tenant model gets its row-level security policy
        # and the application role its grants without anyone remembering a migration.
        # Connected for one app only: post_migrate fires once per installed app that has
        # models (this one has none), and every app's tables exist by the time any fires.
        post_migrate.connect(sync_database_security, sender=apps.get_app_config("audit"), dispatch_uid="logicnet-rls")


class LogicnetAdminConfig(AdminConfig):
    # The Django admin requires a verified second factor (django-otp's OTPAdminSite).
    default_site = "logicnet.admin_site.LogicnetAdminSite"
