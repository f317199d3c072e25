"""The sub-processors Logicnet engages, and notices of a change to them (GDPR Art. 28(2),
(4)): every change is announced to each organization's owners by email, and an
organization may object until the objection window closes.

The list starts from the sub-processors the personal-data registry's purposes name
(seeded by a data migration); platform staff keep it current in the admin, where each save
goes through `save_subprocessor` so that no change goes unannounced."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection, send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from logicnet.audit.services import record_event
from logicnet.tenancy.context import active_alias, tenant_context
from logicnet.tenancy.organizations import membership_model, organization_model
from logicnet.tenancy.roles import Actor, Role
from notices.models import SubProcessor, SubProcessorChange, SubProcessorObjection

log = logging.getLogger(__name__)

OBJECTION_WINDOW = datetime.timedelta(days=30)
NOTICE_BATCH_SIZE = 100


def published_subprocessors() -> list[SubProcessor]:
    """The current list. It starts as the registry's declarations (the data migration);
    should the table be empty (a database flushed since), they are recorded again here."""
    if not SubProcessor.objects.exists():
        seed_from_registry()
    return list(SubProcessor.objects.filter(removed_at__isnull=True).order_by("name"))


def seed_from_registry() -> None:
    from logicnet.personal_data.registry import registry

    with translation.override("en"):
        SubProcessor.objects.bulk_create(
            [
                SubProcessor(
                    key=sub.key,
                    name=str(sub.name),
                    service=str(sub.service),
                    location=str(sub.location),
                    in_eea=sub.in_eea,
                )
                for sub in registry.sub_processors.values()
            ],
            ignore_conflicts=True,
        )


def _describe(subprocessor: SubProcessor) -> str:
    return f"{subprocessor.name} ({subprocessor.service}; {subprocessor.location})"


def save_subprocessor(*, actor, subprocessor: SubProcessor, is_new: bool, removed: bool = False) -> SubProcessorChange:
    """Save a sub-processor added, changed or removed by staff, and announce it."""
    now = timezone.now()
    with transaction.atomic(using=active_alias()):
        if removed:
            subprocessor.removed_at = now
        subprocessor.save()
        if removed:
            summary = _("Removed: %(what)s") % {"what": _describe(subprocessor)}
        elif is_new:
            summary = _("Added: %(what)s") % {"what": _describe(subprocessor)}
        else:
            summary = _("Changed: %(what)s") % {"what": _describe(subprocessor)}
        return announce_change(actor=actor, summary=summary)


def announce_change(*, actor, summary: str, window: datetime.timedelta = OBJECTION_WINDOW) -> SubProcessorChange:
    """A change notice, mailed to every organization's owners after commit."""
    now = timezone.now()
    alias = active_alias()  # the admin's platform transaction, inside its bypass
    with transaction.atomic(using=alias):
        change = SubProcessorChange.objects.create(summary=summary, announced_at=now, objection_until=now + window)
        record_event(action="subprocessors.changed", actor=actor, target=change, details={"key": str(change.pk)})
        transaction.on_commit(lambda: _queue_notices(change.pk), using=alias)
    return change


def _queue_notices(change_id: int) -> None:
    from kombu.exceptions import OperationalError

    from notices.tasks import send_subprocessor_notices_task

    try:
        send_subprocessor_notices_task.delay(change_id)
    except OperationalError:
        log.warning("sub-processor change %s: the broker is unreachable; beat's sweep sends it", change_id)


def send_change_notices(*, change_id: int, batch_size: int = NOTICE_BATCH_SIZE) -> int:
    """Mail the owners of every active organization, a batch of organizations (by id) at a
    time, resuming from the last one mailed; returns how many mails were sent. The change
    row is locked over a batch (as for policy notices, notices/services/policy.py)."""
    Organization = organization_model()
    Membership = membership_model()
    sent = 0
    while True:
        with transaction.atomic(using=active_alias()):
            change = (
                SubProcessorChange.objects.select_for_update(skip_locked=True)
                .filter(pk=change_id, notices_finished_at__isnull=True)
                .first()
            )
            if change is None:
                return sent
            organizations = list(
                Organization.objects.filter(pk__gt=change.notified_through, is_active=True).order_by("pk")[:batch_size]
            )
            if not organizations:
                change.notices_finished_at = timezone.now()
                change.save(update_fields=["notices_finished_at"])
                return sent
            owners = (
                Membership.objects.filter(organization__in=organizations, role=Role.OWNER, user__is_active=True)
                .select_related("user")
                .order_by("organization_id", "user_id")
            )
            by_organization: dict[int, list] = {}
            for membership in owners:
                by_organization.setdefault(membership.organization_id, []).append(membership.user)
            with get_connection() as connection:
                for organization in organizations:
                    for user in by_organization.get(organization.pk, []):
                        _mail_change(user, organization, change, connection)
                        sent += 1
            change.notified_through = organizations[-1].pk
            change.save(update_fields=["notified_through"])


def _mail_change(user, organization, change: SubProcessorChange, connection) -> None:
    language = user.language if user.language in ("en", "ro") else settings.LANGUAGE_CODE[:2]
    context = {
        "user": user,
        "organization": organization,
        "change": change,
        "list_link": settings.SITE_URL + reverse("subprocessors"),
        "object_link": settings.SITE_URL + reverse("organization_subprocessors", args=[organization.slug]),
    }
    with translation.override(language):
        send_mail(
            render_to_string("notices/email/subprocessor_change_subject.txt", context).strip(),
            render_to_string("notices/email/subprocessor_change_message.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
            connection=connection,
        )


def unfinished_notices() -> list[int]:
    return list(SubProcessorChange.objects.filter(notices_finished_at__isnull=True).values_list("pk", flat=True))


def object_to_change(
    *, actor: Actor, change: SubProcessorChange, ip_address: str | None = None
) -> SubProcessorObjection:
    """The organization objects to a change (its owners only, while the window is open).
    Idempotent: an organization objects once; a second press returns the first objection."""
    if actor.role != Role.OWNER:
        raise ValidationError(_("Only an owner of the organization may object."), code="forbidden")
    if not change.open_for_objection:
        raise ValidationError(_("The time to object to this change has passed."), code="closed")
    organization = actor.organization
    with transaction.atomic(), tenant_context(organization):
        existing = SubProcessorObjection.objects.filter(organization=organization, change=change).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                objection = SubProcessorObjection.objects.create(
                    organization=organization, change=change, objected_by=actor.user
                )
        except IntegrityError:  # another owner at the same moment
            return SubProcessorObjection.objects.get(organization=organization, change=change)
        record_event(
            action="subprocessors.objected",
            actor=actor.user,
            organization=organization,
            target=change,
            ip_address=ip_address,
            details={"key": str(change.pk)},
        )
    return objection


def objections_of(organization) -> dict[int, SubProcessorObjection]:
    """Change id -> the organization's objection (inside its tenant context)."""
    return {
        o.change_id: o
        for o in SubProcessorObjection.objects.filter(organization=organization).select_related("objected_by")
    }
