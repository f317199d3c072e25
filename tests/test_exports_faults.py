"""An export whose worker is killed mid-file (SIGKILL, a real process) restarts cleanly: the
next attempt deletes the dead one's partial file and writes every row exactly once."""

from __future__ import annotations

import csv
import io
import signal
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from contacts.models import Contact
from exports.sealed import read_sealed
from exports.services import export_path
from logicnet.jobs.models import Job
from logicnet.jobs.services import start_job
from logicnet.jobs.tasks import requeue_stalled_jobs
from logicnet.tenancy.context import tenant_context
from tests import fault_jobs
from tests.test_faults import _job, wait_for, worker_process  # noqa: F401 - the fixture

pytestmark = pytest.mark.faults


def test_a_worker_killed_mid_export_restarts_cleanly(worker_process, tmp_path, org_a, alice):  # noqa: F811
    from logicnet.celery import app

    app.control.purge()
    with tenant_context(org_a):
        Contact.objects.bulk_create([Contact(organization=org_a, first_name=f"Persoana {i}") for i in range(30)])
        contact_ids = sorted(Contact.objects.values_list("pk", flat=True))
    job = start_job(
        organization=org_a,
        actor=alice,
        kind=fault_jobs.EXPORT_KIND,
        params={"list": "contacts", "filter": {}, "format": "csv", "bom": False, "page_size": 10},
    )
    final = export_path(org_a.pk, job.pk)
    first_partial = final.with_name(f"{final.name}.attempt-1.partial")

    first = worker_process("first")
    wait_for(lambda: _job(org_a, job.pk).progress_done == 10, "the first page", log=tmp_path / "first.log")
    assert first_partial.exists() and not final.exists()
    first.send_signal(signal.SIGKILL)
    first.wait(30)

    long_ago = timezone.now() - timedelta(seconds=settings.JOB_RESEND_AFTER_SECONDS + 60)
    with tenant_context(org_a):
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1), sent_at=long_ago)
    assert requeue_stalled_jobs() == 1

    worker_process("second")
    finished = wait_for(
        lambda: (found := _job(org_a, job.pk)).is_finished and found,
        "the export to finish",
        log=tmp_path / "second.log",
    )
    assert (finished.state, finished.attempts) == (Job.State.SUCCEEDED, 2), finished.error
    assert finished.result["rows"] == 30
    assert not first_partial.exists()  # the dead attempt's file is gone
    assert not list(final.parent.glob(f"{final.name}.attempt-*"))
    with tenant_context(org_a):
        content = b"".join(read_sealed(final, organization_id=org_a.pk, name=f"export-{job.pk}"))
    rows = list(csv.reader(io.StringIO(content.decode())))[1:]
    assert sorted(int(row[0]) for row in rows) == contact_ids  # every row once
