"""Exports of the CRM's lists: started by a member, run as a job, sealed at rest, audited.

1. `start_export` records the list, the filter (the list page's own query parameters) and
   the format in a job, and audits who asked for which filter (no personal value: a typed
   company name stays sealed in its token, and the audit names it only as "sealed").
2. The job (`run_export`) rebuilds the actor from the creator's membership, so a member
   whose role or visibility changed meanwhile gets what they may see now; asks the list's
   registration (exports/registry.py) for the rows the actor may see under that filter;
   walks them in keyset pages on (created_at, id); decrypts each page's encrypted columns in
   one pass; streams the rows through the CSV or XLSX writer into a sealed file.
3. The file is downloadable by its creator for EXPORT_RETENTION (7 days), each download
   audited; a beat sweep deletes it afterwards (GDPR Art. 5(1)(e)).

A worker killed mid-export leaves a partial file under its attempt's name; the next attempt
deletes it and starts again from the first row. A sealed stream (and a zip) cannot be
continued from a checkpoint without rewriting it, and a whole export takes under a minute
at a million rows, so starting over is both simpler and no slower in practice.
"""

from __future__ import annotations

import datetime
import logging
import time
from pathlib import Path

from django.conf import settings
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from exports.registry import Column, ExportList, export_list
from exports.sealed import SealedWriter, read_sealed
from exports.writers import WRITERS
from logicnet.audit.services import record_event
from logicnet.encryption import crypto
from logicnet.encryption.keys import organization_keys
from logicnet.files import delete_files_older_than
from logicnet.jobs.models import Job
from logicnet.jobs.registry import job_handler
from logicnet.jobs.services import start_job
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Actor, Role

log = logging.getLogger(__name__)

EXPORT_JOB = "exports.export"
FORMATS = tuple(WRITERS)
# Who may start an export: a member and above. A read-only member may look but not copy
# the organization's data out in bulk (the same line the lists draw: read-only members
# make no writes but filters, and starting an export is a job and a file of personal data).
EXPORT_ROLE = Role.MEMBER
SEALED_FILTER_PARAMS = {"company_q"}  # contacts.forms_lists.COMPANY_NAME_PARAM: a sealed personal value


class ExportError(Exception):
    pass


def may_export(actor: Actor) -> bool:
    return actor.user is not None and actor.at_least(EXPORT_ROLE)


def export_path(organization_id: int, job_id: int) -> Path:
    return Path(settings.EXPORTS_DIR) / str(organization_id) / f"export-{job_id}.sealed"


def _sealed_name(job_id: int) -> str:
    return f"export-{job_id}"


def filter_for_audit(params: dict[str, list[str]]) -> dict[str, list[str]]:
    """The filter as the audit log keeps it: every parameter, with sealed personal values
    named only as sealed."""
    return {key: (["(sealed)"] if key in SEALED_FILTER_PARAMS else list(values)) for key, values in params.items()}


def clean_filter(params) -> dict[str, list[str]]:
    """A JSON-safe {name: [values]} of at most 50 parameters of 50 values each."""
    found: dict[str, list[str]] = {}
    for key, values in list((params or {}).items())[:50]:
        values = values if isinstance(values, list | tuple) else [values]
        kept = [str(v)[:500] for v in values if v not in (None, "")][:50]
        if kept:
            found[str(key)[:64]] = kept
    return found


def start_export(*, actor: Actor, list_key: str, params: dict, file_format: str, bom: bool = False) -> Job:
    """Queue an export of `list_key` under the list page's filter `params`, for `actor`."""
    if not may_export(actor):
        raise ExportError(_("Your role does not allow exports."))
    try:
        export_list(list_key)
    except KeyError:
        raise ExportError(_("This list cannot be exported.")) from None
    if file_format not in FORMATS:
        raise ExportError(_("Choose CSV or XLSX."))
    organization = actor.organization
    params = clean_filter(params)
    with tenant_context(organization):
        job = start_job(
            organization=organization,
            actor=actor.user,
            kind=EXPORT_JOB,
            params={"list": list_key, "filter": params, "format": file_format, "bom": bool(bom)},
        )
        record_event(
            action="export.started",
            actor=actor.user,
            organization=organization,
            target=job,
            details={"list": list_key, "format": file_format, "filter": filter_for_audit(params)},
        )
    return job


# --- the engine ----------------------------------------------------------------------------------


