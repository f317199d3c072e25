"""Legal holds (retention/) and the right to erasure: data a hold keeps is not erased at the
person's request (GDPR Art. 17(3)(e)); the desk shows why, the person is told, and once the
hold is released the erasure proceeds."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.services import log_interaction
from contacts.models import Contact
from logicnet.jobs.models import Job
from logicnet.jobs.services import execute_job
from logicnet.tenancy.context import tenant_context
from privacy.models import ErasureRecord, PrivacyRequest, RequestEvent, Right, Suppression
from privacy.services import fulfilment
from privacy.services.requests import RequestError, confirm_identity, status_token, submit_request
from retention.services.settings import place_hold, release_hold
from tests import subject_data as s
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def private_dirs(settings, tmp_path):
    settings.PRIVACY_PACKAGES_DIR = tmp_path / "packages"
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"


def _erasure_request(organization, actor, contact) -> PrivacyRequest:
    request = submit_request(
        organization=organization,
        rights=[Right.ERASURE],
        email=s.EMAIL,
        channel=PrivacyRequest.Channel.STAFF,
        actor=actor,
    )
    return confirm_identity(request, contact=contact, actor=actor)


def _fresh(request) -> PrivacyRequest:
    with tenant_context(request.organization_id):
        return PrivacyRequest.objects.get(pk=request.pk)


def _kinds(request) -> list[str]:
    with tenant_context(request.organization_id):
        return list(
            RequestEvent.objects.filter(request=request).order_by("created_at", "pk").values_list("kind", flat=True)
        )


def _run(job: Job) -> Job:
    execute_job(organization_id=job.organization_id, job_id=job.pk, final_attempt=True)
    with tenant_context(job.organization_id):
        job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    return job


def test_a_held_contact_is_not_erased_the_person_is_told_and_release_lets_it_proceed(
    platform_db, client, org_a, alice, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    made = s.make_subject(org_a, alice)
    contact = made["contact"]
    request = _erasure_request(org_a, alice, contact)
    hold = place_hold(organization=org_a, actor=alice, reference="CASE-17", contact_id=contact.pk)

    _plan, fingerprint = fulfilment.erasure_preview(request)
    assert [h.pk for h in fulfilment.legal_holds_of(request)] == [hold.pk]
    with pytest.raises(RequestError, match=r"17\(3\)\(e\)"):
        fulfilment.start_erasure(request, fingerprint=fingerprint, actor=alice)

    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.withhold_erasure(request, actor=alice)
    assert _fresh(request).status == PrivacyRequest.Status.AWAITING_APPROVAL  # still open
    assert "erasure_withheld" in _kinds(request)
    (message,) = [m for to, m in mailbox.messages if to == [s.EMAIL] and "kept for now" in m["Subject"]]
    body = message.get_payload()
    assert "kept for now" in message["Subject"] and "17(3)(e)" in body and "CASE-17" not in body
    with tenant_context(org_a):
        assert Contact.objects.filter(pk=contact.pk).exists()
        token = status_token(PrivacyRequest.objects.get(pk=request.pk))
    # The person's status page says so too.
    status_page = client.get(reverse("privacy_request_status", kwargs={"org_slug": org_a.slug, "token": token}))
    assert "17(3)(e)" in status_page.content.decode()

    release_hold(organization=org_a, actor=alice, hold_id=hold.pk)
    assert fulfilment.legal_holds_of(request) == []
    with pytest.raises(RequestError):
        fulfilment.withhold_erasure(request, actor=alice)  # nothing holds it any more
    _plan, fingerprint = fulfilment.erasure_preview(request)
    _run(fulfilment.start_erasure(request, fingerprint=fingerprint, actor=alice))
    with tenant_context(org_a):
        assert not Contact.objects.filter(pk=contact.pk).exists()
    assert _fresh(request).status == PrivacyRequest.Status.COMPLETED


def test_a_hold_on_an_interaction_the_person_takes_part_in_keeps_them_too(org_a, alice):
    made = s.make_subject(org_a, alice)
    contact = made["contact"]
    shared = log_interaction(
        organization=org_a,
        actor=alice,
        kind="call",
        occurred_at=timezone.now(),
        subject="Dispute",
        body="",
        contacts=[contact, made["others"][0]],
    )
    request = _erasure_request(org_a, alice, contact)
    place_hold(organization=org_a, actor=alice, reference="CASE-18", interaction_id=shared.pk)
    assert len(fulfilment.legal_holds_of(request)) == 1
    other = _erasure_request(org_a, alice, made["others"][1])
    assert fulfilment.legal_holds_of(other) == []  # a hold names nobody else


def test_a_hold_placed_after_confirmation_stops_the_job(platform_db, org_a, alice):
    made = s.make_subject(org_a, alice)
    contact = made["contact"]
    request = _erasure_request(org_a, alice, contact)
    _plan, fingerprint = fulfilment.erasure_preview(request)
    job = fulfilment.start_erasure(request, fingerprint=fingerprint, actor=alice)
    place_hold(organization=org_a, actor=alice, reference="CASE-19", contact_id=contact.pk)
    job = _run(job)
    assert job.result["withheld_by_holds"]
    with tenant_context(org_a):
        assert Contact.objects.filter(pk=contact.pk).exists()
        # No ledger entry (a restore must not erase it) and no suppression of a kept person.
        assert not ErasureRecord.objects.filter(contact_id_erased=contact.pk).exists()
        assert not Suppression.objects.filter(organization=org_a).exists()
    assert _fresh(request).status == PrivacyRequest.Status.AWAITING_APPROVAL
    assert _kinds(request)[-1] == "erasure_withheld"


def test_the_desk_shows_the_hold_and_tells_the_person(client, org_a, alice, charlie, mailbox, eager_tasks):
    made = s.make_subject(org_a, alice)
    request = _erasure_request(org_a, alice, made["contact"])
    place_hold(organization=org_a, actor=alice, reference="CASE-20", contact_id=made["contact"].pk)
    client.login(email=alice.email, password=PASSWORD)
    page = client.get(reverse("privacy_desk_request", kwargs={"org_slug": org_a.slug, "request_id": request.pk}))
    html = page.content.decode()
    assert "17(3)(e)" in html and "CASE-20" in html and f'/requests/{request.pk}/erasure/"' not in html
    preview = client.get(reverse("privacy_erasure_preview", kwargs={"org_slug": org_a.slug, "request_id": request.pk}))
    assert "erasure-held" in preview.content.decode()
    assert "erasure/confirm/" not in preview.content.decode()
    confirm = reverse("privacy_erasure_confirm", kwargs={"org_slug": org_a.slug, "request_id": request.pk})
    assert client.post(confirm, {"fingerprint": "x"}, follow=True).status_code == 200
    with tenant_context(org_a):
        assert Contact.objects.filter(pk=made["contact"].pk).exists()
    withhold = reverse("privacy_erasure_withhold", kwargs={"org_slug": org_a.slug, "request_id": request.pk})
    assert client.post(withhold).status_code == 302
    assert _fresh(request).status == PrivacyRequest.Status.AWAITING_APPROVAL
    client.logout()
    client.login(email=charlie.email, password=PASSWORD)
    assert client.post(withhold).status_code == 404
