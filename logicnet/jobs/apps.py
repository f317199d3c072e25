from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "logicnet.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
