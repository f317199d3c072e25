"""Answering access, portability and erasure requests end to end through the services the
desk calls: packages built by the job from the registry, sealed at rest, delivered by a link
mailed over real SMTP; erasure previewed, confirmed against that preview, executed by the
job, recorded in the ledger and the suppression list, and replayed after a restore."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from django.db import connection

from contacts.models import Contact
from contacts.services.contacts import update_contact
from logicnet.audit.services import verify_audit_log
from logicnet.jobs.models import Job
from logicnet.jobs.services import execute_job
from logicnet.tenancy.context import tenant_context
from privacy.models import ErasureRecord, PrivacyRequest, RequestEvent, Right, Suppression
from privacy.services import fulfilment
from privacy.services.requests import RequestError, confirm_identity, submit_request
from tests import subject_data as s
from tests.factories import make_organization
from tests.test_erasure_engine import _traces


@pytest.fixture(autouse=True)
def private_dirs(settings, tmp_path):
    settings.PRIVACY_PACKAGES_DIR = tmp_path / "packages"
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"


def answered_request(organization, actor, contact, rights):
    request = submit_request(
        organization=organization,
        rights=rights,
        email=s.EMAIL,
        channel=PrivacyRequest.Channel.STAFF,
        actor=actor,
    )
    return confirm_identity(request, contact=contact, actor=actor)


def run(job: Job) -> Job:
    execute_job(organization_id=job.organization_id, job_id=job.pk, final_attempt=True)
    with tenant_context(job.organization_id):
        job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    return job


def fresh(request: PrivacyRequest) -> PrivacyRequest:
    with tenant_context(request.organization_id):
        return PrivacyRequest.objects.get(pk=request.pk)


def event_kinds(request: PrivacyRequest) -> list[str]:
    with tenant_context(request.organization_id):
        return list(
            RequestEvent.objects.filter(request=request).order_by("created_at", "pk").values_list("kind", flat=True)
        )


def test_the_access_package_holds_the_subject_and_nobody_else(
    platform_db, client, org_a, org_b, alice, charlie, mailbox
):
    made = s.make_subject(org_a, alice, interactions=3)
    s.make_subject(org_b, charlie)  # the same person's name in another organization: never in A's package
    request = answered_request(org_a, alice, made["contact"], [Right.ACCESS])
    job = run(fulfilment.start_package(request, kind=Right.ACCESS, actor=alice))
    assert fresh(request).status == PrivacyRequest.Status.COMPLETED
    assert job.result["rows"] > 5 and job.percent == 100

    # Sealed at rest: the file on disk does not hold the person's values.
    path = fulfilment.package_path(org_a.pk, request.pk, Right.ACCESS)
    assert s.EMAIL not in path.read_text() and s.LAST not in path.read_text()

    assert fulfilment.send_download_link(fresh(request))
    mail = [m for to, m in mailbox.messages if to == [s.EMAIL] and "download" in m["Subject"]]
    assert mail, [m["Subject"] for _to, m in mailbox.messages]
    link = re.search(r"https?://\S+/download/\S+/", mail[-1].get_content()).group(0)
    response = client.get(link.split("://", 1)[1].split("/", 1)[1].join(["/", ""]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert {"data.json", "index.html", "schema.json"} <= set(archive.namelist())
    document = archive.read("data.json").decode()
    data = json.loads(document)
    assert data["kind"] == "contact" and data["subject_id"] == made["contact"].pk
    assert s.EMAIL in document and s.EXTRA_EMAIL in document and s.SOLO_INTERACTION[1] in document
    # The people the subject met are "another person", and B's copy is not here.
    for other in s.OTHERS:
        assert other["last_name"] not in document and other["email"] not in document
    assert "ANSPDCP" in document and data["information"]["purposes"]
    assert any(name.startswith("tables/") for name in archive.namelist())
    assert "package_downloaded" in event_kinds(request)
    # A forged or foreign link is a 404.
    assert client.get(f"/p/{org_b.slug}/privacy/download/{link.rstrip('/').rsplit('/', 1)[1]}/").status_code == 404


def test_portability_holds_only_what_the_person_provided(platform_db, org_a, alice):
    made = s.make_subject(org_a, alice)
    request = answered_request(org_a, alice, made["contact"], [Right.PORTABILITY])
    run(fulfilment.start_package(request, kind=Right.PORTABILITY, actor=alice))
    content, _summary = fulfilment.build_package(made["contact"], kind=Right.PORTABILITY, organization=org_a)
    document = zipfile.ZipFile(io.BytesIO(content)).read("data.json").decode()
    assert s.EMAIL in document
    assert s.NOTE.split()[1] not in document, "staff notes are not provided by the person"


def test_an_erasure_is_refused_when_the_data_changed_since_the_preview(org_a, alice):
    made = s.make_subject(org_a, alice)
    request = answered_request(org_a, alice, made["contact"], [Right.ERASURE])
    plan, fingerprint = fulfilment.erasure_preview(request)
    assert plan["steps"] and s.EMAIL not in json.dumps(plan)
    _again, same = fulfilment.erasure_preview(request)
    assert same == fingerprint
    update_contact(
        organization=org_a, actor=alice, contact=made["contact"], data={"job_title": "Other"}, expected_version=None
    )
    with pytest.raises(RequestError, match="changed since the preview"):
        fulfilment.start_erasure(request, fingerprint=fingerprint, actor=alice)


def test_the_erasure_preview_counts_the_persons_other_requests_not_this_one(org_a, alice):
    made = s.make_subject(org_a, alice)
    earlier = answered_request(org_a, alice, made["contact"], [Right.ACCESS])
    request = answered_request(org_a, alice, made["contact"], [Right.ERASURE])
    plan, _fingerprint = fulfilment.erasure_preview(request)
    rows = {step["model"]: step["rows"] for step in plan["steps"]}
    # The erasure job detaches this request and keeps it as the proof of the answer.
    assert rows["privacy.PrivacyRequest"] == 1
    with tenant_context(org_a):
        assert rows["privacy.RequestEvent"] == RequestEvent.objects.filter(request=earlier).count()


def test_erasure_end_to_end_leaves_no_trace_and_is_replayed_after_a_restore(platform_db, alice, mailbox, eager_tasks):
    organization = make_organization("Zorvexquill Trading", owner=alice)
    made = s.make_subject(organization, alice)
    contact = made["contact"]
    request = answered_request(organization, alice, contact, [Right.ERASURE])
    _plan, fingerprint = fulfilment.erasure_preview(request)
    job = fulfilment.start_erasure(request, fingerprint=fingerprint, actor=alice)
    run(job)
    # Run again (a worker killed after it finished the work): nothing breaks, nothing is redone.
    fulfilment.erasure_job(job, lambda done, total: None)

    assert _traces(organization, s.IDENTIFYING) == []
    with tenant_context(organization):
        assert not Contact.objects.filter(pk=contact.pk).exists()
        record = ErasureRecord.objects.get(contact_id_erased=contact.pk)
        assert record.counts["erased"]["deleted"]["contacts.Contact"] == 1
        assert Suppression.objects.filter(organization=organization).count() == 4
        answered = PrivacyRequest.objects.get(pk=request.pk)
        assert answered.status == PrivacyRequest.Status.COMPLETED and answered.email == ""
    assert fulfilment.is_suppressed(organization, email_index=contact.email_index)
    assert "erased" in event_kinds(request) and "completed" in event_kinds(request)
    # The person was told, before their address was blanked.
    assert any(to == [s.EMAIL] and "answered" in m["Subject"] for to, m in mailbox.messages)
    assert verify_audit_log().intact

    # A backup restored from before the erasure brings the row back; the ledger erases it again.
    with tenant_context(organization), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_contact (id, organization_id, first_name, last_name, email, email_label, phone,"
            " phone_label, is_minor, job_title, notes, status, preferred_language, source, source_detail,"
            " source_date, custom, created_at, updated_at, version, email_index, phone_index, name_tokens,"
            " external_id, external_id_index)"
            " SELECT %s, organization_id, first_name, last_name, email, email_label, phone, phone_label, is_minor,"
            " job_title, notes, status, preferred_language, source, source_detail, source_date, custom, created_at,"
            " updated_at, version, '', phone_index, name_tokens, external_id, external_id_index"
            " FROM contacts_contact WHERE id = %s",
            [contact.pk, made["others"][0].pk],
        )
    assert fulfilment.replay_erasures(organization) == 1
    with tenant_context(organization):
        assert not Contact.objects.filter(pk=contact.pk).exists()
    assert fulfilment.replay_erasures(organization) == 0
