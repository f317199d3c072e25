"""Work per affected organization, each a job (logicnet/jobs) run inside the organization's
tenant context by the worker's application role: counting its people and records, mailing
its team (Art. 33(2)) and mailing its people (Art. 34).

Mail goes in batches: a batch's addresses are decrypted inside the tenant context, the
transaction is left before any mail is sent (slow network I/O stays outside database
transactions), and each recipient's delivery status is written back; the addresses are
dropped with the batch. A job run again (a worker died) sends only what is not sent yet.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization
from breaches.models import BreachNotice, BreachRecipient
from breaches.scope import CONTACT_KIND, USER_KIND, contacts_in_scope, kinds_touched, scope_counts, users_in_scope
from contacts.models import Contact
from logicnet.jobs.registry import job_handler
from logicnet.jobs.services import start_job
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role

log = logging.getLogger(__name__)

SCOPE_JOB = "breaches.scope"
ORGANIZATION_JOB = "breaches.notify_organization"
SUBJECTS_JOB = "breaches.notify_subjects"
MAIL_BATCH = 200

Status = BreachRecipient.Status
Kind = BreachRecipient.Kind


def start_organization_jobs(kind: str, jobs: list[tuple[int, dict]]) -> list[int]:
    """One job per organization (outside any platform bypass: the job is the organization's)."""
    organizations = Organization.objects.in_bulk([org_id for org_id, _params in jobs])
    return [
        start_job(organization=organizations[org_id], actor=None, kind=kind, params=params).pk
        for org_id, params in jobs
        if org_id in organizations
    ]


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@job_handler(SCOPE_JOB)
def count_scope(job, report) -> dict:
    params = job.params
    with tenant_context(job.organization_id):
        counts = scope_counts(
            organization_id=job.organization_id,
            categories=params["categories"],
            start=_when(params["start"]),
            end=_when(params["end"]),
        )
        BreachNotice.objects.filter(pk=params["notice"]).update(
            contacts_in_scope=counts["contacts"],
            users_in_scope=counts["users"],
            records_in_scope=counts["records"],
            scope_computed_at=timezone.now(),
        )
    report(1, 1)
    return counts


# --- mail ---------------------------------------------------------------------------------------


def _add_recipients(organization_id: int, notice_id: int, kind: str, subject_ids) -> None:
    BreachRecipient.objects.bulk_create(
        [
            BreachRecipient(organization_id=organization_id, notice_id=notice_id, kind=kind, subject_id=subject_id)
            for subject_id in subject_ids
        ],
        ignore_conflicts=True,  # a job run again finds the rows of its first attempt
    )


def _to_send(notice_id: int, kind: str):
    return BreachRecipient.objects.filter(
        notice_id=notice_id, kind=kind, status__in=[Status.PENDING, Status.FAILED]
    ).order_by("pk")


TEAM_KINDS = (Kind.MEMBER, Kind.MEMBER_34)
PRIVACY_KINDS = (Kind.PRIVACY_CONTACT, Kind.PRIVACY_CONTACT_34)


def _addresses(kind: str, organization, subject_ids: list[int]) -> dict[int, tuple[str, str]]:
    """{subject id: (address, language)} for one batch; inside the tenant context. Contact
    addresses are decrypted here and live only as long as the batch."""
    if kind == Kind.CONTACT:
        rows = Contact.objects.filter(pk__in=subject_ids).only("pk", "email", "preferred_language")
        return {c.pk: (c.email, c.preferred_language or settings.LANGUAGE_CODE) for c in rows if c.email}
    if kind in PRIVACY_KINDS:
        from privacy.models import PrivacySettings

        rows = PrivacySettings.objects.filter(organization=organization, pk__in=subject_ids)
        return {row.pk: (row.contact_email, settings.LANGUAGE_CODE) for row in rows if row.contact_email}
    members = Membership.objects.filter(organization=organization, user_id__in=subject_ids).select_related("user")
    return {m.user_id: (m.user.email, m.user.language or settings.LANGUAGE_CODE) for m in members}


def _message(kind: str, notice: BreachNotice, organization, *, language: str, address: str) -> EmailMessage:
    with translation.override(language):
        context = {"notice": notice, "organization": organization, "updates": notice.updates}
        if kind in (Kind.MEMBER, Kind.PRIVACY_CONTACT):
            subject = _("Personal data breach %(reference)s touching %(name)s") % {
                "reference": notice.reference,
                "name": organization.name,
            }
            body = render_to_string("breaches/email/organization.txt", context)
        elif kind in (Kind.MEMBER_34, Kind.PRIVACY_CONTACT_34):
            subject = _("Personal data breach %(reference)s: %(name)s's people are being told") % {
                "reference": notice.reference,
                "name": organization.name,
            }
            context["people_message"] = render_to_string("breaches/email/subject.txt", context)
            body = render_to_string("breaches/email/organization_people.txt", context)
        elif kind == Kind.USER:
            subject = _("Logicnet: a personal data breach concerning your account")
            body = render_to_string("breaches/email/user.txt", context)
        else:
            subject = _("%(name)s: a personal data breach concerning you") % {"name": organization.name}
            body = render_to_string("breaches/email/subject.txt", context)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])


