"""The Celery application: worker and beat. Settings come from Django's CELERY_* settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "logicnet.settings")

app = Celery("logicnet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["logicnet"], related_name="tasks")
