"""The job kinds of imports (logicnet/jobs/registry.py)."""

from imports import services
from logicnet.jobs.registry import job_handler

job_handler(services.IMPORT_JOB)(services.run_import)
job_handler(services.REVERT_JOB)(services.run_revert)
