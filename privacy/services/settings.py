"""The organization's privacy settings: who the controller is (shown on its public privacy
page, Art. 13(1)(a)-(b)) and the time zone its legal deadlines are counted in."""

from __future__ import annotations

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context
from privacy.models import PrivacySettings
from privacy.services.requests import privacy_settings

SETTINGS_FIELDS = ("controller_name", "controller_address", "contact_email", "dpo_contact", "time_zone")


def update_privacy_settings(*, organization, actor, data: dict) -> PrivacySettings:
    """Save the fields of `data` that changed; the audit event names the fields, not the
    values. A new time zone counts the deadlines of requests received from now on (those
    received earlier keep the day they were given: the person was told it)."""
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"unknown privacy settings: {', '.join(sorted(unknown))}")
    if "time_zone" in data and data["time_zone"] not in available_timezones():
        raise ValidationError({"time_zone": _("Choose a time zone from the list, for example Europe/Bucharest.")})
    current = privacy_settings(organization)
    with transaction.atomic(), tenant_context(organization):
        found = PrivacySettings.objects.select_for_update().get(pk=current.pk)
        changed = [field for field, value in data.items() if getattr(found, field) != value]
        if not changed:
            return found
        for field in changed:
            setattr(found, field, data[field])
        found.updated_at = timezone.now()
        found.full_clean(exclude=["organization"])
        found.save(update_fields=[*changed, "updated_at"])
        record_event(
            action="privacy.settings_changed",
            actor=actor,
            organization=organization,
            target=found,
            details={"fields": changed},
        )
    return found
