"""The member-list export: the first real background job, proving the path end to end.

An export file is personal data in plaintext outside the database (names and email
addresses): it is kept for EXPORT_RETENTION after the job finished, then deleted by a
beat-scheduled sweep (GDPR Art. 5(1)(e), storage limitation). The page says until when."""

from __future__ import annotations

import csv
import logging
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from accounts.selectors import members_of
from logicnet.files import delete_files_older_than
from logicnet.jobs.registry import job_handler
from logicnet.spreadsheet import safe_cell
from logicnet.tenancy.context import tenant_context

MEMBER_EXPORT = "accounts.export_members"


log = logging.getLogger(__name__)


def export_path(job) -> Path:
    return Path(settings.EXPORTS_DIR) / str(job.organization_id) / f"job-{job.pk}.csv"


def export_expires_at(job) -> datetime | None:
    """When the job's file is (or was) deleted; None while it is not finished."""
    return job.finished_at + settings.EXPORT_RETENTION if job.finished_at else None


def export_available(job) -> bool:
    from django.utils import timezone

    expires_at = export_expires_at(job)
    return expires_at is not None and timezone.now() < expires_at and export_path(job).exists()


def delete_expired_exports(*, now: float | None = None) -> int:
    """Delete every export file (and abandoned partial file) older than EXPORT_RETENTION.
    Returns how many it deleted."""
    deleted = delete_files_older_than(Path(settings.EXPORTS_DIR), "*/job-*", settings.EXPORT_RETENTION, now=now)
    if deleted:
        log.info("deleted %d expired export files", deleted)
    return deleted


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
            writer.writerow([safe_cell(name), safe_cell(email), role, timezone.localdate(created_at).isoformat()])
            if index % 500 == 0 or index == total:
                report(index, total)
    partial.replace(path)  # a crash mid-write never leaves a half file under the final name
    return {"filename": f"members-{organization.slug}.csv", "rows": total}
