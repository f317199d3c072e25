"""The organization's lists around deals: lost reasons, products, currency rates (by hand
or from a CSV file of `currency,date,rate` rows)."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from deals.models import Currency, CurrencyRate, LostReason, Product
from deals.services import check_owned
from deals.services.settings import base_currency
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context

MAX_RATE_ROWS = 20_000


def create_lost_reason(*, organization, actor, name: str) -> LostReason:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter a reason.")})
    with tenant_context(organization):
        if LostReason.objects.filter(organization=organization, name=name).exists():
            raise ValidationError({"name": _("This reason exists already.")})
        position = (LostReason.objects.filter(organization=organization).aggregate(m=Max("position"))["m"] or 0) + 1
        reason = LostReason.objects.create(organization=organization, name=name, position=position)
        record_event(action="deals.lost_reason_created", actor=actor, organization=organization, target=reason)
    return reason


def set_lost_reason_archived(*, organization, actor, reason: LostReason, archived: bool) -> LostReason:
    """Archived reasons stay on the deals that carry them but are no longer offered."""
    check_owned(organization, reason)
    with tenant_context(organization):
        reason.archived_at = timezone.now() if archived else None
        reason.save(update_fields=["archived_at"])
        record_event(action="deals.lost_reason_archived", actor=actor, organization=organization, target=reason)
    return reason


def save_product(*, organization, actor, data: dict, product: Product | None = None) -> Product:
    with tenant_context(organization):
        if product is None:
            product = Product(organization=organization)
        else:
            check_owned(organization, product)
        for name in ("name", "code", "unit_price", "currency", "vat_rate"):
            setattr(product, name, data[name])
        product.full_clean()
        product.save()
        record_event(action="deals.product_saved", actor=actor, organization=organization, target=product)
    return product


def set_product_archived(*, organization, actor, product: Product, archived: bool) -> Product:
    check_owned(organization, product)
    with tenant_context(organization):
        product.archived_at = timezone.now() if archived else None
        product.save(update_fields=["archived_at"])
        record_event(action="deals.product_archived", actor=actor, organization=organization, target=product)
    return product


def _check_rate(organization, currency: str, rate: Decimal) -> None:
    if currency not in Currency.values:
        raise ValidationError({"currency": _("Unknown currency %(code)s.") % {"code": currency}})
    if currency == base_currency(organization):
        raise ValidationError({"currency": _("The base currency needs no rate.")})
    if rate <= 0:
        raise ValidationError({"rate": _("A rate is a positive number.")})


def set_currency_rate(
    *, organization, actor, currency: str, date: datetime.date, rate: Decimal, source: str = "manual"
) -> CurrencyRate:
    """The rate of `currency` in base-currency units on `date` (replacing that day's rate)."""
    _check_rate(organization, currency, rate)
    with tenant_context(organization):
        row, _created = CurrencyRate.objects.update_or_create(
            organization=organization,
            currency=currency,
            date=date,
            defaults={"rate": rate, "source": source, "created_by": actor, "created_at": timezone.now()},
        )
        record_event(
            action="deals.rate_set",
            actor=actor,
            organization=organization,
            target=row,
            details={"currency": currency, "date": date.isoformat()},
        )
    return row


def import_currency_rates(*, organization, actor, content: bytes) -> int:
    """Rows of `currency,date,rate` (a header row is skipped; ISO dates; a decimal point or
    comma). All or nothing: the first bad row is reported with its line number."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("The file is not UTF-8 text."), code="encoding") from None
    parsed = []
    for line_number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row or not "".join(row).strip():
            continue
        if line_number == 1 and row[0].strip().lower() == "currency":
            continue
        if len(row) < 3:
            raise ValidationError(_("Line %(n)d: expected currency,date,rate.") % {"n": line_number}, code="columns")
        currency = row[0].strip().upper()
        try:
            day = datetime.date.fromisoformat(row[1].strip())
            rate = Decimal(row[2].strip().replace(",", "."))
        except (ValueError, InvalidOperation):
            raise ValidationError(
                _("Line %(n)d: a date is YYYY-MM-DD and a rate a number.") % {"n": line_number}, code="value"
            ) from None
        try:
            _check_rate(organization, currency, rate)
        except ValidationError as exc:
            raise ValidationError(
                _("Line %(n)d: %(error)s") % {"n": line_number, "error": " ".join(exc.messages)}, code="value"
            ) from None
        parsed.append((currency, day, rate))
        if len(parsed) > MAX_RATE_ROWS:
            raise ValidationError(_("At most %(max)d rates per file.") % {"max": MAX_RATE_ROWS}, code="too_many")
    if not parsed:
        raise ValidationError(_("The file holds no rates."), code="empty")
    now = timezone.now()
    with tenant_context(organization):
        CurrencyRate.objects.bulk_create(
            [
                CurrencyRate(
                    organization=organization,
                    currency=currency,
                    date=day,
                    rate=rate,
                    source="csv",
                    created_by=actor,
                    created_at=now,
                )
                for currency, day, rate in parsed
            ],
            update_conflicts=True,
            unique_fields=["organization", "currency", "date"],
            update_fields=["rate", "source", "created_by", "created_at"],
        )
        record_event(
            action="deals.rates_imported", actor=actor, organization=organization, details={"rows": len(parsed)}
        )
    return len(parsed)
