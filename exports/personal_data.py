"""The retention of the CRM's export files (exports/): declared here, swept by
exports.tasks.delete_expired_exports. The files themselves are the registry's "export_files"
store (logicnet/personal_data/policy.py); exports keep no table of their own (a job row each)."""

import datetime

from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.registry import define_retention

CRM_EXPORT_FILE = define_retention(
    "crm_export_file",
    _("exports of contacts, companies and interactions: 7 days after the export finished, then the file is deleted"),
    anchor="finished_at",
    duration=datetime.timedelta(days=7),
)
