"""GDPR Art. 19: when a rectification, erasure or restriction is carried out, the recipients
the person's data was disclosed to (named by the registry's purposes for the data held about
them, and exports made by the team) are recorded as told, and the person can ask who they
are from their status page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from logicnet.jobs.models import Job
from logicnet.jobs.services import execute_job
from logicnet.personal_data.registry import registry
from logicnet.tenancy.context import tenant_context
from privacy.models import PrivacyRequest, RequestEvent, Right
from privacy.services import fulfilment
from privacy.services.requests import confirm_identity, status_token, submit_request
from tests import subject_data as s


@pytest.fixture(autouse=True)
def private_dirs(settings, tmp_path):
    settings.PRIVACY_PACKAGES_DIR = tmp_path / "packages"
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"


def _request(organization, actor, contact, rights) -> PrivacyRequest:
    request = submit_request(
        organization=organization,
        rights=rights,
        email=s.EMAIL,
        correction="My job title is Chief Thistlewright.",
        channel=PrivacyRequest.Channel.STAFF,
        actor=actor,
    )
    return confirm_identity(request, contact=contact, actor=actor)


def _told(request) -> list[dict]:
    with tenant_context(request.organization_id):
        return [
            e.details
            for e in RequestEvent.objects.filter(request=request, kind=RequestEvent.Kind.RECIPIENTS_NOTIFIED).order_by(
                "created_at", "pk"
            )
        ]


def test_the_recipients_come_from_the_registry_for_the_data_held(org_a, alice):
    made = s.make_subject(org_a, alice)
    with tenant_context(org_a):
        found = registry.recipients_of("contact", made["contact"])
    names = {entry["name"] for entry in found}
    purpose = registry.purposes["customer_relationships"]
    assert {str(r) for r in purpose.recipients} <= names
    assert {str(p.name) for p in purpose.sub_processors} <= names
    assert all(
        "customer_relationships" in e["purposes"] for e in found if e["name"] in {str(r) for r in purpose.recipients}
    )
    # Logicnet's own processors are named as sub-processors; no personal value anywhere.
    assert any(e["sub_processor"] for e in found)
    assert s.EMAIL not in str(found) and s.LAST not in str(found)


def test_rectification_and_restriction_record_who_was_told(org_a, alice):
    made = s.make_subject(org_a, alice)
    with tenant_context(org_a):
        export = Job.objects.create(organization=org_a, kind="contacts.export", state=Job.State.SUCCEEDED)
        Job.objects.filter(pk=export.pk).update(finished_at=made["contact"].created_at)
    request = _request(org_a, alice, made["contact"], [Right.RECTIFICATION, Right.RESTRICTION])
    fulfilment.apply_rectification(request, data={"job_title": "Chief Thistlewright"}, actor=alice)
    fulfilment.restrict(request, actor=alice)
    told = {details["action"]: details for details in _told(request)}
    assert set(told) == {"rectification", "restriction"}
    rectified = told["rectification"]
    expected = {str(entry["what"]) for entry in fulfilment.recipients_of(request) if entry["job"] is None}
    assert set(rectified["recipients"]) == expected and rectified["exports"] == [export.pk]


def test_erasure_records_the_recipients_before_the_data_goes_and_the_person_can_ask(
    platform_db, client, org_a, org_b, alice, mailbox, eager_tasks
):
    made = s.make_subject(org_a, alice)
    request = _request(org_a, alice, made["contact"], [Right.ERASURE])
    with tenant_context(org_a):
        expected = {str(entry["what"]) for entry in fulfilment.recipients_of(request) if entry["job"] is None}
    _plan, fingerprint = fulfilment.erasure_preview(request)
    job = fulfilment.start_erasure(request, fingerprint=fingerprint, actor=alice)
    execute_job(organization_id=org_a.pk, job_id=job.pk, final_attempt=True)
    (erased,) = _told(request)
    assert erased["action"] == "erasure" and set(erased["recipients"]) == expected and expected

    # The person asks on their status page (after the erasure, their address is gone from the
    # request, but who was told stays: names of recipients, no personal value).
    with tenant_context(org_a):
        token = status_token(PrivacyRequest.objects.get(pk=request.pk))
    url = reverse("privacy_request_status", kwargs={"org_slug": org_a.slug, "token": token})
    page = client.get(url).content.decode()
    assert "Show who was told" in page
    shown = client.post(url, {"show": "recipients"})
    assert shown.status_code == 200
    html = shown.content.decode()
    for name in expected:
        assert str(name).replace("'", "&#x27;") in html
    with tenant_context(org_a):
        assert RequestEvent.objects.filter(request=request, kind=RequestEvent.Kind.RECIPIENTS_SHOWN).exists()
    # Another organization's address does not open the request.
    other = reverse("privacy_request_status", kwargs={"org_slug": org_b.slug, "token": token})
    assert "Show who was told" not in client.post(other, {"show": "recipients"}).content.decode()
