"""The life of a data-subject request, from the public form to its closing.

Every state change goes through these functions: they check what the law allows at that
step (an extension only within the first month and with reasons; a refusal only with
reasons), write a timeline event and an audit event, and queue the mail the person is owed.
Mail goes after commit, through `send_request_mail`; a mail that could not be sent is found
again by beat's sweep (`sweep_request_mail`), so a request is never left without its
confirmation link because the broker or the mail server was down for a moment.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.sweeps import sweep_ids
from privacy import deadlines
from privacy.models import PrivacyRequest, PrivacySettings, RequestEvent, Right, Suppression
from privacy.services.suppression import suppress_contact, suppress_values

log = logging.getLogger(__name__)

Status = PrivacyRequest.Status
Event = RequestEvent.Kind

# DataGrail's figures: the link lives a week, one reminder after a day.
CONFIRMATION_VALID = datetime.timedelta(days=7)
REMINDER_AFTER = datetime.timedelta(hours=24)
# How long the person's status link works (well past the longest deadline, three months).
STATUS_LINK_VALID = datetime.timedelta(days=400)
# A confirmation mail not sent this long after submission is sent by beat's sweep.
MAIL_RETRY_AFTER = datetime.timedelta(minutes=1)

_CONFIRM_SALT = "privacy.request.confirm"
_CODE_SALT = "privacy.request.confirm-code"
# Tries of the confirmation code per request and hour: 10**8 codes stay out of reach.
CODE_ATTEMPTS = 5
_STATUS_SALT = "privacy.request.status"


class RequestError(ValidationError):
    """A step the request's state or the law does not allow; the message says why."""


# --- settings and the clock ---------------------------------------------------------------------


def privacy_settings(organization) -> PrivacySettings:
    with tenant_context(organization):
        found = PrivacySettings.objects.filter(organization=organization).first()
        if found is None:
            found, _created = PrivacySettings.objects.get_or_create(organization=organization)
        return found


def time_zone_of(organization) -> str:
    return privacy_settings(organization).time_zone


@dataclass(frozen=True)
class Clock:
    """What the desk shows of a request's deadline."""

    deadline: datetime.date
    days_left: int
    overdue: bool
    may_extend: bool


def clock(request: PrivacyRequest, time_zone: str, now: datetime.datetime | None = None) -> Clock:
    left = deadlines.days_left(request.deadline, time_zone, now)
    return Clock(
        deadline=request.deadline,
        days_left=left,
        overdue=request.is_open and left < 0,
        may_extend=request.is_open
        and request.extended_due_on is None
        and deadlines.may_extend(request.received_at, time_zone, now),
    )


# --- links the person receives --------------------------------------------------------------------


def confirmation_token(request: PrivacyRequest) -> str:
    return signing.dumps({"o": request.organization_id, "r": request.pk}, salt=_CONFIRM_SALT, compress=True)


def status_token(request: PrivacyRequest) -> str:
    return signing.dumps({"o": request.organization_id, "r": request.pk}, salt=_STATUS_SALT, compress=True)


def _read_token(organization, token: str, salt: str, max_age: datetime.timedelta) -> PrivacyRequest | None:
    """The request a token names, or None when it is forged, expired, or of another organization."""
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("o") != organization.pk:
        return None
    with tenant_context(organization):
        return PrivacyRequest.objects.filter(organization=organization, pk=data.get("r")).first()


def request_from_status_token(organization, token: str) -> PrivacyRequest | None:
    return _read_token(organization, token, _STATUS_SALT, STATUS_LINK_VALID)


def request_from_confirmation_token(organization, token: str) -> PrivacyRequest | None:
    """The request a confirmation link names, read only: the public confirm page shows it
    on GET and confirms only on POST (a mail scanner prefetching the link changes nothing)."""
    return _read_token(organization, token, _CONFIRM_SALT, CONFIRMATION_VALID)


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


# --- receiving ------------------------------------------------------------------------------------


