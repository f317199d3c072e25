"""The Celery application: worker and beat. Settings come from Django's CELERY_* settings."""

import os
import sys

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "logicnet.settings")
# Neither the worker nor beat gets the platform role's database alias: their cross-tenant
# scans go through narrow id functions, then work organization by organization.
os.environ.setdefault("LOGICNET_PROCESS", "beat" if "beat" in sys.argv[1:] else "worker")

app = Celery("logicnet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["logicnet"], related_name="tasks")
