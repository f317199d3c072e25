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

import binascii
import datetime
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.db.models import F, Func, QuerySet, TextField, Value
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from exports.personal_data import CRM_EXPORT_FILE
from exports.registry import Column, ExportList, export_list
from exports.sealed import SealedWriter, read_sealed
from exports.writers import WRITERS
from logicnet.audit.services import record_event
from logicnet.encryption import crypto
from logicnet.encryption.fields import EncryptedMixin, Sealed
from logicnet.encryption.keys import organization_keys
from logicnet.files import delete_files_older_than
from logicnet.jobs.models import Job
from logicnet.jobs.registry import job_handler
from logicnet.jobs.services import start_job
from logicnet.personal_data.registry import registry
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Actor, Role

log = logging.getLogger(__name__)

EXPORT_JOB = "exports.export"
# The registry's rule (exports/personal_data.py), which the retention page shows.
EXPORT_RETENTION = registry.retention[CRM_EXPORT_FILE].duration
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
            # The language of the page that asked: headers and labels in the file follow it.
            params={
                "list": list_key,
                "filter": params,
                "format": file_format,
                "bom": bool(bom),
                "language": translation.get_language() or settings.LANGUAGE_CODE,
            },
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
#
# Measured on a million contacts, the ORM's own path (model instances, or even values() with
# its converters) spends more time building Python objects than decrypting: a datetime parsed
# per timestamp, a Sealed wrapper per ciphertext, a dict per row. So the engine compiles the
# ORM queryset (visibility and filter stay the list's own) and reads plain tuples through the
# connection's cursor: ciphertexts as text, timestamps formatted by PostgreSQL in local time,
# tag names aggregated by PostgreSQL (a column's `expression`), which works on its own core
# while Python decrypts. Every column of a page is then handled as one list.


class LocalTime(Func):
    """A timestamp as local wall-clock text, formatted by PostgreSQL."""

    template = "to_char(timezone(%(expressions)s), 'YYYY-MM-DD HH24:MI:SS')"
    output_field = TextField()


class TokenDecryptor:
    """Decrypts a column of stored ciphertexts (text tokens) with one organization's keys:
    the descriptor's work (fields.decrypt_sealed) without a model instance or a Sealed
    wrapper per value. Any failure falls back to that path, which raises the project's
    DecryptionError naming the model and field (never the value)."""

    def __init__(self, field, organization_id: int, *, memo: bool = False) -> None:
        self.field = field
        self.organization_id = organization_id
        self.label = field.model_label
        self.memo: dict[str, object] | None = {} if memo else None
        # Text fields decode to str; the others (dates, JSON) through the field.
        self.decode = (
            None if type(field).decode_plaintext is EncryptedMixin.decode_plaintext else field.decode_plaintext
        )
        self._keys: dict[str, tuple] = {}

    def _key_for(self, head: str, entry) -> tuple:
        """(AESGCM, associated data, padded) for a token's `v1.<version>` or `v2.<version>` head."""
        found = self._keys.get(head)
        if found is None:
            fmt, _dot, version_text = head.partition(".")
            version = int(version_text)
            aead = entry.aeads.get(version)
            if aead is None:
                aead = organization_keys(self.organization_id, need_version=version).aead(version)
            padded = fmt == crypto.PADDED_FORMAT
            name = self.field.padded_field if padded else self.field.name
            aad = crypto.value_associated_data(self.organization_id, self.label, name, version)
            found = self._keys[head] = (aead, aad, padded)
        return found

    def column(self, tokens, entry) -> list:
        out = []
        append = out.append
        memo, decode, a2b = self.memo, self.decode, binascii.a2b_base64
        keys, key_for = self._keys, self._key_for
        marker = crypto.PAD_MARKER
        empty = None if decode else ""
        for token in tokens:
            if not token:
                append(empty)
                continue
            if memo is not None:
                found = memo.get(token)
                if found is not None:
                    append(found)
                    continue
            try:
                cut = token.index(".", 3)
                head = token[:cut]
                aead, aad, padded = keys.get(head) or key_for(head, entry)
                blob = a2b(token[cut + 1 :], strict_mode=True)
                plaintext = aead.decrypt(blob[:12], blob[12:], aad)
                if padded:
                    plaintext = plaintext[: plaintext.rindex(marker)]
                value = plaintext.decode() if decode is None else decode(plaintext)
            except Exception:
                value = self._slow(token)
            if memo is not None:
                memo[token] = value
            append(value)
        return out

    def _slow(self, token: str):
        class _Row:
            organization_id = self.organization_id

        return self.field.decrypt_sealed(_Row(), Sealed(token))


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
    """Decrypt, in place, the encrypted fields among `paths` of value dicts read through the
    ORM (values(): ciphertexts arrive as Sealed). For the small side queries of `prepare`
    hooks. Call inside the organization's tenant context."""
    decryptors = cache.setdefault("_side_decryptors", {})
    entry = organization_keys(organization_id)
    for path in paths:
        key = (model, path)
        if key not in decryptors:
            field = _final_field(model, path)
            decryptors[key] = TokenDecryptor(field, organization_id) if getattr(field, "encrypted", False) else None
        decryptor = decryptors[key]
        if decryptor is None or not rows:
            continue
        tokens = [row[path].token if isinstance(row[path], Sealed) else row[path] for row in rows]
        for row, value in zip(rows, decryptor.column(tokens, entry), strict=True):
            row[path] = value


@dataclass
class _Select:
    """One selected value: its name in the row, how it is read, what turns it into a cell."""

    name: str
    expression: object  # a field path (str) or an ORM expression
    decryptor: TokenDecryptor | None = None
    json: bool = False


