"""A job kind for the fault tests, importable by a Celery worker started as a subprocess:
tags every contact of an organization, a batch at a time, each batch in its own transaction.

The work is idempotent and resumable: each batch picks the contacts still lacking the tag,
so an attempt that follows a dead one continues where the committed work ends. On its first
attempt the handler stops inside the transaction of batch `pause_at_batch` (its rows written,
not committed) and waits there for the test to kill its worker: a kill mid-batch, reached
by waiting on the database, not on a clock.
"""

from __future__ import annotations

import time

from accounts.models import Organization
from contacts.models import Contact, ContactTag, Tag
from contacts.services.bulk import tag_contacts
from logicnet.jobs.registry import job_handler
from logicnet.tenancy.context import tenant_context

KIND = "tests.tag_in_batches"
BATCH = 5
PAUSE_LIMIT_SECONDS = 120  # a worker the test forgot to kill still ends


@job_handler(KIND)
def tag_in_batches(job, report) -> dict:
    with tenant_context(job.organization_id):
        organization = Organization.objects.get(pk=job.organization_id)
        tag = Tag.objects.get(pk=job.params["tag_id"])
        total = Contact.objects.count()
    batch_number = 0
    while True:
        batch_number += 1
        with tenant_context(organization):  # one transaction per batch
            tagged = ContactTag.objects.filter(tag=tag).values_list("contact_id", flat=True)
            todo = list(Contact.objects.exclude(pk__in=tagged).order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not todo:
                break
            tag_contacts(organization=organization, actor=None, selection=Contact.objects.filter(pk__in=todo), tag=tag)
            done = ContactTag.objects.filter(tag=tag).count()
            if job.attempts == 1 and batch_number == job.params["pause_at_batch"]:
                report(done, total)  # committed at once (a second connection): the test's signal
                time.sleep(PAUSE_LIMIT_SECONDS)
                raise RuntimeError("the fault test did not kill this worker")
        report(done, total)
    return {"tagged": done}


# --- the privacy desk's erasure, stopped after its first committed batch ----------------------------

ERASURE_KIND = "tests.privacy_erasure_pausing"


@job_handler(ERASURE_KIND)
def privacy_erasure_pausing(job, report) -> dict:
    """The real erasure handler (privacy.services.fulfilment.erasure_job); on its first attempt
    it waits, after the first batch the engine committed, for the test to kill its worker."""
    from privacy.services.fulfilment import erasure_job

    def pausing(done: int, total: int) -> None:
        report(done, total)  # committed at once: the test's signal
        if job.attempts == 1:
            time.sleep(PAUSE_LIMIT_SECONDS)
            raise RuntimeError("the fault test did not kill this worker")

    return erasure_job(job, pausing)


# --- the retention sweep, stopped after its first committed batch ----------------------------------

RETENTION_KIND = "tests.retention_sweep_pausing"


@job_handler(RETENTION_KIND)
def retention_sweep_pausing(job, report) -> dict:
    """The real sweep handler (retention.services.sweep.sweep_job); on its first attempt it
    waits, after the first batch it committed, for the test to kill its worker."""
    from retention.services.sweep import sweep_job

    def pausing(done: int, total: int) -> None:
        report(done, total)  # committed at once: the test's signal
        if job.attempts == 1 and done > 0:
            time.sleep(PAUSE_LIMIT_SECONDS)
            raise RuntimeError("the fault test did not kill this worker")

    return sweep_job(job, pausing)


# --- an export, stopped after its first page --------------------------------------------------------

EXPORT_KIND = "tests.export_pausing"


@job_handler(EXPORT_KIND)
def export_pausing(job, report) -> dict:
    """The real export handler (exports.services.run_export) in pages of `page_size`; on its
    first attempt it waits, after its first page was written, for the test to kill its worker."""
    from exports.registry import export_list
    from exports.services import run_export

    export_list(job.params["list"]).page_size = job.params["page_size"]

    def pausing(done: int, total: int) -> None:
        report(done, total)  # committed at once: the test's signal
        if job.attempts == 1 and 0 < done < total:
            time.sleep(PAUSE_LIMIT_SECONDS)
            raise RuntimeError("the fault test did not kill this worker")

    return run_export(job, pausing)
