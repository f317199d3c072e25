"""The retention sweep's job, its worker killed with SIGKILL after the first committed batch:
the next attempt finishes the sweep, and no row is done twice (marked `faults`, as
tests/test_faults.py, whose worker fixture it uses)."""

from __future__ import annotations

import datetime
import signal

import pytest
from django.conf import settings
from django.utils import timezone

from contacts.models import Contact
from logicnet.audit.models import AuditEvent
from logicnet.jobs.models import Job
from logicnet.jobs.tasks import requeue_stalled_jobs
from logicnet.tenancy.context import tenant_context
from retention.services.settings import set_retention_period
from retention.services.sweep import start_sweep
from tests import fault_jobs
from tests.test_faults import _job, wait_for, worker_process  # noqa: F401  (the fixture)

pytestmark = pytest.mark.faults
BATCH = 5


def test_a_worker_killed_mid_sweep_resumes_with_nothing_lost_or_done_twice(worker_process, tmp_path, org_a, alice):  # noqa: F811
    from logicnet.celery import app

    app.control.purge()
    long_ago = timezone.now() - datetime.timedelta(days=800)
    with tenant_context(org_a):
        Contact.objects.bulk_create(
            [Contact(organization=org_a, first_name=f"Person {i}", updated_at=long_ago) for i in range(23)]
        )
        contact_ids = sorted(Contact.objects.values_list("pk", flat=True))
    set_retention_period(organization=org_a, actor=alice, rule="contact", period_days=365)
    job = start_sweep(organization_id=org_a.pk, actor=alice)
    with tenant_context(org_a):  # the same handler, with a pause for the kill, in small batches
        Job.objects.filter(pk=job.pk).update(kind=fault_jobs.RETENTION_KIND, params={"batch_size": BATCH})

    first = worker_process("first")
    wait_for(lambda: _job(org_a, job.pk).progress_done > 0, "the first batch", log=tmp_path / "first.log")
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    with tenant_context(org_a):
        assert Contact.objects.filter(first_name="").count() == BATCH  # the committed batch stays

    resend = timezone.now() - datetime.timedelta(seconds=settings.JOB_RESEND_AFTER_SECONDS + 60)
    with tenant_context(org_a):
        Job.objects.filter(pk=job.pk).update(
            lease_expires_at=timezone.now() - datetime.timedelta(seconds=1), sent_at=resend
        )
    assert requeue_stalled_jobs() == 1
    worker_process("second")
    finished = wait_for(
        lambda: (found := _job(org_a, job.pk)).is_finished and found, "the sweep to finish", log=tmp_path / "second.log"
    )
    assert (finished.state, finished.attempts) == (Job.State.SUCCEEDED, 2), finished.error
    assert finished.result["rows"] == len(contact_ids) - BATCH  # the rest, not the batch done before

    with tenant_context(org_a):
        assert not Contact.objects.exclude(first_name="").exists()
        assert set(Contact.objects.values_list("version", flat=True)) == {2}  # each anonymised once
        batches = [e.details["ids"] for e in AuditEvent.objects.filter(action="retention.anonymise").order_by("pk")]
    assert sorted(i for ids in batches for i in ids) == contact_ids
    assert len(batches) == 5  # one event per committed batch: 5 + 5 + 5 + 5 + 3
