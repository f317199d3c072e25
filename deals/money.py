"""Decimal arithmetic of deals: conversion to the base currency by the rate of a date,
weighted values, line totals. Never float: every result is a Decimal rounded half-up to
the cent, as an invoice would be."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def weighted(value: Decimal, probability: int) -> Decimal:
    """The value times the stage's win probability (a percent)."""
    return cents(value * Decimal(probability) / HUNDRED)


def line_total(quantity: Decimal, unit_price: Decimal, discount: Decimal, vat_rate: Decimal) -> tuple[Decimal, Decimal]:
    """(net, gross) of a line: quantity x unit price less the discount percent, then VAT."""
    net = cents(quantity * unit_price * (HUNDRED - discount) / HUNDRED)
    gross = cents(net * (HUNDRED + vat_rate) / HUNDRED)
    return net, gross


class RateBook:
    """The organization's rates, loaded once for a page: `rate(currency, day)` is the rate
    of the latest date on or before `day` (None when there is none: the amount is shown
    as unconverted rather than guessed)."""

    def __init__(self, base_currency: str, rates: Iterable[tuple[str, datetime.date, Decimal]]) -> None:
        self.base = base_currency
        self._by_currency: dict[str, list[tuple[datetime.date, Decimal]]] = {}
        for currency, day, rate in rates:
            self._by_currency.setdefault(currency, []).append((day, rate))
        for series in self._by_currency.values():
            series.sort()

    def rate(self, currency: str, day: datetime.date) -> Decimal | None:
        if currency == self.base:
            return Decimal(1)
        found = None
        for rate_day, rate in self._by_currency.get(currency, ()):
            if rate_day > day:
                break
            found = rate
        return found

    def to_base(self, amount: Decimal, currency: str, day: datetime.date) -> Decimal | None:
        rate = self.rate(currency, day)
        return None if rate is None else cents(amount * rate)


def rate_book(organization, day: datetime.date | None = None) -> RateBook:
    """The organization's rate book (up to `day` when given). Run inside its tenant context."""
    from deals.models import CurrencyRate
    from deals.services.settings import base_currency

    rates = CurrencyRate.objects.filter(organization=organization)
    if day is not None:
        rates = rates.filter(date__lte=day)
    return RateBook(base_currency(organization), rates.values_list("currency", "date", "rate"))
