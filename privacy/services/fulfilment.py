"""Answering the rights, derived from the personal-data registry (GDPR Art. 15-21).

- Access and portability: a job builds a package (JSON with a documented schema, a
  readable HTML page, one CSV per table) from `logicnet.personal_data.access`, encrypted at
  rest with the organization's key, kept PACKAGE_RETENTION, handed out through a link mailed
  to the person's address (so each download re-confirms it), each download audited.
- Erasure: a preview from the registry (`logicnet.personal_data.erasure.plan`), confirmed
  by staff against that very preview (refused when the data changed since, as pretix's
  shredder does), then a resumable job; a ledger entry without personal data, suppression
  digests so imports and forms do not bring the person back, audit entries redacted, not
  deleted, and a confirmation to the person before the request's own copy of their
  address is blanked.
- Restriction (Art. 18): the contact is stored, not processed; lifting it tells the person
  first (Art. 18(3)).
- Rectification (Art. 16, 19): staff apply the correction through the contact services;
  the recipients the data went to are listed and told.
- Objection (Art. 21): to direct marketing, immediate and absolute; to other processing, a
  staff decision with reasons.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logicnet.audit.services import record_event
from logicnet.encryption.keys import decrypt_value, encrypt_value
from logicnet.files import delete_files_older_than
from logicnet.jobs.models import Job
from logicnet.jobs.registry import job_handler
from logicnet.jobs.services import start_job
from logicnet.personal_data.registry import registry
from logicnet.tenancy.context import tenant_context
from privacy.models import ErasureRecord, PrivacyRequest, RequestEvent, Right, Suppression
from privacy.services.requests import (
    RequestError,
    locked_request,
    queue_request_mail,
    require_open,
    send_request_mail,
    timeline_event,
    touch_request,
)
from privacy.services.suppression import suppress_contact, unsuppress_contact

log = logging.getLogger(__name__)

Status = PrivacyRequest.Status
Event = RequestEvent.Kind

PACKAGE_JOB = "privacy.package"
ERASURE_JOB = "privacy.erasure"
PACKAGE_KINDS = (Right.ACCESS, Right.PORTABILITY)
# The registry's rule (logicnet/personal_data/policy.py), which the retention page shows.
PACKAGE_RETENTION = registry.retention["data_package"].duration
DOWNLOAD_LINK_VALID = datetime.timedelta(hours=72)
_DOWNLOAD_SALT = "privacy.package.download"
_PACKAGE_LABEL = "privacy.package"


def _require_subject(request: PrivacyRequest):
    """The request's contact, read afresh (call inside the tenant context)."""
    from contacts.models import Contact

    contact = None
    if request.contact_id is not None:
        contact = Contact.objects.filter(organization_id=request.organization_id, pk=request.contact_id).first()
    if contact is None:
        raise RequestError(_("Confirm who the person is first: choose the matching contact."))
    return contact


# --- access and portability ------------------------------------------------------------------------


def package_path(organization_id: int, request_id: int, kind: str) -> Path:
    return Path(settings.PRIVACY_PACKAGES_DIR) / str(organization_id) / f"request-{request_id}-{kind}.zip.sealed"


def start_package(request: PrivacyRequest, *, kind: str, actor) -> Job:
    """Staff approved: build the access (or portability) package in the background."""
    if kind not in PACKAGE_KINDS:
        raise RequestError(_("Choose access or portability."))
    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        require_open(request)
        _require_subject(request)
        request.status = Status.IN_PROGRESS
        touch_request(request, "status")
        job = start_job(
            organization=request.organization,
            actor=actor,
            kind=PACKAGE_JOB,
            params={"request_id": request.pk, "kind": kind},
        )
        timeline_event(request, Event.APPROVED, actor=actor, right=kind)
        timeline_event(request, Event.JOB_STARTED, actor=actor, job=job.pk, right=kind)
        record_event(
            action="privacy.package_started",
            actor=actor,
            organization=request.organization,
            target=request,
            details={"reference": request.reference, "right": kind, "job": job.pk},
        )
    return job


