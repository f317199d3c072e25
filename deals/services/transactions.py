"""Transactions (orders, payments, invoices, refunds) entered by hand on a contact or a company."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from deals.models import Currency, Transaction
from deals.services import check_owned
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context


def record_transaction(
    *,
    organization,
    actor,
    kind: str,
    date: datetime.date,
    amount: Decimal,
    currency: str,
    reference: str = "",
    description: str = "",
    contact=None,
    company=None,
    deal=None,
) -> Transaction:
    check_owned(organization, contact, company, deal)
    if contact is None and company is None:
        raise ValidationError(_("A transaction belongs to a contact or a company."), code="no_party")
    if kind not in Transaction.Kind.values:
        raise ValidationError({"kind": _("Choose a type.")})
    if currency not in Currency.values:
        raise ValidationError({"currency": _("Choose a currency.")})
    if amount < 0:
        raise ValidationError({"amount": _("Enter the amount without a sign; a refund is its own type.")})
    with tenant_context(organization):
        row = Transaction.objects.create(
            organization=organization,
            kind=kind,
            date=date,
            amount=amount,
            currency=currency,
            reference=reference.strip(),
            description=description.strip(),
            contact=contact,
            company=company if company is not None else getattr(contact, "company", None),
            deal=deal,
            created_by=actor,
        )
        record_event(action="transaction.recorded", actor=actor, organization=organization, target=row)
    return row


def delete_transaction(*, organization, actor, transaction: Transaction) -> None:
    check_owned(organization, transaction)
    with tenant_context(organization):
        record_event(action="transaction.deleted", actor=actor, organization=organization, target=transaction)
        transaction.delete()
