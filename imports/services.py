"""Imports: upload, mapping, preview, start, the job that writes a batch at a time with its
checkpoint, cancel, revert, and the per-row error report.

The bulk writers (imports/writers.py: prepare_*, write_*, revert_*) are imported when they
are needed, never at module load: the readers, the mapping pages and their tests stand
without them.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import itertools
from collections.abc import Callable, Iterator

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from imports import mapping, readers, storage
from imports.models import Import, SavedMapping
from imports.records import ImportOptions, MatchOn, Mode
from logicnet import normalize
from logicnet.audit.services import record_event
from logicnet.bulk.ahead import prepared_ahead
from logicnet.jobs.services import JobLost, start_job
from logicnet.spreadsheet import safe_cell
from logicnet.tenancy.context import tenant_context

IMPORT_JOB = "imports.run"
REVERT_JOB = "imports.revert"
# Rows per batch (one transaction each, with the checkpoint): the batch's fixed work (staging
# tables, lookups, the audit event, the error file) is spread over more rows, and the
# benchmark (bench_import) writes batches of the same size.
BATCH_SIZE = 5000
# Contact batches are prepared in a thread one batch ahead (logicnet/bulk/ahead.py); the
# benchmark turns it off to show what the thread gives (bench_import --no-ahead).
PREPARE_AHEAD = True
PREVIEW_ROWS = 20


class ImportError_(Exception):
    """A step of the import flow refused; the message is for the user."""


def writers():
    """The bulk writers, imported on first use (a separate module, built beside this app)."""
    from imports import writers as module

    return module


SALES_KINDS = (Import.Kind.DEALS, Import.Kind.TRANSACTIONS)


def writer_functions(kind: str):
    """(prepare, write, revert) of the writer for a kind of import: contacts and companies
    in imports/writers.py, deals and transactions in imports/sales_writers.py."""
    if kind in SALES_KINDS:
        from imports import sales_writers as sales

        if kind == Import.Kind.DEALS:
            return sales.prepare_deals, sales.write_deals, sales.revert_deals
        return sales.prepare_transactions, sales.write_transactions, sales.revert_transactions
    module = writers()
    if kind == Import.Kind.COMPANIES:
        return module.prepare_companies, module.write_companies, module.revert_companies
    return module.prepare_contacts, module.write_contacts, module.revert_contacts


def writers_available() -> bool:
    try:
        writers()
    except ImportError:
        return False
    return True


# --- upload and mapping ------------------------------------------------------------------------


def create_import(*, organization, actor, uploaded, kind: str = Import.Kind.CONTACTS) -> Import:
    """Store the uploaded file encrypted and read it once through; FileProblem (with the
    reason) when it cannot be imported, and then nothing is kept."""
    if uploaded.size and uploaded.size > readers.MAX_BYTES:
        raise readers.FileProblem(_("The file is larger than 200 MB. Split it and import the parts."))
    # one transaction: the row goes with the file when the file cannot be imported (and the
    # organization's data key, which seals and opens the file, is available inside it)
    with tenant_context(organization):
        imp = Import.objects.create(organization=organization, kind=kind, created_by=actor, file_type="")
        try:
            size, chunks = storage.store_upload(organization.pk, imp.pk, uploaded.chunks())
            imp.file_size, imp.file_chunks = size, chunks
            info = readers.inspect(storage.opener_for(imp), uploaded.name or "", size=size)
        except BaseException:
            storage.delete_upload(imp)
            raise
    if info.kind == "vcard":
        kind = Import.Kind.CONTACTS
    elif info.headers and mapping.kind_for(info.headers) != Import.Kind.CONTACTS:
        # the headers say what the file holds (an accounts export, a deals or sales file)
        kind = mapping.kind_for(info.headers)
    imp.kind = kind
    imp.file_type = info.kind
    imp.file_info = info.as_dict()
    imp.detected_export = (
        mapping.detect_export(info.headers)[0] if info.headers else ("vcard" if info.kind == "vcard" else "")
    )
    imp.columns = [c.as_dict() for c in mapping.auto_map(info.headers, kind=kind)] if info.kind != "vcard" else []
    if info.kind == "vcard":
        imp.status = Import.Status.READY
    with tenant_context(organization):
        imp.save(
            update_fields=[
                "kind",
                "file_type",
                "file_size",
                "file_chunks",
                "file_info",
                "detected_export",
                "columns",
                "status",
            ]
        )
        record_event(
            organization=organization,
            actor=actor,
            action="imports.uploaded",
            target=imp,
            details={"rows": info.rows, "file_type": info.kind, "bytes": size},
        )
    return imp


def file_info(imp: Import) -> readers.FileInfo:
    return readers.FileInfo.from_dict(imp.file_info)


def sample_rows(imp: Import, count: int = 3) -> list[readers.Row]:
    """The first rows of a tabular upload (for the mapping page); [] once the file is gone."""
    info = file_info(imp)
    if info.kind == "vcard":
        return []
    try:
        with tenant_context(imp.organization_id):
            return list(itertools.islice(readers.rows(info, storage.opener_for(imp)), count))
    except (OSError, readers.FileProblem):
        return []


def set_mapping(*, imp: Import, actor, columns: list[mapping.Column], kind: str, save_as: str = "") -> Import:
    if imp.status not in (Import.Status.UPLOADED, Import.Status.READY):
        raise ImportError_(_("This import has started: its mapping cannot change."))
    imp.columns = [c.as_dict() for c in columns if c.field]
    imp.kind = kind
    imp.status = Import.Status.READY
    with tenant_context(imp.organization_id):
        imp.save(update_fields=["columns", "kind", "status"])
        if save_as:
            SavedMapping.objects.update_or_create(
                organization_id=imp.organization_id,
                kind=kind,
                name=save_as[:100],
                defaults={"headers": file_info(imp).headers, "columns": imp.columns, "created_by": actor},
            )
    return imp


def saved_mappings_for(imp: Import) -> list[SavedMapping]:
    with tenant_context(imp.organization_id):
        return list(SavedMapping.objects.filter(organization_id=imp.organization_id).order_by("name"))


# --- options, preview, start --------------------------------------------------------------------


def options_of(imp: Import) -> ImportOptions:
    data = imp.options or {}
    return ImportOptions(
        mode=Mode(data.get("mode", Mode.CREATE_UPDATE)),
        match_on=MatchOn(data.get("match_on", MatchOn.EMAIL)),
        tags=list(data.get("tags", [])),
        owner_id=data.get("owner_id"),
        source_detail=data.get("source_detail", ""),
        lawful_basis=data.get("lawful_basis", ""),
    )


def set_options(*, imp: Import, options: ImportOptions) -> Import:
    if imp.status not in (Import.Status.UPLOADED, Import.Status.READY):
        raise ImportError_(_("This import has started: its options cannot change."))
    imp.options = {k: (str(v) if isinstance(v, Mode | MatchOn) else v) for k, v in dataclasses.asdict(options).items()}
    with tenant_context(imp.organization_id):
        imp.save(update_fields=["options"])
    return imp


def read_file(imp: Import) -> tuple[Iterator, Callable[[list], list]]:
    """(items, to_records): the file's items in order, read from the encrypted upload as it
    streams (inside the organization's context: the upload is opened with its key), and the
    function that turns a list of them into records, row by row and touching no database
    (the import job runs it in its preparing thread). A vCard file's items are records."""
    info = file_info(imp)
    opener = storage.opener_for(imp)
    if info.kind == "vcard":
        return readers.vcards(info, opener), list
    columns = mapping.columns_from_json(imp.columns)
    return readers.rows(info, opener), lambda rows: list(mapping.records(rows, columns, kind=imp.kind))


def iter_records(imp: Import) -> Iterator:
    """The file's records in order."""
    items, to_records = read_file(imp)
    for chunk in iter(lambda: list(itertools.islice(items, 1000)), []):
        yield from to_records(chunk)


@dataclasses.dataclass
class PreviewRow:
    line: int
    values: dict
    errors: list[str]
    notes: list[str]
    match: int | None = None


def preview(imp: Import, organization) -> tuple[list[PreviewRow], bool]:
    """The first rows exactly as the writer will store them, with their errors; the flag
    says whether the writer prepared them (False: shown as read, the writer is absent)."""
    with tenant_context(organization):
        records = list(itertools.islice(iter_records(imp), PREVIEW_ROWS))
    if not writers_available():
        return [
            PreviewRow(
                r.line,
                {
                    k: v
                    for k, v in dataclasses.asdict(r).items()
                    if k not in ("line", "problems", "notes_for_user") and v
                },
                list(r.problems),
                list(getattr(r, "notes_for_user", [])),
            )
            for r in records
        ], False
    prepare = writer_functions(imp.kind)[0]
    with tenant_context(organization):
        prepared = {p.line: p for p in prepare(organization, [r for r in records if not r.problems], options_of(imp))}
    rows = []
    for r in records:
        p = prepared.get(r.line)
        errors = list(r.problems) + (list(p.errors) if p else [])
        rows.append(
            PreviewRow(
                r.line,
                dict(p.values) if p else {},
                errors,
                list(getattr(r, "notes_for_user", [])) + list(getattr(p, "notes", []) if p else []),
                p.match if p else None,
            )
        )
    return rows, True


def start_import(*, imp: Import, actor) -> tuple[Import, bool]:
    """Queue the import's job; (import, started). A second submission of the same form
    finds the import already queued and starts nothing (the READY -> QUEUED claim is one
    atomic UPDATE)."""
    with tenant_context(imp.organization_id):
        claimed = Import.objects.filter(pk=imp.pk, status=Import.Status.READY).update(status=Import.Status.QUEUED)
        if claimed:
            job = start_job(organization=imp.organization, actor=actor, kind=IMPORT_JOB, params={"import_id": imp.pk})
            Import.objects.filter(pk=imp.pk).update(job=job)
            record_event(
                organization=imp.organization,
                actor=actor,
                action="imports.started",
                target=imp,
                details={"rows": imp.rows_total, "kind": imp.kind},
            )
        imp.refresh_from_db()
    return imp, bool(claimed)


def cancel_import(*, imp: Import, actor) -> Import:
    with tenant_context(imp.organization_id):
        if Import.objects.filter(
            pk=imp.pk, status__in=[Import.Status.UPLOADED, Import.Status.READY, Import.Status.QUEUED]
        ).update(status=Import.Status.CANCELLED, finished_at=timezone.now(), cancel_requested=True):
            storage.delete_upload(imp)
        else:
            Import.objects.filter(pk=imp.pk, status=Import.Status.RUNNING).update(cancel_requested=True)
        imp.refresh_from_db()
    return imp


def start_revert(*, imp: Import, actor) -> tuple[Import, bool]:
    with tenant_context(imp.organization_id):
        imp.refresh_from_db()
        if not imp.may_revert:
            raise ImportError_(_("This import can no longer be reverted."))
        claimed = Import.objects.filter(pk=imp.pk, status=imp.status).update(status=Import.Status.REVERTING)
        if claimed:
            job = start_job(organization=imp.organization, actor=actor, kind=REVERT_JOB, params={"import_id": imp.pk})
            Import.objects.filter(pk=imp.pk).update(revert_job=job)
        imp.refresh_from_db()
    return imp, bool(claimed)


# --- the job ------------------------------------------------------------------------------------


def _finish(imp_id: int, organization_id: int, status: str) -> None:
    with tenant_context(organization_id):
        imp = Import.objects.get(pk=imp_id)
        now = timezone.now()
        Import.objects.filter(pk=imp_id).update(status=status, finished_at=now, file_deleted_at=now)
        storage.delete_upload(imp)


def settle_failed(imp: Import) -> Import:
    """An import whose job gave up (its last attempt failed) is failed too: its upload goes,
    and what it wrote may be reverted."""
    job = imp.job
    if (
        imp.status in (Import.Status.QUEUED, Import.Status.RUNNING)
        and job is not None
        and job.state == job.State.FAILED
    ):
        with tenant_context(imp.organization_id):
            now = timezone.now()
            if Import.objects.filter(pk=imp.pk, status=imp.status).update(
                status=Import.Status.FAILED, finished_at=job.finished_at or now, file_deleted_at=now
            ):
                storage.delete_upload(imp)
            imp.refresh_from_db()
    return imp


def _match_key(record, match_on: MatchOn, country: str) -> str:
    """The value a record is matched on, in the form the product matches it (normalize.py)."""
    if match_on == MatchOn.EMAIL:
        return normalize.clean_email(record.emails[0].value).lower() if record.emails else ""
    if match_on == MatchOn.PHONE:
        phone = record.phones[0].value if getattr(record, "phones", None) else getattr(record, "phone", "")
        return normalize.phone_match_form(phone, country) if phone else ""
    return (record.external_id or "").strip()


class _FileDuplicates:
    """The first row of the file holding each match key: a later row with the same key is
    skipped as a duplicate inside the file, and said so (keys are kept as 64-bit digests)."""

    def __init__(self, match_on: MatchOn, country: str, *, enabled: bool = True) -> None:
        self.match_on, self.country, self.enabled = match_on, country, enabled
        self.first: dict[int, int] = {}

    def first_line_of(self, record) -> int | None:
        if not self.enabled:
            return None
        key = _match_key(record, self.match_on, self.country)
        if not key:
            return None
        digest = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")
        first = self.first.setdefault(digest, record.line)
        return first if first != record.line else None


@dataclasses.dataclass
class _Batch:
    records: list
    readable: list  # the records given to the writer
    errors: list[dict]  # rows failed or skipped before the writer
    duplicates: int  # rows skipped as duplicates of an earlier row of the file
    unreadable: int  # rows the reader could not read
    prepared: object = None  # what the writer's preparer made of `readable`


def _batch_of(records: list, duplicates: _FileDuplicates) -> _Batch:
    """The rows the writer is given and those it is not (unreadable, or repeating an earlier
    row of the file). Batches come here in file order (`duplicates` remembers)."""
    errors = [{"line": r.line, "action": "failed", "reason": "; ".join(r.problems)} for r in records if r.problems]
    readable = []
    for r in records:
        if r.problems:
            continue
        first = duplicates.first_line_of(r)
        if first is None:
            readable.append(r)
        else:
            reason = _("Duplicate of row %(line)s of this file.") % {"line": first}
            errors.append({"line": r.line, "action": "skipped", "reason": reason})
    unreadable = sum(1 for r in records if r.problems)
    return _Batch(records, readable, errors, len(records) - len(readable) - unreadable, unreadable)


def _read_chunks(organization_id: int, items: Iterator) -> Iterator[list]:
    """The file's items a batch at a time, read inside the organization's context."""
    while True:
        with tenant_context(organization_id):
            chunk = list(itertools.islice(items, BATCH_SIZE))
        if not chunk:
            return
        yield chunk


def run_import(job, report) -> dict:
    """Write the file a batch at a time, each batch and the checkpoint in one transaction.

    A worker killed mid-batch loses that batch's transaction; the next attempt starts after
    the checkpoint, so no row is written twice and none is lost."""
    from accounts.models import Organization

    organization_id, import_id = job.organization_id, job.params["import_id"]
    with tenant_context(organization_id):
        organization = Organization.objects.get(pk=organization_id)
        imp = Import.objects.select_related("created_by").get(pk=import_id)
        if imp.status not in (Import.Status.QUEUED, Import.Status.RUNNING):
            return {"status": imp.status}
        Import.objects.filter(pk=import_id).update(
            status=Import.Status.RUNNING, started_at=imp.started_at or timezone.now()
        )
    write = writer_functions(imp.kind)[1]
    options = options_of(imp)
    actor = imp.created_by
    total = imp.rows_total
    done = imp.checkpoint
    report(done, total)
    # Deals and transactions have no match key: their writer tells repeated rows itself.
    duplicates = _FileDuplicates(options.match_on, organization.country, enabled=imp.kind not in SALES_KINDS)
    items, to_records = read_file(imp)
    if done:
        # a resumed job passes over the rows already written, remembering their keys
        for chunk in _read_chunks(organization_id, itertools.islice(items, done)):
            for record in to_records(chunk):
                if not record.problems:
                    duplicates.first_line_of(record)
    # Each batch is read here and made into records, checked for repeats and prepared for
    # the writer in a thread, a batch ahead, while the batch before it is in the database
    # (logicnet/bulk/ahead.py). One thread, so batches pass `duplicates` in file order.
    with tenant_context(organization_id):
        make_preparer = getattr(writers(), "batch_preparer", None) if imp.kind == Import.Kind.CONTACTS else None
        preparer = make_preparer(organization, options, actor=actor) if make_preparer else None

    def prepare(chunk: list) -> _Batch:
        batch = _batch_of(to_records(chunk), duplicates)
        if preparer is not None:
            batch.prepared = preparer(batch.readable)
        return batch

    for _chunk, batch in prepared_ahead(prepare, _read_chunks(organization_id, items), thread=PREPARE_AHEAD):
        with tenant_context(organization_id):
            current = Import.objects.select_for_update().get(pk=import_id)
            if current.checkpoint != done:
                raise JobLost(f"import {import_id}: another attempt moved the checkpoint")
            if current.cancel_requested:
                break
            readable, errors = batch.readable, list(batch.errors)
            extra = {"prepared": batch.prepared} if batch.prepared is not None else {}
            result = (
                write(organization, readable, options, batch_ref=import_id, actor=actor, **extra) if readable else None
            )
            if result is not None:
                errors += [{"line": o.line, "action": o.action, "reason": o.reason} for o in result.outcomes]
            errors += [
                {"line": r.line, "action": "note", "reason": note}
                for r in readable
                for note in getattr(r, "notes_for_user", [])
            ]
            errors.sort(key=lambda e: e["line"])
            # The error file of a batch is named by its first row, not its number: a job
            # resumed after a change of BATCH_SIZE must not overwrite an earlier batch's file.
            storage.store_errors(organization_id, import_id, done, errors)
            Import.objects.filter(pk=import_id).update(
                checkpoint=done + len(batch.records),
                created_count=F("created_count") + (result.created if result else 0),
                updated_count=F("updated_count") + (result.updated if result else 0),
                skipped_count=F("skipped_count") + (result.skipped if result else 0) + batch.duplicates,
                failed_count=F("failed_count") + (result.failed if result else 0) + batch.unreadable,
            )
        done += len(batch.records)
        report(done, total)
    with tenant_context(organization_id):
        imp = Import.objects.get(pk=import_id)
    status = Import.Status.CANCELLED if imp.cancel_requested and done < total else Import.Status.DONE
    _finish(import_id, organization_id, status)
    with tenant_context(organization_id):
        record_event(
            organization=organization,
            actor=actor,
            action="imports.finished",
            target=imp,
            details={
                "status": str(status),
                "created": imp.created_count,
                "updated": imp.updated_count,
                "skipped": imp.skipped_count,
                "failed": imp.failed_count,
            },
        )
    return {
        "created": imp.created_count,
        "updated": imp.updated_count,
        "skipped": imp.skipped_count,
        "failed": imp.failed_count,
    }


def run_revert(job, report) -> dict:
    from accounts.models import Organization

    organization_id, import_id = job.organization_id, job.params["import_id"]
    with tenant_context(organization_id):
        organization = Organization.objects.get(pk=organization_id)
        imp = Import.objects.select_related("created_by").get(pk=import_id)
        if imp.status != Import.Status.REVERTING:
            return {"status": imp.status}
        revert = writer_functions(imp.kind)[2]
        result = dict(revert(organization, import_id, actor=job.created_by or imp.created_by))
        Import.objects.filter(pk=import_id).update(
            status=Import.Status.REVERTED, reverted_at=timezone.now(), revert_result=result
        )
    report(1, 1)
    return result


# --- the error report ---------------------------------------------------------------------------


def error_report(imp: Import) -> str:
    """The skipped, failed and noted rows as CSV (UTF-8 with a BOM, for Excel)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Outcome"), _("Reason")])
    with tenant_context(imp.organization_id):
        entries = list(storage.read_errors(imp.organization_id, imp.pk))
    for entry in entries:
        writer.writerow([entry["line"], safe_cell(str(entry["action"] or "")), safe_cell(str(entry["reason"] or ""))])
    return out.getvalue()


def eta_seconds(imp: Import) -> int | None:
    if imp.status != Import.Status.RUNNING or not imp.started_at or not imp.checkpoint:
        return None
    elapsed = (timezone.now() - imp.started_at).total_seconds()
    rate = imp.checkpoint / max(elapsed, 0.001)
    return int((imp.rows_total - imp.checkpoint) / rate) if rate else None