def _deliver(messages: dict[int, EmailMessage]) -> dict[int, tuple[str, str]]:
    """Send each message over one SMTP connection: {recipient id: (status, SMTP code)}. A
    5xx refusal of the recipient is a bounce; anything else is a failure, retried by a later run."""
    outcome: dict[int, tuple[str, str]] = {}
    connection = get_connection(fail_silently=False)
    try:
        for recipient_id, message in messages.items():
            message.connection = connection
            try:
                # Opened once for the batch (a no-op while open); again after a failure closed it.
                connection.open()
                message.send()
            except smtplib.SMTPRecipientsRefused as refused:
                code = next(iter(refused.recipients.values()))[0]
                outcome[recipient_id] = (Status.BOUNCED if 500 <= code < 600 else Status.FAILED, str(code))
            except smtplib.SMTPResponseException as error:
                outcome[recipient_id] = (Status.FAILED, str(error.smtp_code))
                connection.close()
            except (smtplib.SMTPException, OSError):
                outcome[recipient_id] = (Status.FAILED, "")
                connection.close()
            else:
                outcome[recipient_id] = (Status.SENT, "")
    finally:
        connection.close()
    return outcome


def _send_batches(job, report, *, kind: str) -> dict:
    organization_id, notice_id = job.organization_id, job.params["notice"]
    with tenant_context(organization_id):
        total = _to_send(notice_id, kind).count()
    done = 0
    report(done, total)
    last_id = 0
    while True:
        with tenant_context(organization_id):
            organization = Organization.objects.get(pk=organization_id)
            notice = BreachNotice.objects.get(pk=notice_id)
            batch = list(_to_send(notice_id, kind).filter(pk__gt=last_id)[:MAIL_BATCH])
            if not batch:
                break
            addresses = _addresses(kind, organization, [r.subject_id for r in batch])
            messages = {}
            for recipient in batch:
                if recipient.subject_id in addresses:
                    address, language = addresses[recipient.subject_id]
                    messages[recipient.pk] = _message(kind, notice, organization, language=language, address=address)
            del addresses
        outcome = _deliver(messages)  # outside the transaction
        del messages
        now = timezone.now()
        with tenant_context(organization_id):
            for recipient in batch:
                status, code = outcome.get(recipient.pk, (Status.FAILED, "no-addr"))
                recipient.status, recipient.error_code = status, code
                recipient.attempts += 1
                recipient.last_attempt_at = now
            BreachRecipient.objects.bulk_update(batch, ["status", "error_code", "attempts", "last_attempt_at"])
        last_id = batch[-1].pk
        done += len(batch)
        report(done, max(total, done))
    with tenant_context(organization_id):
        return delivery_counts(notice_id=notice_id, kind=kind)


