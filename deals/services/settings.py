"""The organization's deal settings (its base currency)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from deals.models import Currency, DealSettings
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context


def base_currency(organization) -> str:
    with tenant_context(organization):
        found = DealSettings.objects.filter(organization=organization).values_list("base_currency", flat=True).first()
    return found or Currency.RON


def allowed_currencies(organization) -> list[str]:
    """The base currency plus RON, EUR and USD."""
    base = base_currency(organization)
    return [base, *(c.value for c in (Currency.RON, Currency.EUR, Currency.USD) if c.value != base)]


def set_base_currency(*, organization, actor, currency: str) -> DealSettings:
    if currency not in Currency.values:
        raise ValidationError({"base_currency": _("Choose a known currency.")})
    with tenant_context(organization):
        row, _created = DealSettings.objects.update_or_create(
            organization=organization, defaults={"base_currency": currency, "updated_at": timezone.now()}
        )
        record_event(
            action="deals.base_currency_set", actor=actor, organization=organization, details={"currency": currency}
        )
    return row
