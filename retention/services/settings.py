"""The organization's retention settings: its own periods for the rules it may set, and
legal holds. Each change is one audit event naming the rule or the held row, never a value."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from activity.models import Interaction
from contacts.models import Contact
from logicnet.audit.services import record_event
from logicnet.personal_data.registry import registry
from logicnet.tenancy.context import tenant_context
from retention.models import LegalHold, RetentionOverride
from retention.rules import overridable_rules

# Whole days in an average month: twelve months make a year of 365 days.
DAYS_PER_MONTH = 365.25 / 12


def months_to_days(months: int) -> int:
    return round(months * DAYS_PER_MONTH)


def days_to_months(days: int) -> int:
    return max(1, round(days / DAYS_PER_MONTH))


def set_retention_period(*, organization, actor, rule: str, period_days: int | None) -> RetentionOverride | None:
    """The organization's period for `rule` (None: kept while the organization keeps the
    data). Only for the rules an organization may set (registry: `overridable`)."""
    if rule not in {found.key for found in overridable_rules()}:
        raise ValidationError(_("This retention period is set by Logicnet, not by the organization."))
    if period_days is not None and period_days < 1:
        raise ValidationError(_("A retention period is at least one day."))
    with tenant_context(organization):
        found = RetentionOverride.objects.filter(rule=rule).first()
        if found is not None and found.period_days == period_days:
            return found
        if found is None:
            found = RetentionOverride.objects.create(
                organization=organization, rule=rule, period_days=period_days, updated_by=actor
            )
            before = registry.retention[rule].duration
            before = before.days if before is not None else None
        else:
            before = found.period_days
            found.period_days, found.updated_by, found.updated_at = period_days, actor, timezone.now()
            found.save(update_fields=["period_days", "updated_by", "updated_at"])
        record_event(
            action="retention.period_changed",
            actor=actor,
            organization=organization,
            target=found,
            details={"rule": rule, "from": before, "to": period_days},
        )
    return found


def place_hold(
    *, organization, actor, reference: str, contact_id: int | None = None, interaction_id: int | None = None
):
    """Keep one contact (and the interactions it takes part in) or one interaction out of
    every sweep until the hold is released."""
    if (contact_id is None) == (interaction_id is None):
        raise ValidationError(_("Name one contact or one interaction."))
    with tenant_context(organization):
        if contact_id is not None and not Contact.objects.filter(pk=contact_id).exists():
            raise ValidationError({"target": _("There is no such contact.")})
        if interaction_id is not None and not Interaction.objects.filter(pk=interaction_id).exists():
            raise ValidationError({"target": _("There is no such interaction.")})
        hold = LegalHold.objects.create(
            organization=organization,
            contact_id=contact_id,
            interaction_id=interaction_id,
            reference=reference,
            created_by=actor,
        )
        record_event(
            action="retention.hold_placed",
            actor=actor,
            organization=organization,
            target=hold,
            details={"entity": "contact" if contact_id else "interaction", "ids": [contact_id or interaction_id]},
        )
    return hold


def release_hold(*, organization, actor, hold_id: int) -> LegalHold:
    with tenant_context(organization):
        hold = LegalHold.objects.filter(pk=hold_id, released_at__isnull=True).first()
        if hold is None:
            raise ValidationError(_("This hold is released already."))
        hold.released_at, hold.released_by = timezone.now(), actor
        hold.save(update_fields=["released_at", "released_by"])
        record_event(action="retention.hold_released", actor=actor, organization=organization, target=hold)
    return hold