def timeline_event(request: PrivacyRequest, kind: str, *, actor=None, note: str = "", **details) -> RequestEvent:
    return RequestEvent.objects.create(
        organization_id=request.organization_id, request=request, kind=kind, actor=actor, note=note, details=details
    )


def _audit(request: PrivacyRequest, action: str, *, actor=None, **details) -> None:
    record_event(
        action=f"privacy.{action}",
        actor=actor,
        organization=request.organization,
        target=request,
        details={"reference": request.reference, **details},
    )


def submit_request(
    *,
    organization,
    rights: list[str],
    email: str,
    phone: str = "",
    message: str = "",
    correction: str = "",
    objects_to_marketing: bool = False,
    priority: bool = False,
    language: str = "en",
    channel: str = PrivacyRequest.Channel.PUBLIC_FORM,
    actor=None,
    received_at: datetime.datetime | None = None,
) -> PrivacyRequest:
    """Store a request, then ask the person to confirm their address.

    The request counts as received now (Art. 12(3)), whatever happens to the mail. Staff
    recording a request received by letter or phone (channel STAFF) skip the email
    confirmation: they checked the person themselves. `priority`: the desk shows the request
    first (a report that the organization holds a child's data)."""
    from logicnet.normalize import clean_email

    email = clean_email(email)
    rights = sorted({right for right in rights if right in Right.values})
    if not rights:
        raise RequestError(_("Choose at least one right."))
    if Right.RECTIFICATION in rights and not correction.strip():
        raise RequestError(_("Say what should be corrected, and to what."))
    received_at = received_at or timezone.now()
    time_zone = time_zone_of(organization)
    needs_confirmation = channel == PrivacyRequest.Channel.PUBLIC_FORM
    with transaction.atomic(), tenant_context(organization):
        request = PrivacyRequest(
            organization=organization,
            rights=rights,
            email=email,
            phone=phone,
            message=message,
            correction=correction,
            objects_to_marketing=objects_to_marketing and Right.OBJECTION in rights,
            priority=priority,
            language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
            channel=channel,
            status=Status.AWAITING_VERIFICATION if needs_confirmation else Status.RECEIVED,
            email_confirmed_at=None if needs_confirmation else received_at,
            received_at=received_at,
            due_on=deadlines.due_on(received_at, time_zone),
        )
        request.full_clean(exclude=["organization", "email_index", "phone_index", "due_on"])
        request.save()
        timeline_event(request, Event.RECEIVED, actor=actor, rights=rights, channel=channel)
        earlier = (
            PrivacyRequest.objects.filter(organization=organization, email_index=request.email_index)
            .exclude(pk=request.pk)
            .order_by("-received_at")
            .first()
        )
        if earlier is not None:
            # Repeated requests are grouped by staff, not silently: the desk shows the link.
            request.duplicate_of = earlier
            request.save(update_fields=["duplicate_of"])
        _audit(request, "request_received", actor=actor, rights=rights, channel=channel)
        if needs_confirmation:
            transaction.on_commit(lambda: queue_request_mail(request, "confirmation"))
        else:
            transaction.on_commit(lambda: queue_request_mail(request, "receipt"))
    return request


def queue_request_mail(request: PrivacyRequest, kind: str) -> None:
    """Send the mail from a worker; when the broker is down, beat's sweep sends what is owed.
    `platform_staff`: the mail to Logicnet's privacy address about its own request (not
    swept: the admin's queue lists the request whether or not that mail went)."""
    from kombu.exceptions import OperationalError

    from privacy.tasks import notify_platform_staff, send_privacy_mail

    try:
        if kind == "platform_staff":
            notify_platform_staff.delay(request.pk)
        else:
            send_privacy_mail.delay(request.organization_id, request.pk, kind)
    except OperationalError:
        log.warning("privacy request %s: the broker is unreachable; the mail sweep will send it", request.pk)


