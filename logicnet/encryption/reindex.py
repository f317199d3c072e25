"""Bringing an organization's stored values and search columns up to the current scheme.

Run after a deploy that changes how values are stored or indexed, and by a job whenever the
organization's country changes (it reads national phone numbers). For each row of every
model with encrypted fields, in primary-key batches (each its own short transaction, rows
locked, so the application keeps working and a rerun resumes where it stopped):
1. a phone number still stored in a national format is rewritten in E.164, read in the
   organization's current country;
2. a value still in the unpadded v1 format is sealed again, padded (crypto.pad);
3. the search columns (blind indexes, prefix tokens) are computed again, and written only
   when they differ (the token tables follow through their triggers).
Rows already current are read and left alone, so running it twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from logicnet import normalize
from logicnet.encryption import crypto
from logicnet.encryption.fields import (
    EncryptedPhoneField,
    Sealed,
    derived_fields_of,
    encrypted_fields_of,
    reseal,
    write_resealed,
)
from logicnet.encryption.reencryption import encrypted_models
from logicnet.jobs.registry import job_handler
from logicnet.tenancy.context import tenant_context

REINDEX_JOB = "encryption.reindex"

Progress = Callable[[int, int], None]


def _unpadded(row, fields) -> bool:
    for field in fields:
        value = row.__dict__.get(field.attname)
        if isinstance(value, Sealed) and not crypto.is_padded(value.token):
            return True
    return False


def _national_phones_to_e164(row, phones, country: str) -> bool:
    """Rewrites the row's phones that are not E.164 yet; True when one changed. A value that
    does not read as a number is left as it is (its index keeps matching it by digits)."""
    changed = False
    for field in phones:
        value = getattr(row, field.attname)
        if value and not value.startswith("+"):
            try:
                normal = normalize.to_e164(value, country)
            except normalize.InvalidPhoneNumber:
                continue
            setattr(row, field.attname, normal)
            changed = True
    return changed


def _refresh(row, encrypted, phones, derived, country: str) -> bool:
    """Brings one row up to date in memory; True when it must be written."""
    loaded = {field.attname: row.__dict__.get(field.attname) for field in encrypted}
    if _national_phones_to_e164(row, phones, country) or _unpadded(row, encrypted):
        reseal(row)  # every value sealed again (padded), and its search columns computed
        return True
    changed = False
    for field in derived:
        value = field.compute(row)
        if value != row.__dict__.get(field.attname):
            setattr(row, field.attname, value)
            changed = True
    # Computing decrypted the sources into the row: put the loaded ciphertexts back, which
    # is what gets written for values that did not change.
    row.__dict__.update(loaded)
    return changed


def reindex_organization(organization, *, batch_size: int = 500, progress: Progress | None = None) -> dict:
    """Steps in the module docstring. Returns {model label: rows rewritten}."""
    # Fresh, not a cached copy: the country is what the re-index is for.
    organization = type(organization).objects.get(pk=organization.pk)
    models = encrypted_models()
    with tenant_context(organization):
        totals = {model: model._base_manager.filter(organization=organization).count() for model in models}
    total, done, rewritten = sum(totals.values()), 0, {}
    for model in models:
        encrypted = encrypted_fields_of(model)
        phones = [f for f in encrypted if isinstance(f, EncryptedPhoneField)]
        derived = derived_fields_of(model)
        last_pk, count = 0, 0
        while True:
            with tenant_context(organization), transaction.atomic():
                rows = list(
                    model._base_manager.filter(organization=organization, pk__gt=last_pk)
                    .order_by("pk")
                    .select_for_update()[:batch_size]
                )
                if not rows:
                    break
                for row in rows:
                    row.organization = organization  # its country, without a query per row
                stale = [row for row in rows if _refresh(row, encrypted, phones, derived, organization.country)]
                write_resealed(model, stale)
            last_pk, count, done = rows[-1].pk, count + len(stale), done + len(rows)
            if progress is not None:
                progress(done, total)
        rewritten[model._meta.label] = count
    return rewritten


@job_handler(REINDEX_JOB)
def run_reindex(job, report: Progress) -> dict:
    """The job the organization's country change starts (accounts.services)."""
    rewritten = reindex_organization(job.organization, progress=report)
    return {"rewritten": {label: n for label, n in rewritten.items() if n}}
