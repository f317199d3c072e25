"""Writes to interactions and tasks, and the task reminders.

An interaction or a task may be logged on a deal. An interaction on a deal is with the
deal's people: its participants always include the deal's contacts, so it shows on each of
their timelines as well as on the deal's.

Audit rows name the action and the object's id, never a subject, body or title: those are
personal data of the contacts involved.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, User
from activity.models import Interaction, InteractionParticipant, Task
from contacts.models import Company, Contact
from deals.models import Deal
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.sweeps import sweep_ids

logger = logging.getLogger(__name__)

MAX_PARTICIPANTS = 50


# --- interactions -----------------------------------------------------------------------------


def _check_deal(organization: Organization, deal: Deal | None) -> None:
    # A form offers the deal of its page only; a crafted id or another caller must not link
    # another tenant's deal (row-level security would hide it, a foreign key would not).
    if deal is not None and deal.organization_id != organization.pk:
        raise ValidationError(_("The deal must belong to this organization."), code="foreign_deal")


def _with_deal_people(organization: Organization, contacts: Iterable[Contact], deal_id: int | None) -> list[Contact]:
    """The chosen contacts, then the deal's contacts not among them (every one, including
    those the actor may not see: the call was with the deal's people all the same)."""
    contacts = list(contacts)
    if deal_id is None:
        return contacts
    chosen = {contact.pk for contact in contacts}
    with tenant_context(organization):
        people = Contact.objects.filter(organization=organization, deals=deal_id).exclude(pk__in=chosen).order_by("pk")
        return contacts + list(people)


def _check_participants(organization: Organization, contacts: Iterable[Contact], company: Company | None) -> list:
    unique = list({contact.pk: contact for contact in contacts}.values())
    if not unique:
        raise ValidationError(_("Choose at least one contact."), code="no_participants")
    if len(unique) > MAX_PARTICIPANTS:
        raise ValidationError(
            _("An interaction can have at most %(count)d contacts.") % {"count": MAX_PARTICIPANTS}, code="too_many"
        )
    # A form limits its choices to the organization already; a service called from
    # elsewhere (an import, a task) must not link another tenant's rows either.
    if any(contact.organization_id != organization.pk for contact in unique):
        raise ValidationError(_("Every contact must belong to this organization."), code="foreign_contact")
    if company is not None and company.organization_id != organization.pk:
        raise ValidationError(_("The company must belong to this organization."), code="foreign_company")
    return unique


def log_interaction(
    *,
    organization: Organization,
    actor: User | None,
    kind: str,
    occurred_at: datetime.datetime,
    subject: str,
    body: str,
    contacts: list[Contact],
    company: Company | None = None,
    deal: Deal | None = None,
) -> Interaction:
    """Store a note, call, meeting or email with its participants (with the deal's
    contacts among them when it is logged on a deal).

    Each participant row carries the interaction's time, so a contact's timeline reads
    one index range (participant_timeline_idx) instead of joining every interaction."""
    _check_deal(organization, deal)
    participants = _check_participants(
        organization, _with_deal_people(organization, contacts, getattr(deal, "pk", None)), company
    )
    with tenant_context(organization):
        interaction = Interaction(
            organization=organization,
            kind=kind,
            occurred_at=occurred_at,
            author=actor,
            subject=subject.strip(),
            body=body.strip(),
            company=company,
            deal=deal,
        )
        interaction.full_clean()
        interaction.save(force_insert=True)
        InteractionParticipant.objects.bulk_create(
            InteractionParticipant(
                organization=organization, interaction=interaction, contact=contact, occurred_at=occurred_at
            )
            for contact in participants
        )
        record_event(
            action="interaction.logged",
            actor=actor,
            organization=organization,
            target=interaction,
            details={"kind": kind, "participants": len(participants), **({"deal": deal.pk} if deal else {})},
        )
    return interaction