def _plan(spec: ExportList, columns: list[Column], organization_id: int) -> list[_Select]:
    from django.db.models import DateTimeField, JSONField

    tz = timezone.get_current_timezone_name()
    wanted = [c.key for c in columns if c.value is None and c.expression is None] + list(spec.fields)
    wanted += [path for c in columns for path in c.needs]
    plan = [_Select(c.key, c.expression) for c in columns if c.expression is not None]
    for path in dict.fromkeys(wanted):
        field = _final_field(spec.model, path)
        if getattr(field, "encrypted", False):
            plan.append(_Select(path, path, decryptor=TokenDecryptor(field, organization_id, memo="__" in path)))
        elif isinstance(field, DateTimeField):
            plan.append(_Select(path, LocalTime(Value(tz), F(path))))
        else:
            plan.append(_Select(path, path, json=isinstance(field, JSONField)))
    return plan


def _read_page(queryset: QuerySet, plan: list[_Select], order: str, position, page_size: int) -> list[tuple]:
    """Plain tuples: (pk, keyset text, *plan values), in keyset order, after `position`."""
    annotations = {f"export_{i}": s.expression for i, s in enumerate(plan) if not isinstance(s.expression, str)}
    names = [s.expression if isinstance(s.expression, str) else f"export_{i}" for i, s in enumerate(plan)]
    page = queryset.annotate(export_key=Cast(order, TextField()), **annotations)
    if position is not None:
        page = page.filter(TupleGreaterThan(Tuple(F(order), F("pk")), position))
    page = page.order_by(order, "pk").values_list("pk", "export_key", *names)[:page_size]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _decrypt_page(tuples: list[tuple], plan: list[_Select], organization_id: int) -> list[list]:
    """The page's columns: the primary key, then one list per plan entry, decrypted."""
    columns = list(zip(*tuples, strict=True))
    entry = organization_keys(organization_id)
    values = [columns[0]]
    for index, select in enumerate(plan, start=2):
        column = columns[index]
        if select.decryptor is not None:
            column = select.decryptor.column(column, entry)
        elif select.json:
            column = [json.loads(v) if v is not None else None for v in column]
        values.append(column)
    return values


class _ReadAhead:
    """Reads the next page on a second connection while this one decrypts and writes the
    current page, so PostgreSQL (on its own core) and Python work at the same time. Only
    outside a transaction (a worker): inside one (an eager call, a test) a second
    connection would not see the uncommitted rows, and pages are read in line instead."""

    def __init__(self, enabled: bool) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-read") if enabled else None

    def submit(self, func, *args):
        if self.pool is None:
            return _Done(func(*args))
        return self.pool.submit(func, *args)

    def close(self) -> None:
        if self.pool is not None:
            # The thread's own connection goes with it (Django opens one per thread).
            self.pool.submit(connections.close_all).result()
            self.pool.shutdown()


class _Done:
    def __init__(self, value) -> None:
        self.value = value

    def result(self):
        return self.value


def iterate_pages(spec: ExportList, queryset: QuerySet, plan: list[_Select], organization_id: int, context: dict):
    """Pages of rows (dicts) in (created_at, id) order, decrypted and prepared. Each page is
    one short transaction in the tenant context: no transaction stays open for the whole
    export (it would hold back vacuum on a busy table for a minute)."""
    order = spec.order_field
    names = ["pk", *(s.name for s in plan)]

    def read(position):
        with tenant_context(organization_id):
            return _read_page(queryset, plan, order, position, spec.page_size)

    reader = _ReadAhead(enabled=not connection.in_atomic_block)
    try:
        tuples = read(None)
        while tuples:
            last = tuples[-1]
            more = len(tuples) == spec.page_size
            upcoming = reader.submit(read, (datetime.datetime.fromisoformat(last[1]), last[0])) if more else None
            with tenant_context(organization_id):
                values = _decrypt_page(tuples, plan, organization_id)
                rows = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
                if spec.prepare:
                    spec.prepare(rows, context)
            yield rows
            tuples = upcoming.result() if upcoming is not None else []
    finally:
        reader.close()


def write_export(*, actor: Actor, spec: ExportList, params: dict, out, file_format: str, bom: bool, report=None) -> int:
    """Write the rows `actor` may see of `spec` under `params` into the binary stream `out`;
    the number of rows. `report(done, total)` is called after every page."""
    organization_id = actor.organization.pk
    with tenant_context(organization_id):
        queryset = spec.queryset(actor, params)
        columns = spec.columns_for(actor, params)
        total = queryset.order_by().count() if report else 0
    plan = _plan(spec, columns, organization_id)
    local_times = {s.name for s in plan if isinstance(s.expression, LocalTime)}
    timestamps = frozenset(
        n for n, c in enumerate(columns) if c.value is None and c.expression is None and c.key in local_times
    )
    writer = WRITERS[file_format](out, bom=bom, title=str(spec.label), timestamps=timestamps)
    writer.header([str(c.label) for c in columns])
    context: dict = {"actor": actor}
    done = 0
    for rows in iterate_pages(spec, queryset, plan, organization_id, context):
        cells = []
        for column in columns:
            if column.value is not None:
                value = column.value
                cells.append([value(row, context) for row in rows])
            else:
                key = column.key
                cells.append([row[key] for row in rows])
        writer.rows(list(zip(*cells, strict=True)))
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
        with translation.override(params.get("language") or settings.LANGUAGE_CODE):
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
    return job.finished_at + EXPORT_RETENTION if job.finished_at else None


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
    """Export files (and abandoned partial ones) older than EXPORT_RETENTION go; files
    alone, no database access (logicnet/files.py)."""
    deleted = delete_files_older_than(Path(settings.EXPORTS_DIR), "*/export-*", EXPORT_RETENTION, now=now)
    if deleted:
        log.info("deleted %d expired CRM export files", deleted)
    return deleted
