from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "logicnet.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from logicnet.audit.database import grant_audit_functions

        # After logicnet's own post_migrate step (connected first, in LogicnetConfig.ready),
        # which creates the roles that these grants name.
        post_migrate.connect(grant_audit_functions, sender=self, dispatch_uid="logicnet-audit-grants")
