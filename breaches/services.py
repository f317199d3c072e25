"""The platform's writes to the breach register. Run in the admin process, inside the
audited platform bypass the admin opens for every change (logicnet/admin_site.py): one
audit event per change, naming the administrator.

Work per organization (its counts, its mail) is never done here: each affected
organization gets a job (logicnet/jobs) that runs inside its own tenant context, started
once the platform's transaction has committed (breaches/jobs.py)."""

from __future__ import annotations

import contextvars

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from breaches import clock
from breaches.models import FACT_FIELDS, BreachIncident, BreachNotice, BreachUpdate
from breaches.scope import organization_ids_in_scope
from logicnet.tenancy.context import active_alias, platform_bypass_active


def _require_platform() -> None:
    if not platform_bypass_active():
        raise RuntimeError("the breach register is written by the platform, inside platform_bypass")


def validate_incident(incident: BreachIncident) -> None:
    """Art. 33(1): a notification after 72 hours is accompanied by the reasons for the delay."""
    errors = {}
    if clock.late_without_reasons(incident, now=timezone.now()):
        errors["late_reasons"] = _("The authority was notified after 72 hours: give the reasons for the delay.")
    if incident.period_start and incident.period_end and incident.period_start > incident.period_end:
        errors["period_end"] = _("The period ends before it starts.")
    if incident.authority_reference and not incident.authority_notified_at:
        errors["authority_notified_at"] = _("Give the time the authority was notified.")
    if errors:
        raise ValidationError(errors)


def next_reference(now=None) -> str:
    year = (now or timezone.now()).year
    prefix = f"BR-{year}-"
    count = BreachIncident.objects.filter(reference__startswith=prefix).count()
    return f"{prefix}{count + 1:04d}"


def save_incident(*, incident: BreachIncident, actor) -> BreachIncident:
    """Create or change an incident (the admin's form calls this)."""
    _require_platform()
    validate_incident(incident)
    now = timezone.now()
    if incident.pk is None:
        incident.created_by_id = getattr(actor, "pk", None)
        if not incident.reference:
            incident.reference = next_reference(now)
    incident.updated_at = now
    incident.save()
    # Organizations already told see the change at once (the authority notified, new facts).
    if BreachNotice.objects.filter(incident=incident, published_at__isnull=False).exists():
        publish(incident=incident)
    return incident


def add_update(*, incident: BreachIncident, actor, text: str) -> BreachUpdate:
    """A phased update (Art. 33(4)); organizations already told see it at once."""
    _require_platform()
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the update.")})
    update = BreachUpdate.objects.create(incident=incident, text=text, created_by_id=getattr(actor, "pk", None))
    BreachIncident.objects.filter(pk=incident.pk).update(updated_at=timezone.now())
    if BreachNotice.objects.filter(incident=incident, published_at__isnull=False).exists():
        publish(incident=incident)
    return update


def _facts(incident: BreachIncident) -> dict:
    return {name: getattr(incident, name) for name in FACT_FIELDS}


def _published_updates(incident: BreachIncident) -> list[dict]:
    return [{"at": u.created_at.isoformat(), "text": u.text} for u in incident.updates.order_by("created_at", "pk")]


def ensure_notices(*, incident: BreachIncident) -> list[BreachNotice]:
    """A notice for every organization in scope (the affected-organization rows), created
    unpublished with the current facts; existing ones are kept."""
    _require_platform()
    organization_ids = organization_ids_in_scope(incident)
    existing = set(BreachNotice.objects.filter(incident=incident).values_list("organization_id", flat=True))
    facts = _facts(incident)
    BreachNotice.objects.bulk_create(
        [
            BreachNotice(organization_id=org_id, incident=incident, **facts)
            for org_id in organization_ids
            if org_id not in existing
        ]
    )
    return list(BreachNotice.objects.filter(incident=incident, organization_id__in=organization_ids).order_by("pk"))