def confirmation_code(request: PrivacyRequest) -> str:
    """The code the confirmation mail carries beside its link ("1234-5678"), for a person who
    reads their mail on another device than the one they sent the request from: typed on
    the page they sent it from, it confirms the address as the link does. Derived with a
    keyed MAC from the request (no stored secret); eight digits, and the page allows
    CODE_ATTEMPTS tries an hour per request (logicnet/ratelimit.py), so it cannot be guessed."""
    material = f"{request.organization_id}:{request.pk}:{request.received_at.isoformat()}"
    digest = salted_hmac(_CODE_SALT, material, algorithm="sha256").hexdigest()
    number = int(digest[:15], 16) % 10**8
    return f"{number // 10**4:04d}-{number % 10**4:04d}"


def confirm_email_by_code(organization, *, reference: str, code: str) -> PrivacyRequest | None:
    """The person typed the code from the confirmation mail on the page they sent the request
    from (which knows its reference). None when the code is wrong, the request is not the
    organization's, or the 7 days are over; otherwise as the link (`confirm_email`)."""
    digits = "".join(ch for ch in (code or "") if ch.isdigit())
    with tenant_context(organization):
        request = PrivacyRequest.objects.filter(organization=organization, reference=reference).first()
    if request is None or len(digits) != 8:
        return None
    if timezone.now() - request.received_at > CONFIRMATION_VALID:
        return None
    if not constant_time_compare(digits, confirmation_code(request).replace("-", "")):
        return None
    return _confirm(organization, request)


def confirm_email(organization, token: str) -> PrivacyRequest | None:
    """The person clicked the link in the confirmation mail (valid CONFIRMATION_VALID)."""
    request = _read_token(organization, token, _CONFIRM_SALT, CONFIRMATION_VALID)
    if request is None:
        return None
    return _confirm(organization, request)


def _confirm(organization, request: PrivacyRequest) -> PrivacyRequest:
    """Idempotent: a second confirmation finds the request confirmed and changes nothing. An
    objection to direct marketing takes effect now, without waiting for staff (Art. 21(3))."""
    with transaction.atomic(), tenant_context(organization):
        request = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.AWAITING_VERIFICATION:
            return request
        now = timezone.now()
        request.status = Status.RECEIVED
        request.email_confirmed_at = now
        request.updated_at = now
        request.save(update_fields=["status", "email_confirmed_at", "updated_at"])
        timeline_event(request, Event.EMAIL_CONFIRMED)
        _audit(request, "request_email_confirmed")
        if request.objects_to_marketing:
            apply_marketing_objection(request)
        from privacy.services.platform import is_platform_controller

        if is_platform_controller(organization):
            # Logicnet's own request: its privacy staff are told it waits in the admin.
            transaction.on_commit(lambda: queue_request_mail(request, "platform_staff"))
    return request


def apply_marketing_objection(request: PrivacyRequest, *, actor=None) -> int:
    """Mark every contact with the request's email or phone as objecting to direct marketing
    (for Logicnet's own requests: the account signed in with the confirmed address)."""
    from contacts.models import Contact
    from contacts.services.contacts import find_duplicates
    from privacy.services.platform import apply_account_marketing_objection, is_platform_controller

    if is_platform_controller(request.organization):
        return apply_account_marketing_objection(request, actor=actor)

    emails = [request.email] if request.email else []
    phones = [request.phone] if request.phone else []
    matches = [c.pk for c in find_duplicates(request.organization, emails=emails, phones=phones, limit=50)]
    now = timezone.now()
    with tenant_context(request.organization):
        updated = Contact.objects.filter(
            organization=request.organization, pk__in=matches, marketing_objection_at__isnull=True
        ).update(marketing_objection_at=now)
        # The person's addresses and numbers go on the suppression list, theirs as given and
        # every one of the matching contacts: an import does not bring them back (Art. 21(3)).
        suppress_values(request.organization, emails=emails, phones=phones, reason=Suppression.Reason.OBJECTED)
        for contact in Contact.objects.filter(organization=request.organization, pk__in=matches):
            suppress_contact(contact, reason=Suppression.Reason.OBJECTED)
        timeline_event(request, Event.OBJECTION_MARKETING, actor=actor, contacts=len(matches))
        _audit(request, "marketing_objection_applied", actor=actor, contacts=matches)
    return updated