def build_package(contact, *, kind: str, organization, report=None) -> tuple[bytes, dict]:
    """The zip (bytes) and a summary without personal data (tables and row counts). Call it
    outside a tenant context: the registry's reader opens its own."""
    from logicnet.personal_data import access

    provided_only = kind == Right.PORTABILITY
    data = access.collect("contact", contact, provided_only=provided_only)
    if report:
        report(1, 3)
    content, summary = access.to_zip(data)
    if report:
        report(2, 3)
    return content, summary


@job_handler(PACKAGE_JOB)
def package_job(job, report) -> dict:
    kind = job.params["kind"]
    with tenant_context(job.organization_id):
        request = PrivacyRequest.objects.select_related("organization").get(pk=job.params["request_id"])
        contact = _require_subject(request)
    content, summary = build_package(contact, kind=kind, organization=request.organization, report=report)
    with tenant_context(job.organization_id):
        sealed = encrypt_value(job.organization_id, _PACKAGE_LABEL, f"request-{request.pk}-{kind}", content)
    path = package_path(job.organization_id, request.pk, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".attempt-{job.attempts}.partial")
    partial.write_text(sealed, encoding="ascii")
    partial.replace(path)
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic(), tenant_context(job.organization_id):
        request = locked_request(request)
        if request.status == Status.IN_PROGRESS:
            request.status = Status.COMPLETED
            request.closed_at = timezone.now()
            touch_request(request, "status", "closed_at")
        timeline_event(request, Event.PACKAGE_READY, right=kind, job=job.pk, sha256=digest, **summary)
        timeline_event(request, Event.COMPLETED, right=kind)
        transaction.on_commit(lambda: queue_request_mail(request, "completed"))
    report(3, 3)
    return {"request_id": request.pk, "kind": kind, "bytes": len(content), "sha256": digest, **summary}


def ready_packages(request: PrivacyRequest) -> list[dict]:
    """The packages of a request that can still be downloaded: kind, size and until when."""
    found = []
    for kind in PACKAGE_KINDS:
        path = package_path(request.organization_id, request.pk, kind)
        if path.exists():
            made = datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC)
            if made + PACKAGE_RETENTION > timezone.now():
                found.append({"kind": kind, "made_at": made, "expires_at": made + PACKAGE_RETENTION})
    return found


def download_token(request: PrivacyRequest, kind: str) -> str:
    return signing.dumps({"o": request.organization_id, "r": request.pk, "k": kind}, salt=_DOWNLOAD_SALT)


def send_download_link(request: PrivacyRequest) -> bool:
    """The person asked for their package: the link goes to the confirmed address."""
    if not ready_packages(request) or request.email_confirmed_at is None:
        return False
    return send_request_mail(organization_id=request.organization_id, request_id=request.pk, kind="download")


def open_download(organization, token: str) -> tuple[PrivacyRequest, str, bytes] | None:
    """The package a download link names, decrypted; None when the link is forged, expired,
    of another organization, or the package is gone. Every download is audited."""
    try:
        data = signing.loads(token, salt=_DOWNLOAD_SALT, max_age=DOWNLOAD_LINK_VALID)
    except signing.BadSignature:
        return None
    if data.get("o") != organization.pk or data.get("k") not in PACKAGE_KINDS:
        return None
    with tenant_context(organization):
        request = PrivacyRequest.objects.filter(organization=organization, pk=data.get("r")).first()
        if request is None:
            return None
        path = package_path(organization.pk, request.pk, data["k"])
        if not any(p["kind"] == data["k"] for p in ready_packages(request)):
            return None
        content = decrypt_value(organization.pk, _PACKAGE_LABEL, f"request-{request.pk}-{data['k']}", path.read_text())
        timeline_event(request, Event.PACKAGE_DOWNLOADED, right=data["k"])
        record_event(
            action="privacy.package_downloaded",
            organization=organization,
            target=request,
            details={"reference": request.reference, "right": data["k"]},
        )
    return request, data["k"], content


def delete_expired_packages(*, now: float | None = None) -> int:
    """Packages older than PACKAGE_RETENTION go (files alone; no database access)."""
    return delete_files_older_than(Path(settings.PRIVACY_PACKAGES_DIR), "*/request-*", PACKAGE_RETENTION, now=now)


# --- erasure ---------------------------------------------------------------------------------------


