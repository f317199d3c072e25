from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "logicnet.audit"
    label = "audit"
    verbose_name = "Audit log"