def update_interaction(
    *,
    organization: Organization,
    actor: User | None,
    interaction: Interaction,
    kind: str,
    occurred_at: datetime.datetime,
    subject: str,
    body: str,
    contacts: list[Contact],
    company: Company | None = None,
) -> Interaction:
    """Change an interaction and its participants; every participant row takes the new
    time so the contacts' timelines stay ordered. The deal it was logged on stays, and so
    do the deal's contacts among its participants."""
    if interaction.organization_id != organization.pk:
        raise ValidationError(_("The interaction must belong to this organization."), code="foreign_interaction")
    participants = _check_participants(
        organization, _with_deal_people(organization, contacts, interaction.deal_id), company
    )
    with tenant_context(organization):
        interaction.kind = kind
        interaction.occurred_at = occurred_at
        interaction.subject = subject.strip()
        interaction.body = body.strip()
        interaction.company = company
        interaction.full_clean()
        interaction.save(update_fields=["kind", "occurred_at", "subject", "body", "company"])
        wanted = {contact.pk for contact in participants}
        rows = InteractionParticipant.objects.filter(organization=organization, interaction=interaction)
        present = set(rows.values_list("contact_id", flat=True))
        rows.exclude(contact_id__in=wanted).delete()
        rows.update(occurred_at=occurred_at)
        InteractionParticipant.objects.bulk_create(
            InteractionParticipant(
                organization=organization, interaction=interaction, contact=contact, occurred_at=occurred_at
            )
            for contact in participants
            if contact.pk not in present
        )
        record_event(
            action="interaction.updated",
            actor=actor,
            organization=organization,
            target=interaction,
            details={"kind": kind, "participants": len(participants)},
        )
    return interaction


def delete_interaction(*, organization: Organization, actor: User | None, interaction: Interaction) -> None:
    if interaction.organization_id != organization.pk:
        raise ValidationError(_("The interaction must belong to this organization."), code="foreign_interaction")
    with tenant_context(organization):
        # Audited first: after the delete the row has no id left to name.
        record_event(
            action="interaction.deleted",
            actor=actor,
            organization=organization,
            target=interaction,
            details={"kind": interaction.kind},
        )
        interaction.delete()


# --- tasks ------------------------------------------------------------------------------------


def _check_task_links(
    organization: Organization,
    assignee: User | None,
    contact: Contact | None,
    company: Company | None,
    deal: Deal | None = None,
) -> None:
    if assignee is not None and not Membership.objects.filter(organization=organization, user=assignee).exists():
        raise ValidationError({"assignee": _("The assignee must be a member of this organization.")})
    if contact is not None and contact.organization_id != organization.pk:
        raise ValidationError({"contact": _("The contact must belong to this organization.")})
    if company is not None and company.organization_id != organization.pk:
        raise ValidationError({"company": _("The company must belong to this organization.")})
    if deal is not None and deal.organization_id != organization.pk:
        raise ValidationError({"deal": _("The deal must belong to this organization.")})


def create_task(
    *,
    organization: Organization,
    actor: User | None,
    title: str,
    due_at: datetime.datetime | None,
    assignee: User | None,
    contact: Contact | None = None,
    company: Company | None = None,
    deal: Deal | None = None,
) -> Task:
    _check_task_links(organization, assignee, contact, company, deal)
    with tenant_context(organization):
        task = Task(
            organization=organization,
            title=title.strip(),
            due_at=due_at,
            assignee=assignee,
            contact=contact,
            company=company,
            deal=deal,
            created_by=actor,
        )
        task.full_clean()
        task.save(force_insert=True)
        record_event(action="task.created", actor=actor, organization=organization, target=task)
    return task


def update_task(
    *,
    organization: Organization,
    actor: User | None,
    task: Task,
    title: str,
    due_at: datetime.datetime | None,
    assignee: User | None,
    contact: Contact | None = None,
    company: Company | None = None,
    deal: Deal | None = None,
) -> Task:
    """Change a task. A new due time or a new assignee deserves its own reminder, so the
    reminder is re-armed."""
    if task.organization_id != organization.pk:
        raise ValidationError(_("The task must belong to this organization."), code="foreign_task")
    _check_task_links(organization, assignee, contact, company, deal)
    with tenant_context(organization):
        rearm = due_at != task.due_at or getattr(assignee, "pk", None) != task.assignee_id
        task.title = title.strip()
        task.due_at = due_at
        task.assignee = assignee
        task.contact = contact
        task.company = company
        task.deal = deal
        fields = ["title", "due_at", "assignee", "contact", "company", "deal"]
        if rearm:
            task.reminder_sent_at = None
            fields.append("reminder_sent_at")
        task.full_clean()
        task.save(update_fields=fields)
        record_event(action="task.updated", actor=actor, organization=organization, target=task)
    return task


def complete_task(*, organization: Organization, actor: User | None, task: Task) -> Task:
    return _set_done(organization=organization, actor=actor, task=task, done=True)