class _Decryptor:
    """Decrypts one column of a page: the descriptor's work (fields.decrypt_sealed) without
    a model instance per value. Any failure falls back to that path, which raises the
    project's DecryptionError naming the model and field (never the value)."""

    def __init__(self, field, organization_id: int, *, memo: bool = False) -> None:
        self.field = field
        self.organization_id = organization_id
        self.label = field.model_label
        self.memo: dict[str, object] | None = {} if memo else None

    def column(self, values: list, entry) -> list:
        out = []
        append = out.append
        memo = self.memo
        organization_id, label, field = self.organization_id, self.label, self.field
        padded_field, name = field.padded_field, field.name
        aads: dict[tuple[int, bool], bytes] = {}
        decode = field.decode_plaintext
        for sealed in values:
            if sealed is None or sealed == "":
                append(sealed if sealed is not None else None)
                continue
            token = sealed.token
            if memo is not None and token in memo:
                append(memo[token])
                continue
            try:
                version, blob = crypto.parse_token(token)
                padded = token[1:2] == "2"
                aad = aads.get((version, padded))
                if aad is None:
                    aad = crypto.value_associated_data(
                        organization_id, label, padded_field if padded else name, version
                    )
                    aads[(version, padded)] = aad
                plaintext = entry.aeads[version].decrypt(blob[:12], blob[12:], aad)
                if padded:
                    plaintext = plaintext[: plaintext.rindex(crypto.PAD_MARKER)]
                value = decode(plaintext)
            except Exception:
                value = self._slow(sealed)
            if memo is not None:
                memo[token] = value
            append(value)
        return out

    def _slow(self, sealed):
        class _Row:
            pass

        row = _Row()
        row.organization_id = self.organization_id
        return self.field.decrypt_sealed(row, sealed)


def _final_field(model, path: str):
    """The model field a values() path ends on (`company__name`: Company.name)."""
    if path == "pk":
        return model._meta.pk
    current = model
    parts = path.split("__")
    for part in parts[:-1]:
        current = current._meta.get_field(part).related_model
    return current._meta.get_field(parts[-1])


def decrypt_rows(rows: list[dict], paths: list[str], model, organization_id: int, cache: dict) -> None:
    """Decrypt, in place, the encrypted fields among `paths` of a page of value dicts.
    Call inside the organization's tenant context (the key is handed out only there)."""
    decryptors = cache.setdefault("_decryptors", {})
    for path in paths:
        if path not in decryptors:
            field = _final_field(model, path)
            decryptors[path] = (
                _Decryptor(field, organization_id, memo="__" in path) if getattr(field, "encrypted", False) else None
            )
    entry = None
    for path in paths:
        decryptor = decryptors[path]
        if decryptor is None or not rows:
            continue
        if entry is None:
            entry = organization_keys(organization_id)
            versions = {crypto.token_version(r[path].token) for r in rows if r[path] and hasattr(r[path], "token")}
            missing = [v for v in versions if v is not None and v not in entry.aeads]
            if missing:
                entry = organization_keys(organization_id, need_version=missing[0])
        values = decryptor.column([row[path] for row in rows], entry)
        for row, value in zip(rows, values, strict=True):
            row[path] = value


def iterate_pages(spec: ExportList, queryset: QuerySet, paths: list[str], organization_id: int, context: dict):
    """Pages of value dicts in (created_at, id) order, decrypted and prepared. Each page is
    one short transaction in the tenant context: no transaction stays open for the whole
    export (it would hold back vacuum on a busy table for a minute)."""
    order = spec.order_field
    wanted = list(dict.fromkeys(["pk", order, *paths]))
    position = None
    while True:
        with tenant_context(organization_id):
            page = queryset
            if position is not None:
                page = page.filter(TupleGreaterThan(Tuple(F(order), F("pk")), position))
            rows = list(page.order_by(order, "pk").values(*wanted)[: spec.page_size])
            if not rows:
                return
            decrypt_rows(rows, wanted, spec.model, organization_id, context)
            if spec.prepare:
                spec.prepare(rows, context)
        position = (rows[-1][order], rows[-1]["pk"])
        yield rows
        if len(rows) < spec.page_size:
            return


def column_paths(spec: ExportList, columns: list[Column]) -> list[str]:
    return list(dict.fromkeys([c.key for c in columns if c.value is None] + list(spec.fields)))


def write_export(*, actor: Actor, spec: ExportList, params: dict, out, file_format: str, bom: bool, report=None) -> int:
    """Write the rows `actor` may see of `spec` under `params` into the binary stream `out`;
    the number of rows. `report(done, total)` is called after every page."""
    organization_id = actor.organization.pk
    with tenant_context(organization_id):
        queryset = spec.queryset(actor, params)
        columns = spec.columns_for(actor)
        total = queryset.order_by().count() if report else 0
    writer = WRITERS[file_format](out, bom=bom, title=str(spec.label))
    writer.header([str(c.label) for c in columns])
    context: dict = {"actor": actor}
    paths = column_paths(spec, columns)
    getters = [(c.value, c.key) for c in columns]
    done = 0
    for rows in iterate_pages(spec, queryset, paths, organization_id, context):
        writer.rows([[value(row, context) if value else row[key] for value, key in getters] for row in rows])
        done += len(rows)
        if report:
            report(done, max(total, done))
    writer.close()
    if report:
        report(done, done)
    return done


