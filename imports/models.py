"""An import of contacts or companies from a file, and the column mappings people save.

The uploaded file itself lives outside the database, encrypted (imports/storage.py), until
the import ends or for 7 days at most. The rows hold no value of the file: its type, size
and header names, the mapping, the options, the counts and the checkpoint of the job.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logicnet.tenancy.models import TenantModel

REVERT_WINDOW = timedelta(days=30)
UPLOAD_RETENTION = timedelta(days=7)


class Import(TenantModel):
    class Kind(models.TextChoices):
        CONTACTS = "contacts", _("Contacts")
        COMPANIES = "companies", _("Companies")
        DEALS = "deals", _("Deals")
        TRANSACTIONS = "transactions", _("Transactions")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        READY = "ready", _("Ready to import")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        REVERTING = "reverting", _("Reverting")
        REVERTED = "reverted", _("Reverted")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CONTACTS)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    file_type = models.CharField(_("file type"), max_length=8)  # csv, xlsx, vcard, json
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    file_chunks = models.PositiveIntegerField(default=0)  # sealed chunks on disk (storage.py)
    file_info = models.JSONField(default=dict)  # readers.FileInfo: encoding, delimiter, headers, rows
    detected_export = models.CharField(max_length=40, blank=True)
    columns = models.JSONField(default=list)  # mapping.Column entries
    options = models.JSONField(default=dict)  # records.ImportOptions
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, related_name="+")
    revert_job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, related_name="+")
    # Records of the file written and committed, counted from the first: a worker that
    # dies resumes after them (written in the same transaction as the batch).
    checkpoint = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    revert_result = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    file_deleted_at = models.DateTimeField(null=True)
    reverted_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="import_org_created_idx")]

    def __str__(self) -> str:
        return f"import #{self.pk} ({self.status})"

    @property
    def rows_total(self) -> int:
        return int(self.file_info.get("rows", 0))

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED, self.Status.REVERTED}

    @property
    def revert_until(self):
        return self.finished_at + REVERT_WINDOW if self.finished_at else None

    @property
    def may_revert(self) -> bool:
        return (
            self.status in {self.Status.DONE, self.Status.CANCELLED, self.Status.FAILED}
            and self.finished_at is not None
            and timezone.now() < self.finished_at + REVERT_WINDOW
            and (self.created_count or self.updated_count)
        )

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        total = self.rows_total
        return min(100, int(100 * self.checkpoint / total)) if total else 0


class SavedMapping(TenantModel):
    """A column mapping saved under a name, offered again for a file with the same headers."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Import.Kind.choices, default=Import.Kind.CONTACTS)
    headers = models.JSONField(default=list)
    columns = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "name"], name="savedmapping_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