def reopen_task(*, organization: Organization, actor: User | None, task: Task) -> Task:
    return _set_done(organization=organization, actor=actor, task=task, done=False)


def _set_done(*, organization: Organization, actor: User | None, task: Task, done: bool) -> Task:
    if task.organization_id != organization.pk:
        raise ValidationError(_("The task must belong to this organization."), code="foreign_task")
    with tenant_context(organization):
        if done == (task.done_at is not None):
            return task  # a repeated click changes nothing and audits nothing
        task.done_at = timezone.now() if done else None
        task.save(update_fields=["done_at"])
        record_event(
            action="task.completed" if done else "task.reopened", actor=actor, organization=organization, target=task
        )
    return task


def delete_task(*, organization: Organization, actor: User | None, task: Task) -> None:
    if task.organization_id != organization.pk:
        raise ValidationError(_("The task must belong to this organization."), code="foreign_task")
    with tenant_context(organization):
        record_event(action="task.deleted", actor=actor, organization=organization, target=task)
        task.delete()


# --- reminders --------------------------------------------------------------------------------

# One sweep handles at most this many; the rest are picked up by the next minute's sweep.
REMINDER_BATCH = 500


def due_task_reminders(*, now: datetime.datetime | None = None) -> list[tuple[int, int]]:
    """(organization_id, task_id) of open tasks due by now whose reminder has not gone out.

    Across every organization, through the narrow function logicnet_due_task_reminders
    (ids only, read from the partial index task_reminder_due_idx; activity migration 0001):
    beat's role reaches no role that reads every tenant, and each reminder is then sent
    inside its organization's tenant context. One audit event per sweep that found work,
    not one per minute. Nothing is claimed here."""
    return sweep_ids(
        "logicnet_due_task_reminders", [now or timezone.now(), REMINDER_BATCH], reason="task reminders", counted="tasks"
    )


def _reminder_message(task: Task, organization: Organization) -> tuple[str, str, str]:
    assignee = task.assignee
    language = assignee.language if assignee.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    context = {
        "task": task,
        "organization": organization,
        "assignee": assignee,
        "link": settings.SITE_URL + reverse("my_tasks", kwargs={"org_slug": organization.slug}),
    }
    with translation.override(language), timezone.override(settings.TIME_ZONE):
        return (
            " ".join(render_to_string("activity/email/task_reminder_subject.txt", context).split()),
            render_to_string("activity/email/task_reminder_message.txt", context),
            render_to_string("activity/email/task_reminder_message.html", context),
        )


def send_task_reminder(*, organization_id: int, task_id: int, now: datetime.datetime | None = None) -> bool:
    """Send one task's reminder, exactly once. True when it was sent.

    1. claim it in the organization's context with a conditional UPDATE: of two workers
       sweeping at once only one sees count == 1 (as healthchecks claims its alerts);
    2. render the mail inside the context (the title decrypts there), then commit the claim;
    3. send outside the transaction (slow network I/O holds no row lock); when the mail
       server refuses, hand the claim back so the next sweep retries instead of the
       reminder being lost.
    """
    now = now or timezone.now()
    organization = Organization.objects.get(pk=organization_id)
    with tenant_context(organization):
        claimed = Task.objects.filter(
            organization=organization, pk=task_id, reminder_sent_at=None, done_at=None, due_at__lte=now
        ).update(reminder_sent_at=now)
        if claimed != 1:
            return False
        task = Task.objects.select_related("assignee", "contact", "company").get(organization=organization, pk=task_id)
        assignee = task.assignee
        if (
            assignee is None
            or not assignee.is_active
            or not Membership.objects.filter(organization=organization, user=assignee).exists()
        ):
            return False  # nobody to remind: the claim stays, so the task is not scanned again
        subject, text, html = _reminder_message(task, organization)
    try:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [assignee.email], html_message=html)
    except (smtplib.SMTPException, OSError):
        logger.warning("task reminder %s of organization %s not sent; retrying next sweep", task_id, organization_id)
        with tenant_context(organization):
            Task.objects.filter(organization=organization, pk=task_id, reminder_sent_at=now).update(
                reminder_sent_at=None
            )
        return False
    return True


def sweep_task_reminders(*, now: datetime.datetime | None = None) -> int:
    """Send every due reminder; the number sent."""
    now = now or timezone.now()
    sent = 0
    for organization_id, task_id in due_task_reminders(now=now):
        sent += send_task_reminder(organization_id=organization_id, task_id=task_id, now=now)
    return sent