def _creator_actor(job: Job) -> Actor | None:
    from accounts.models import Membership

    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(organization_id=job.organization_id, user_id=job.created_by_id)
        .first()
    )
    return Actor.from_membership(membership) if membership else None


@job_handler(EXPORT_JOB)
def run_export(job: Job, report) -> dict:
    params = job.params
    with tenant_context(job.organization_id):
        actor = _creator_actor(job)
    if actor is None or not may_export(actor):
        # The member left or lost the role since: nothing is written.
        raise ExportError("the member who started the export may no longer export")
    spec = export_list(params["list"])
    path = export_path(job.organization_id, job.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f"{path.name}.attempt-*.partial"):
        stale.unlink(missing_ok=True)  # an earlier attempt killed mid-write
    partial = path.with_name(f"{path.name}.attempt-{job.attempts}.partial")
    started = time.perf_counter()
    with tenant_context(job.organization_id):
        out = SealedWriter(partial, organization_id=job.organization_id, name=_sealed_name(job.pk))
    try:
        rows = write_export(
            actor=actor,
            spec=spec,
            params=params.get("filter") or {},
            out=out,
            file_format=params["format"],
            bom=params.get("bom", False),
            report=report,
        )
        out.close()
    except BaseException:
        out.discard()
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)  # a crash mid-write never leaves a file under the final name
    elapsed = time.perf_counter() - started
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"{spec.key}-{actor.organization.slug}-{stamp}.{params['format']}"
    with tenant_context(job.organization_id):
        record_event(
            action="export.finished",
            actor=actor.user,
            organization=actor.organization,
            target=job,
            details={
                "list": spec.key,
                "format": params["format"],
                "filter": filter_for_audit(params.get("filter") or {}),
                "rows": rows,
            },
        )
    return {"rows": rows, "filename": filename, "bytes": out.plaintext_bytes, "seconds": round(elapsed, 2)}


# --- the files ------------------------------------------------------------------------------------


def expires_at(job: Job) -> datetime.datetime | None:
    return job.finished_at + settings.CRM_EXPORT_RETENTION if job.finished_at else None


def available(job: Job) -> bool:
    until = expires_at(job)
    return (
        job.state == Job.State.SUCCEEDED
        and until is not None
        and timezone.now() < until
        and export_path(job.organization_id, job.pk).exists()
    )


def exports_of(actor: Actor, limit: int = 100) -> list[Job]:
    """The actor's own exports, newest first (call inside the tenant context)."""
    jobs = list(
        Job.objects.filter(organization=actor.organization, kind=EXPORT_JOB, created_by=actor.user).order_by(
            "-created_at"
        )[:limit]
    )
    for job in jobs:
        decorate(job)
    return jobs


def decorate(job: Job) -> Job:
    job.export_available = available(job)
    job.export_expires_at = expires_at(job)
    try:
        job.export_label = export_list(job.params.get("list", "")).label
    except KeyError:
        job.export_label = job.params.get("list", "")
    return job


def get_export_for(actor: Actor, job_id: int) -> Job:
    """An export the actor may open: their own, or any of the organization's for its admins
    and owners (who see every contact anyway: contacts.access.sees_all_contacts). Anyone
    else's, or another organization's, is a 404."""
    jobs = Job.objects.filter(organization=actor.organization, kind=EXPORT_JOB, pk=job_id)
    if not actor.at_least(Role.ADMIN):
        jobs = jobs.filter(created_by=actor.user)
    job = jobs.first()
    if job is None:
        raise Http404
    return decorate(job)


def open_download(actor: Actor, job: Job, *, ip_address: str | None = None):
    """(filename, content type, iterator of plaintext chunks) of a ready export; Http404
    once it expired. The first chunk is decrypted here, inside the tenant context (the key
    is handed out only there); every download is audited."""
    if not available(job):
        raise Http404
    chunks = read_sealed(
        export_path(job.organization_id, job.pk), organization_id=job.organization_id, name=_sealed_name(job.pk)
    )
    first = next(chunks, b"")
    record_event(
        action="export.downloaded",
        actor=actor.user,
        organization=actor.organization,
        target=job,
        ip_address=ip_address,
        details={"list": job.params.get("list"), "rows": job.result.get("rows")},
    )

    def stream():
        yield first
        yield from chunks

    content_type = WRITERS[job.params.get("format", "csv")].content_type
    return job.result.get("filename", f"export-{job.pk}"), content_type, stream()


def delete_expired_exports(*, now: float | None = None) -> int:
    """Export files (and abandoned partial ones) older than CRM_EXPORT_RETENTION go; files
    alone, no database access (logicnet/files.py)."""
    deleted = delete_files_older_than(Path(settings.EXPORTS_DIR), "*/export-*", settings.CRM_EXPORT_RETENTION, now=now)
    if deleted:
        log.info("deleted %d expired CRM export files", deleted)
    return deleted
