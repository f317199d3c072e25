"""The Celery application: worker and beat. Settings come from Django's CELERY_* settings."""

import os
import sys

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "logicnet.settings")
# Both get the platform role's database alias (settings.LOGICNET_PROCESS), used only inside
# an explicit platform_bypass; their sweeps find work through narrow id functions and then
# work organization by organization as the application role.
os.environ.setdefault("LOGICNET_PROCESS", "beat" if "beat" in sys.argv[1:] else "worker")

app = Celery("logicnet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["logicnet"], related_name="tasks")