def resend_confirmation(request: PrivacyRequest) -> bool:
    """The person asked for the link again (the page offers it while unconfirmed)."""
    if request.status != Status.AWAITING_VERIFICATION:
        return False
    queue_request_mail(request, "confirmation")
    return True


# --- beat's sweep: confirmations owed, reminders, expiry ------------------------------------------


def sweep_request_mail(*, now: datetime.datetime | None = None) -> int:
    """Send confirmations never sent, one reminder after REMINDER_AFTER, and expire the
    requests never confirmed within CONFIRMATION_VALID. Returns the number of steps taken."""
    now = now or timezone.now()
    found = sweep_ids(
        "logicnet_unconfirmed_privacy_requests",
        [now - MAIL_RETRY_AFTER, now - REMINDER_AFTER, now - CONFIRMATION_VALID],
        reason="privacy request confirmations, reminders and expiry",
        counted="requests",
    )
    done = 0
    for organization_id, request_id in found:
        done += _advance_unconfirmed(organization_id, request_id, now)
    return done


def _advance_unconfirmed(organization_id: int, request_id: int, now: datetime.datetime) -> int:
    from logicnet.tenancy.organizations import organization_model

    organization = organization_model().objects.get(pk=organization_id)
    with transaction.atomic(), tenant_context(organization):
        request = (
            PrivacyRequest.objects.select_for_update(skip_locked=True)
            .filter(organization=organization, pk=request_id, status=Status.AWAITING_VERIFICATION)
            .first()
        )
        if request is None:
            return 0
        if request.received_at <= now - CONFIRMATION_VALID:
            request.status = Status.EXPIRED
            request.closed_at = now
            request.save(update_fields=["status", "closed_at"])
            timeline_event(request, Event.EXPIRED)
            _audit(request, "request_expired")
            return 1
        if request.confirmation_sent_at is None:
            kind = "confirmation"
        elif request.reminder_sent_at is None and request.received_at <= now - REMINDER_AFTER:
            kind = "reminder"
        else:
            return 0
    return 1 if send_request_mail(organization_id=organization_id, request_id=request_id, kind=kind) else 0


# --- the mail itself ------------------------------------------------------------------------------


def send_request_mail(*, organization_id: int, request_id: int, kind: str) -> bool:
    """Render and send one mail about a request, in the person's language; record it."""
    from logicnet.tenancy.organizations import organization_model
    from privacy.mail import send_to_requester

    organization = organization_model().objects.get(pk=organization_id)
    with tenant_context(organization):
        request = PrivacyRequest.objects.filter(organization=organization, pk=request_id).first()
        if request is None or not request.email:
            return False
        if kind in ("confirmation", "reminder") and request.status != Status.AWAITING_VERIFICATION:
            return False
    sent = send_to_requester(request, kind)
    if not sent:
        return False
    now = timezone.now()
    with transaction.atomic(), tenant_context(organization):
        if kind == "confirmation":
            PrivacyRequest.objects.filter(pk=request.pk).update(confirmation_sent_at=now)
            timeline_event(request, Event.CONFIRMATION_SENT)
        elif kind == "reminder":
            PrivacyRequest.objects.filter(pk=request.pk).update(reminder_sent_at=now)
            timeline_event(request, Event.REMINDER_SENT)
        else:
            timeline_event(request, Event.PERSON_NOTIFIED, mail=kind)
    return True


# --- the desk -------------------------------------------------------------------------------------


def locked_request(request: PrivacyRequest) -> PrivacyRequest:
    return PrivacyRequest.objects.select_for_update().get(organization_id=request.organization_id, pk=request.pk)


def touch_request(request: PrivacyRequest, *fields: str) -> None:
    request.updated_at = timezone.now()
    request.save(update_fields=[*fields, "updated_at"])


def require_open(request: PrivacyRequest) -> None:
    if not request.is_open:
        raise RequestError(_("This request is closed."))