def publish(*, incident: BreachIncident) -> int:
    """Copy the incident's facts and phased updates to every notice of it: what each
    organization sees. The number of notices published."""
    _require_platform()
    return BreachNotice.objects.filter(incident=incident).update(
        **_facts(incident), updates=_published_updates(incident), published_at=timezone.now()
    )


def _scope_params(incident: BreachIncident, notice: BreachNotice) -> dict:
    return {
        "incident": incident.pk,
        "notice": notice.pk,
        "categories": list(incident.data_categories),
        "start": incident.period_start.isoformat() if incident.period_start else None,
        "end": incident.period_end.isoformat() if incident.period_end else None,
    }


def _start_after_commit(kind: str, jobs: list[tuple[int, dict]]) -> None:
    """Start one job per organization once the platform's transaction has committed.

    In a fresh context: the platform bypass (and the django-scopes state) are context
    variables that are still set while the bypass's own commit runs its callbacks, and
    a job is the organization's, created by the application role in its tenant context."""
    from breaches.jobs import start_organization_jobs

    def start() -> None:
        contextvars.Context().run(start_organization_jobs, kind, jobs)

    transaction.on_commit(start, using=active_alias())


def compute_scope(*, incident: BreachIncident, actor) -> int:
    """Affected organizations from the incident's scope, then a job per organization that
    counts its people and records in its tenant context. The number of organizations."""
    from breaches.jobs import SCOPE_JOB

    notices = ensure_notices(incident=incident)
    BreachNotice.objects.filter(pk__in=[n.pk for n in notices]).update(scope_computed_at=None)
    _start_after_commit(SCOPE_JOB, [(n.organization_id, _scope_params(incident, n)) for n in notices])
    return len(notices)


def notify_organizations(*, incident: BreachIncident, actor) -> int:
    """Art. 33(2): the processor tells each controller without undue delay. Publishes the
    facts to every affected organization, then mails its admins and privacy officers."""
    from breaches.jobs import ORGANIZATION_JOB

    notices = ensure_notices(incident=incident)
    publish(incident=incident)
    _start_after_commit(ORGANIZATION_JOB, [(n.organization_id, _scope_params(incident, n)) for n in notices])
    return len(notices)


def notify_subjects(*, incident: BreachIncident, actor) -> int:
    """Art. 34: once decided, tell the people affected: a batched mail job per organization."""
    from breaches.jobs import SUBJECTS_JOB

    notices = [n for n in ensure_notices(incident=incident) if n.published_at is not None]
    if not notices:
        raise ValidationError(_("Notify the organizations first: they are the controllers of their people's data."))
    now = timezone.now()
    if incident.subjects_notified_at is None:
        incident.subjects_notified_at = now
        incident.updated_at = now
        incident.save(update_fields=["subjects_notified_at", "updated_at"])
    BreachNotice.objects.filter(pk__in=[n.pk for n in notices]).update(
        subjects_notified_at=incident.subjects_notified_at, subjects_notice_requested_at=now
    )
    holders = _account_holders_by_notice(incident, notices)
    _start_after_commit(
        SUBJECTS_JOB,
        [(n.organization_id, {**_scope_params(incident, n), "users": holders[n.pk]}) for n in notices],
    )
    return len(notices)


def _account_holders_by_notice(incident: BreachIncident, notices: list[BreachNotice]) -> dict[int, list[int]]:
    """Account data is Logicnet's, one account per person, whatever the number of
    organizations: each account holder in scope is told once, by the notice of the first
    affected organization they belonged to by the end of the period (platform read)."""
    from accounts.models import Membership

    end = incident.period_end or timezone.now()
    by_organization = {n.organization_id: n.pk for n in notices}
    found: dict[int, list[int]] = {n.pk: [] for n in notices}
    told: set[int] = set()
    memberships = (
        Membership.objects.filter(organization_id__in=list(by_organization), created_at__lte=end)
        .order_by("organization_id", "user_id")
        .values_list("organization_id", "user_id")
    )
    for organization_id, user_id in memberships:
        if user_id not in told:
            told.add(user_id)
            found[by_organization[organization_id]].append(user_id)
    return found