def delivery_counts(*, notice_id: int, kind: str) -> dict:
    counts = BreachRecipient.objects.filter(notice_id=notice_id, kind=kind).aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in Status.values}
    )
    return {key: value or 0 for key, value in counts.items()}


def _add_organization_recipients(organization_id: int, notice_id: int, *, team_kind: str, privacy_kind: str) -> None:
    """The organization's owners, admins and privacy officers, and the privacy contact
    address of its privacy settings, unless a team member has that address already: one
    mail per address and notice, never the same content twice. Inside the tenant context."""
    from privacy.models import PrivacySettings

    team = Membership.objects.filter(
        Q(role__in=[Role.OWNER, Role.ADMIN]) | Q(is_privacy_officer=True), organization_id=organization_id
    ).select_related("user")
    _add_recipients(organization_id, notice_id, team_kind, [m.user_id for m in team])
    team_addresses = {m.user.email.strip().lower() for m in team}
    found = PrivacySettings.objects.filter(organization_id=organization_id).exclude(contact_email="").first()
    if found is not None and found.contact_email.strip().lower() not in team_addresses:
        _add_recipients(organization_id, notice_id, privacy_kind, [found.pk])


def _sum_counts(*counts: dict) -> dict:
    return {status: sum(c[status] for c in counts) for status in Status.values}


@job_handler(ORGANIZATION_JOB)
def mail_organization(job, report) -> dict:
    """Art. 33(2): the organization's owners, admins and privacy officers are told, and its
    privacy contact address (its privacy settings)."""
    organization_id, notice_id = job.organization_id, job.params["notice"]
    with tenant_context(organization_id):
        _add_organization_recipients(
            organization_id, notice_id, team_kind=Kind.MEMBER, privacy_kind=Kind.PRIVACY_CONTACT
        )
    counts = _sum_counts(
        _send_batches(job, report, kind=Kind.MEMBER), _send_batches(job, report, kind=Kind.PRIVACY_CONTACT)
    )
    if counts[Status.SENT]:
        with tenant_context(organization_id):
            BreachNotice.objects.filter(pk=notice_id, organization_notified_at__isnull=True).update(
                organization_notified_at=timezone.now()
            )
    return counts


@job_handler(SUBJECTS_JOB)
def mail_subjects(job, report) -> dict:
    """Art. 34: the people in scope with an address are told, in batches: the organization's
    contacts, and its team members when their account data is in the categories (Logicnet
    is the controller of account data and tells them itself)."""
    params = job.params
    organization_id, notice_id = job.organization_id, params["notice"]
    start, end = _when(params["start"]), _when(params["end"])
    kinds = kinds_touched(params["categories"])
    with tenant_context(organization_id):
        if CONTACT_KIND in kinds:
            people = (
                contacts_in_scope(organization_id=organization_id, start=start, end=end)
                .exclude(email_index="")
                .values_list("pk", flat=True)
            )
            _add_recipients(organization_id, notice_id, Kind.CONTACT, list(people))
        if USER_KIND in kinds:
            users = users_in_scope(organization_id=organization_id, end=end)
            if params.get("users") is not None:
                # Chosen by the platform across the incident's organizations: an account
                # holder in two of them is told about their one account once.
                users = users.filter(user_id__in=params["users"])
            _add_recipients(organization_id, notice_id, Kind.USER, list(users))
        _add_organization_recipients(
            organization_id, notice_id, team_kind=Kind.MEMBER_34, privacy_kind=Kind.PRIVACY_CONTACT_34
        )
    counts = {
        "contacts": _send_batches(job, report, kind=Kind.CONTACT),
        "users": _send_batches(job, report, kind=Kind.USER),
        "organization": _sum_counts(
            _send_batches(job, report, kind=Kind.MEMBER_34), _send_batches(job, report, kind=Kind.PRIVACY_CONTACT_34)
        ),
    }
    with tenant_context(organization_id):
        BreachNotice.objects.filter(pk=notice_id).update(subjects_notice_finished_at=timezone.now())
    return counts