def candidates(request: PrivacyRequest, limit: int = 10) -> list:
    """Contacts whose email or phone (primary or further) match the request's, found through
    the blind indexes: staff confirm which one is the person."""
    from contacts.services.contacts import find_duplicates

    emails = [request.email] if request.email else []
    phones = [request.phone] if request.phone else []
    if not emails and not phones:
        return []
    return find_duplicates(request.organization, emails=emails, phones=phones, limit=limit)


def confirm_identity(request: PrivacyRequest, *, contact, actor) -> PrivacyRequest:
    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        require_open(request)
        if contact.organization_id != request.organization_id:
            raise RequestError(_("That contact is not in this organization."))
        request.contact = contact
        request.identity_confirmed_at = timezone.now()
        request.identity_confirmed_by = actor
        if request.status in (Status.RECEIVED, Status.AWAITING_VERIFICATION):
            request.status = Status.VERIFIED
        touch_request(request, "contact", "identity_confirmed_at", "identity_confirmed_by", "status")
        timeline_event(request, Event.CONTACT_MATCHED, actor=actor, contact=contact.pk)
        _audit(request, "identity_confirmed", actor=actor, contact=contact.pk)
    return request


def assign(request: PrivacyRequest, *, assignee, actor) -> PrivacyRequest:
    """Give the request to a member of the organization (None: nobody). Assigning the same
    person again changes nothing and logs nothing (a double click)."""
    from privacy.selectors import desk_members

    if assignee is not None and not desk_members(request.organization).filter(user=assignee).exists():
        raise RequestError(_("Assign the request to an admin, an owner or a privacy officer of this organization."))
    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        if request.assigned_to_id == getattr(assignee, "pk", None):
            return request
        request.assigned_to = assignee
        touch_request(request, "assigned_to")
        timeline_event(request, Event.ASSIGNED, actor=actor, assignee=getattr(assignee, "pk", None))
        _audit(request, "request_assigned", actor=actor, assignee=getattr(assignee, "pk", None))
    return request


def add_note(request: PrivacyRequest, *, note: str, actor) -> RequestEvent:
    if not note.strip():
        raise RequestError(_("Write the note first."))
    with tenant_context(request.organization):
        return timeline_event(request, Event.NOTE, actor=actor, note=note.strip())


def ask_for_information(request: PrivacyRequest, *, message: str, actor) -> PrivacyRequest:
    """Art. 12(6): on reasonable doubt about identity, ask for what is needed, and log it.
    The message goes to the person by mail; the deadline does not stop."""
    if not message.strip():
        raise RequestError(_("Write what you need from the person."))
    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        require_open(request)
        timeline_event(request, Event.INFO_REQUESTED, actor=actor, note=message.strip())
        _audit(request, "information_requested", actor=actor)
        transaction.on_commit(lambda: queue_request_mail(request, "info_requested"))
    return request


def extend(request: PrivacyRequest, *, reason: str, actor, now: datetime.datetime | None = None) -> PrivacyRequest:
    """Art. 12(3): by two further months, decided and told within the first month, with reasons."""
    if not reason.strip():
        raise RequestError(_("Give the reason for the extension: the person is told it."))
    time_zone = time_zone_of(request.organization)
    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        require_open(request)
        if request.extended_due_on is not None:
            raise RequestError(_("This request was extended already; the law allows one extension."))
        if not deadlines.may_extend(request.received_at, time_zone, now):
            raise RequestError(_("The first month has passed: an extension can no longer be decided."))
        request.extended_due_on = deadlines.extended_due_on(request.received_at, time_zone)
        request.extension_reason = reason.strip()
        touch_request(request, "extended_due_on", "extension_reason")
        timeline_event(
            request, Event.EXTENDED, actor=actor, note=reason.strip(), due=request.extended_due_on.isoformat()
        )
        _audit(request, "request_extended", actor=actor, due=request.extended_due_on.isoformat())
        transaction.on_commit(lambda: queue_request_mail(request, "extended"))
    return request


