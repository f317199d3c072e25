"""The member-list export: the first real background job, proving the path end to end."""

from __future__ import annotations

import csv
from pathlib import Path

from django.conf import settings

from accounts.selectors import members_of
from logicnet.jobs.registry import job_handler
from logicnet.tenancy.context import tenant_context

MEMBER_EXPORT = "accounts.export_members"


def export_path(job) -> Path:
    return Path(settings.EXPORTS_DIR) / str(job.organization_id) / f"job-{job.pk}.csv"


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ (or tab/CR) is a formula to Excel and LibreOffice
    # (CSV injection); a leading apostrophe makes it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@job_handler(MEMBER_EXPORT)
def export_members(job, report) -> dict:
    from accounts.models import Organization

    with tenant_context(job.organization_id):
        organization = Organization.objects.get(pk=job.organization_id)
        rows = list(members_of(organization).values_list("user__full_name", "user__email", "role", "created_at"))
    path = export_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    # One scratch file per attempt: a stale attempt still writing cannot clobber a newer one.
    partial = path.with_suffix(f".attempt-{job.attempts}.partial")
    total = len(rows)
    with partial.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email", "role", "member_since"])
        for index, (name, email, role, created_at) in enumerate(rows, start=1):
            writer.writerow([_safe_cell(name), _safe_cell(email), role, created_at.date().isoformat()])
            if index % 500 == 0 or index == total:
                report(index, total)
    partial.replace(path)  # a crash mid-write never leaves a half file under the final name
    return {"filename": f"members-{organization.slug}.csv", "rows": total}