def _fingerprint(plan: dict, contact) -> str:
    """What staff saw: the plan's steps and counts and the contact's version. Any change since
    the preview (an edit, a new interaction) changes it; the moment of the preview does not."""
    steps = {key: value for key, value in plan.items() if key != "created_at"}
    material = json.dumps({"plan": steps, "version": contact.version}, sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def erasure_preview(request: PrivacyRequest) -> tuple[dict, str]:
    """What erasing the request's contact would do, table by table, and its fingerprint."""
    from logicnet.personal_data import erasure

    with tenant_context(request.organization):
        contact = _require_subject(request)
    # The web process has no platform alias: the audit entries are counted by the job.
    plan = erasure.plan("contact", contact, audit=False).as_dict()
    _leave_out_this_request(plan, request)
    return plan, _fingerprint(plan, contact)


def _leave_out_this_request(plan: dict, request: PrivacyRequest) -> None:
    """The registry counts every request linked to the contact, this one included; but the
    job detaches this request first and keeps it as the proof of the answer (reference,
    rights, dates, outcome), blanking only its copy of the person's values once they are
    told (forget_requester). So the preview counts only the person's other requests."""
    with tenant_context(request.organization):
        own = {
            PrivacyRequest._meta.label: 1 if request.contact_id else 0,
            RequestEvent._meta.label: RequestEvent.objects.filter(request=request).count() if request.contact_id else 0,
        }
    for step in plan["steps"]:
        if step["model"] in own:
            step["rows"] = max((step["rows"] or 0) - own[step["model"]], 0)


def _suppress(contact) -> int:
    """Keep the keyed digests of the person's addresses and numbers (no readable value)."""
    return suppress_contact(contact, reason=Suppression.Reason.ERASED)


def _unsuppress(contact) -> None:
    """The digests `_suppress` wrote for a contact whose erasure did not happen (an objection's stay)."""
    unsuppress_contact(contact, reason=Suppression.Reason.ERASED)


def is_suppressed(organization, *, email_index: str = "", phone_index: str = "") -> bool:
    """Whether an address or number belongs to a person erased at their request."""
    wanted = [(Suppression.Kind.EMAIL, email_index), (Suppression.Kind.PHONE, phone_index)]
    with tenant_context(organization):
        return any(
            Suppression.objects.filter(organization=organization, kind=kind, digest=digest).exists()
            for kind, digest in wanted
            if digest
        )


HELD_MESSAGE = _(
    "A legal hold keeps this person's data (GDPR Art. 17(3)(e): needed for legal claims), so "
    "it cannot be erased now. Tell the person; once the hold is released, the erasure can proceed."
)


def legal_holds_of(request: PrivacyRequest) -> list:
    """The active legal holds that keep the request's contact (on the contact, or on an
    interaction it takes part in). Empty when no contact is matched yet."""
    from retention.selectors import holds_on_contact

    if request.contact_id is None:
        return []
    with tenant_context(request.organization_id):
        return holds_on_contact(request.organization_id, request.contact_id)


def withhold_erasure(request: PrivacyRequest, *, actor) -> PrivacyRequest:
    """Art. 17(3)(e): the data is kept while a legal hold needs it. The request stays open
    (awaiting approval) so the erasure can proceed once the hold is released; the person is
    told now, within the legal month, why their data is not erased (Art. 12(4))."""
    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        require_open(request)
        holds = legal_holds_of(request)
        if not holds:
            raise RequestError(_("No legal hold keeps this person's data: the erasure can proceed."))
        request.status = Status.AWAITING_APPROVAL
        touch_request(request, "status")
        # The hold's own reference may be confidential: the timeline names the hold's id.
        timeline_event(request, Event.ERASURE_WITHHELD, actor=actor, holds=[hold.pk for hold in holds])
        record_event(
            action="privacy.erasure_withheld",
            actor=actor,
            organization=request.organization,
            target=request,
            details={"reference": request.reference, "holds": [hold.pk for hold in holds]},
        )
        transaction.on_commit(lambda: queue_request_mail(request, "erasure_withheld"))
    return request


def start_erasure(request: PrivacyRequest, *, fingerprint: str, actor) -> Job:
    """Staff confirmed the preview they saw. Refused when the data changed since, and while
    a legal hold keeps the person's data (Art. 17(3)(e))."""
    if legal_holds_of(request):
        raise RequestError(HELD_MESSAGE)
    plan, current = erasure_preview(request)
    if fingerprint != current:
        raise RequestError(_("The person's data changed since the preview. Look at the new preview and confirm again."))
    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        require_open(request)
        contact = _require_subject(request)
        suppressed = _suppress(contact)
        # The ledger first: a backup restored from before this moment is replayed from it.
        ErasureRecord.objects.get_or_create(
            organization=request.organization,
            contact_id_erased=contact.pk,
            defaults={"request": request, "erased_by": actor, "counts": {"planned": plan}},
        )
        request.status = Status.IN_PROGRESS
        touch_request(request, "status")
        job = start_job(
            organization=request.organization,
            actor=actor,
            kind=ERASURE_JOB,
            params={"request_id": request.pk, "contact_id": contact.pk},
        )
        timeline_event(request, Event.APPROVED, actor=actor, right=Right.ERASURE)
        timeline_event(request, Event.JOB_STARTED, actor=actor, job=job.pk, right=Right.ERASURE, suppressed=suppressed)
        record_event(
            action="privacy.erasure_started",
            actor=actor,
            organization=request.organization,
            target=request,
            details={"reference": request.reference, "contact": contact.pk, "job": job.pk},
        )
    return job


def erase_contact_now(organization, contact_id: int, *, report=None, actor=None) -> dict:
    """Erase one contact through the registry (run outside a transaction: each batch commits
    on its own); a contact already gone is done. `report(done, total)` as jobs take it."""
    from contacts.models import Contact
    from logicnet.personal_data import erasure

    with tenant_context(organization):
        contact = Contact.objects.filter(organization=organization, pk=contact_id).first()
    if contact is None:
        return {}
    plan = erasure.plan("contact", contact)
    total = sum(step.rows or 0 for step in plan.steps) or 1
    done = 0

    def progress(_label: str, rows: int) -> None:
        nonlocal done
        done += rows
        if report:
            report(min(done, total), total)

    return erasure.execute(plan, report=progress, actor=actor)


@job_handler(ERASURE_JOB)
def erasure_job(job, report) -> dict:
    """Resumable: each step is idempotent, so a worker killed mid-way is simply run again."""
    organization_id = job.organization_id
    contact_id = job.params["contact_id"]
    with tenant_context(organization_id):
        request = PrivacyRequest.objects.select_related("organization").get(pk=job.params["request_id"])
        organization = request.organization
        # A hold placed after staff confirmed wins: the data is kept (Art. 17(3)(e)), the
        # ledger entry goes (a restore must not erase it either) and the desk decides again.
        from retention.selectors import holds_on_contact

        holds = holds_on_contact(organization_id, contact_id)
        if holds:
            return _withheld_by_hold(request, contact_id, holds)
        # Art. 19: who the data went to, read while it is still there (a rerun after the
        # erasure finds no contact and keeps what the first run recorded).
        from contacts.models import Contact

        contact = Contact.objects.filter(organization_id=organization_id, pk=contact_id).first()
        recipients = _recipients_of_contact(organization, contact) if contact is not None else None
        # The request keeps the person's address until they are told: detach it from the
        # contact so the registry's erasure leaves this one request for last.
        PrivacyRequest.objects.filter(pk=request.pk).update(contact=None)
    counts = erase_contact_now(organization, contact_id, report=report)
    if recipients is not None:
        record_recipients_told(request, action=Right.ERASURE, recipients=recipients)
    with transaction.atomic(), tenant_context(organization_id):
        record = ErasureRecord.objects.get(organization_id=organization_id, contact_id_erased=contact_id)
        if counts:
            record.counts = {**record.counts, "erased": counts}
            record.erased_at = timezone.now()
            record.save(update_fields=["counts", "erased_at"])
        request = locked_request(request)
        if request.status == Status.IN_PROGRESS:
            request.status = Status.COMPLETED
            request.closed_at = timezone.now()
            touch_request(request, "status", "closed_at")
            timeline_event(request, Event.ERASED, contact=contact_id)
            timeline_event(request, Event.COMPLETED, right=Right.ERASURE)
        still_addressable = bool(request.email)
    if still_addressable:
        send_request_mail(organization_id=organization_id, request_id=request.pk, kind="completed")
    forget_requester(request)
    return {"request_id": request.pk, "contact_id": contact_id, "tables": len(counts or {})}


def _withheld_by_hold(request: PrivacyRequest, contact_id: int, holds: list) -> dict:
    """Inside the job's tenant context: undo what start_erasure prepared for a contact a
    legal hold now keeps, and put the request back before the desk."""
    from contacts.models import Contact

    with transaction.atomic():
        ErasureRecord.objects.filter(organization_id=request.organization_id, contact_id_erased=contact_id).delete()
        contact = Contact.objects.filter(organization_id=request.organization_id, pk=contact_id).first()
        if contact is not None:
            _unsuppress(contact)
        request = locked_request(request)
        if request.status == Status.IN_PROGRESS:
            request.status = Status.AWAITING_APPROVAL
            touch_request(request, "status")
        timeline_event(request, Event.ERASURE_WITHHELD, holds=[hold.pk for hold in holds])
    return {"request_id": request.pk, "contact_id": contact_id, "withheld_by_holds": [hold.pk for hold in holds]}


def forget_requester(request: PrivacyRequest) -> None:
    """Blank what identified the person on a closed erasure request, keeping the proof that
    it was answered (reference, rights, dates, outcome)."""
    with transaction.atomic(), tenant_context(request.organization_id):
        request = locked_request(request)
        for name in ("email", "phone", "message", "correction", "extension_reason"):
            setattr(request, name, "")
        request.save()
        RequestEvent.objects.filter(organization_id=request.organization_id, request=request).exclude(note="").update(
            note=""
        )


def replay_erasures(organization) -> int:
    """After a backup restore: erase again every contact the ledger says was erased.
    Returns how many rows had come back."""
    replayed = 0
    with tenant_context(organization):
        ids = list(ErasureRecord.objects.filter(organization=organization).values_list("contact_id_erased", flat=True))
    for contact_id in ids:
        if erase_contact_now(organization, contact_id):
            replayed += 1
    if replayed:
        record_event(action="privacy.erasures_replayed", organization=organization, details={"contacts": replayed})
    return replayed


# --- restriction, objection, rectification -----------------------------------------------------------


def restrict(request: PrivacyRequest, *, actor) -> PrivacyRequest:
    """Art. 18(1): from now on the contact is stored, not processed."""
    from contacts.models import Contact

    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        require_open(request)
        contact = _require_subject(request)
        Contact.objects.filter(pk=contact.pk, restricted_at__isnull=True).update(restricted_at=timezone.now())
        timeline_event(request, Event.RESTRICTED, actor=actor, contact=contact.pk)
        record_event(
            action="privacy.restricted",
            actor=actor,
            organization=request.organization,
            target=contact,
            details={"reference": request.reference},
        )
        recipients = _recipients_of_contact(request.organization, contact)
    record_recipients_told(request, action=Right.RESTRICTION, recipients=recipients, actor=actor)
    return request


def lift_restriction(request: PrivacyRequest, *, actor) -> PrivacyRequest:
    """Art. 18(3): the person is told before the restriction is lifted; the mail goes first,
    and a mail server that refuses it leaves the restriction in place."""
    from contacts.models import Contact

    with tenant_context(request.organization):
        contact = _require_subject(request)
        if contact.restricted_at is None:
            raise RequestError(_("This contact is not restricted."))
    if not send_request_mail(
        organization_id=request.organization_id, request_id=request.pk, kind="restriction_lifting"
    ):
        raise RequestError(_("The person could not be told (the mail was not sent), so the restriction stays."))
    with transaction.atomic(), tenant_context(request.organization):
        Contact.objects.filter(pk=contact.pk).update(restricted_at=None)
        timeline_event(request, Event.RESTRICTION_LIFTED, actor=actor, contact=contact.pk)
        record_event(
            action="privacy.restriction_lifted",
            actor=actor,
            organization=request.organization,
            target=contact,
            details={"reference": request.reference},
        )
    return request


def decide_objection(request: PrivacyRequest, *, upheld: bool, reasons: str, actor) -> PrivacyRequest:
    """Art. 21(1): processing stops unless the organization shows compelling legitimate
    grounds; either way the decision carries its reasons."""
    if not reasons.strip():
        raise RequestError(_("Give the reasons for the decision: the person is told them."))
    if upheld:
        restrict(request, actor=actor)
    with tenant_context(request.organization):
        timeline_event(request, Event.OBJECTION_DECIDED, actor=actor, note=reasons.strip(), upheld=upheld)
    return request


def recipients_of(request: PrivacyRequest) -> list[dict]:
    """Art. 19: where the person's data went, so that a rectification, erasure or
    restriction is passed on: the recipients and processors the registry names for the data
    held about them (`registry.recipients_of`), and the exports team members made since the
    contact was created. Names and ids only, never a personal value."""
    with tenant_context(request.organization):
        contact = _require_subject(request)
        return _recipients_of_contact(request.organization, contact)


def _recipients_of_contact(organization, contact) -> list[dict]:
    """Inside the tenant context."""
    found = [
        {
            "what": entry["name"],
            "key": entry["key"],
            "sub_processor": entry["sub_processor"],
            "when": None,
            "job": None,
            "by": None,
        }
        for entry in registry.recipients_of("contact", contact)
    ]
    exports = Job.objects.filter(
        organization=organization,
        kind__contains="export",
        state=Job.State.SUCCEEDED,
        finished_at__gte=contact.created_at,
    ).order_by("-finished_at")[:50]
    found += [
        {
            "what": _("Export by a team member"),
            "key": f"export:{job.pk}",
            "sub_processor": False,
            "when": job.finished_at,
            "job": job.pk,
            "by": job.created_by_id,
        }
        for job in exports
    ]
    return found


def record_recipients_told(request: PrivacyRequest, *, action: str, recipients: list[dict], actor=None) -> None:
    """Art. 19: the recipients were told of the rectification, erasure or restriction. The
    timeline keeps who they were (names of recipients and processors, export job ids; no
    personal value), so the person can be told on request, even after an erasure."""
    named = sorted({str(r["what"]) for r in recipients if r.get("job") is None})
    exports = [r["job"] for r in recipients if r.get("job") is not None]
    with tenant_context(request.organization_id):
        timeline_event(
            request, Event.RECIPIENTS_NOTIFIED, actor=actor, action=action, recipients=named, exports=exports
        )
        record_event(
            action="privacy.recipients_notified",
            actor=actor,
            organization=request.organization,
            target=request,
            details={"reference": request.reference, "action": action, "recipients": len(named), "exports": exports},
        )


def recipients_told(request: PrivacyRequest) -> list[dict]:
    """What the person may ask (Art. 19, last sentence): who was told, for which action, when."""
    with tenant_context(request.organization_id):
        events = RequestEvent.objects.filter(
            organization_id=request.organization_id, request=request, kind=Event.RECIPIENTS_NOTIFIED
        ).order_by("created_at", "pk")
        return [
            {
                "action": event.details.get("action", ""),
                "at": event.created_at,
                "recipients": event.details.get("recipients", []),
                "exports": len(event.details.get("exports", [])),
            }
            for event in events
        ]


def tell_person_recipients(request: PrivacyRequest) -> list[dict]:
    """The person asked who the recipients are: the answer, and a timeline step saying so."""
    told = recipients_told(request)
    with tenant_context(request.organization_id):
        timeline_event(request, Event.RECIPIENTS_SHOWN, actions=[t["action"] for t in told])
    return told


def apply_rectification(request: PrivacyRequest, *, data: dict, actor) -> PrivacyRequest:
    """Apply the corrected values through the contact services (the normal validation runs),
    then record that the recipients were told (Art. 19)."""
    from contacts.services.contacts import update_contact

    with tenant_context(request.organization):
        contact = _require_subject(request)
    update_contact(
        organization=request.organization,
        actor=actor,
        contact=contact,
        data=data,
        expected_version=None,
        privacy_desk=True,
    )
    recipients = recipients_of(request)
    with tenant_context(request.organization):
        timeline_event(request, Event.RECTIFIED, actor=actor, fields=sorted(data))
    record_recipients_told(request, action=Right.RECTIFICATION, recipients=recipients, actor=actor)
    return request