def deny(request: PrivacyRequest, *, reason: str, actor, unfounded_justification: str = "") -> PrivacyRequest:
    """Art. 12(4)-(5): a refusal carries its reasons, and the mail tells the person they may
    complain to the supervisory authority and go to court."""
    if not reason.strip():
        raise RequestError(_("A refusal needs its reasons: the person is told them."))
    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        require_open(request)
        request.status = Status.DENIED
        request.denial_reason = reason.strip()
        request.unfounded_justification = unfounded_justification.strip()
        request.closed_at = timezone.now()
        touch_request(request, "status", "denial_reason", "unfounded_justification", "closed_at")
        timeline_event(
            request,
            Event.DENIED,
            actor=actor,
            note=reason.strip(),
            manifestly_unfounded=bool(unfounded_justification.strip()),
        )
        _audit(request, "request_denied", actor=actor)
        transaction.on_commit(lambda: queue_request_mail(request, "denied"))
    return request


def group_with(request: PrivacyRequest, *, earlier: PrivacyRequest, actor) -> PrivacyRequest:
    """Close a repeated request as part of an earlier open one: one answer serves both."""
    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        require_open(request)
        if earlier.pk == request.pk or earlier.organization_id != request.organization_id:
            raise RequestError(_("Choose another request of this organization."))
        earlier = locked_request(earlier)
        # An open one: its answer is still to come and serves both (a closed one cannot, and
        # grouping two requests into each other would leave neither answered).
        if not earlier.is_open:
            raise RequestError(_("The earlier request is closed: answer this one on its own, or refuse it."))
        request.duplicate_of = earlier
        request.status = Status.COMPLETED
        request.closed_at = timezone.now()
        touch_request(request, "duplicate_of", "status", "closed_at")
        timeline_event(request, Event.GROUPED, actor=actor, earlier=earlier.reference)
        timeline_event(earlier, Event.NOTE, actor=actor, note="", grouped=request.reference)
        _audit(request, "request_grouped", actor=actor, earlier=earlier.reference)
    return request


def set_status(request: PrivacyRequest, status: str, *, actor, event: str | None = None, **details) -> PrivacyRequest:
    """Move an open request along (in progress, awaiting approval, completed)."""
    with transaction.atomic(), tenant_context(request.organization):
        request = locked_request(request)
        require_open(request)
        request.status = status
        fields = ["status"]
        if status in (Status.COMPLETED, Status.DENIED):
            request.closed_at = timezone.now()
            fields.append("closed_at")
        touch_request(request, *fields)
        if event:
            timeline_event(request, event, actor=actor, **details)
        _audit(request, f"request_{status}", actor=actor, **details)
        if status == Status.COMPLETED:
            transaction.on_commit(lambda: queue_request_mail(request, "completed"))
    return request


DESK_MOVES = (Status.IN_PROGRESS, Status.AWAITING_APPROVAL, Status.COMPLETED)


def move_request(request: PrivacyRequest, *, status: str, actor) -> PrivacyRequest:
    """The desk's status buttons: in progress, awaiting approval, completed.

    A request whose email address is not confirmed yet is not worked on (the person may not
    be who they say); staff who checked the person otherwise confirm the identity first.
    Moving to the status it has already is refused, so a second click changes nothing."""
    if status not in DESK_MOVES:
        raise RequestError(_("Choose in progress, awaiting approval or completed."))
    with transaction.atomic(), tenant_context(request.organization):
        current = locked_request(request)
        require_open(current)
        if current.status == Status.AWAITING_VERIFICATION:
            raise RequestError(_("The person has not confirmed their email address yet. Confirm their identity first."))
        if current.status == status:
            raise RequestError(_("The request has this status already."))
        event = Event.COMPLETED if status == Status.COMPLETED else Event.STATUS_CHANGED
        return set_status(current, status, actor=actor, event=event, status_from=current.status, status_to=status)


def record_event_on(request: PrivacyRequest, kind: str, *, actor=None, note: str = "", **details) -> RequestEvent:
    with tenant_context(request.organization):
        return timeline_event(request, kind, actor=actor, note=note, **details)
