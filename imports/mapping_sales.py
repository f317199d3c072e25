"""The columns of a sales history file: deals (pipeline and stage by name, value and currency,
status, close date, owner, company, people by email) and transactions (date, amount,
currency, reference, description, contact or company, linked deal).

As for contacts (imports/mapping.py), a mapping is a list of `Column` entries; headers the
CRMs people leave write (Pipedrive, HubSpot, Salesforce opportunities, Zoho, a Romanian
spreadsheet) are mapped for the user, who checks them. Values are kept as written here: the
writer (imports/sales_writers.py) reads amounts, names and addresses, so the preview shows
exactly what it will store.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports.readers import Row, parse_date
from imports.records import DealRecord, TransactionRecord

DEAL_FIELDS = {
    "": gettext_lazy("Don't import"),
    "title": gettext_lazy("Title"),
    "pipeline": gettext_lazy("Pipeline (by name)"),
    "stage": gettext_lazy("Stage (by name)"),
    "value": gettext_lazy("Value"),
    "currency": gettext_lazy("Currency"),
    "status": gettext_lazy("Status (open, won, lost)"),
    "lost_reason": gettext_lazy("Lost reason"),
    "close_date": gettext_lazy("Close date"),
    "owner": gettext_lazy("Owner (member's email)"),
    "company": gettext_lazy("Company"),
    "contacts": gettext_lazy("Contacts (email addresses)"),
    "notes": gettext_lazy("Notes"),
    "tags": gettext_lazy("Tags"),
}

TRANSACTION_FIELDS = {
    "": gettext_lazy("Don't import"),
    "kind": gettext_lazy("Type (order, payment, invoice, refund)"),
    "date": gettext_lazy("Date"),
    "amount": gettext_lazy("Amount"),
    "currency": gettext_lazy("Currency"),
    "reference": gettext_lazy("Reference (invoice or order number)"),
    "description": gettext_lazy("Description"),
    "contact": gettext_lazy("Contact (email address)"),
    "company": gettext_lazy("Company"),
    "deal": gettext_lazy("Deal (its title)"),
}


def _norm(header: str) -> str:
    return " ".join(header.lower().replace("_", " ").split())


def _headers(table: dict[str, list[str]]) -> dict[str, str]:
    return {_norm(header): field for field, headers in table.items() for header in headers}


_DEAL_HEADERS = _headers(
    {
        "title": ["Title", "Deal", "Deal Title", "Deal Name", "Opportunity Name", "Name", "Titlu", "Oportunitate"],
        "pipeline": ["Pipeline", "Deal Pipeline", "Sales Pipeline", "Flux"],
        "stage": ["Stage", "Deal Stage", "Etapa", "Etapă", "Stadiu"],
        "value": ["Value", "Amount", "Deal Value", "Deal Amount", "Valoare", "Sumă", "Suma"],
        "currency": ["Currency", "Deal Currency", "Currency Code", "Monedă", "Moneda", "Valuta"],
        "status": ["Status", "Deal Status", "State", "Stare"],
        "lost_reason": ["Lost Reason", "Lost reason", "Closed Lost Reason", "Motiv pierdere"],
        "close_date": [
            "Close Date",
            "Expected Close Date",
            "Closed On",
            "Won Time",
            "Close date",
            "Data închiderii",
            "Data inchiderii",
        ],
        "owner": ["Owner", "Deal Owner", "Owner Email", "Opportunity Owner", "Responsabil"],
        "company": ["Company", "Organization", "Organisation", "Account Name", "Company Name", "Firma", "Companie"],
        "contacts": ["Contacts", "Contact", "Contact Email", "Contact Emails", "Person Email", "Email", "Persoane"],
        "notes": ["Notes", "Description", "Note", "Notițe", "Descriere"],
        "tags": ["Tags", "Labels", "Label", "Etichete"],
    }
)

_TRANSACTION_HEADERS = _headers(
    {
        "kind": ["Type", "Transaction Type", "Kind", "Tip"],
        "date": ["Date", "Transaction Date", "Invoice Date", "Order Date", "Payment Date", "Data"],
        "amount": ["Amount", "Total", "Value", "Sum", "Sumă", "Suma", "Valoare"],
        "currency": ["Currency", "Currency Code", "Monedă", "Moneda", "Valuta"],
        "reference": [
            "Reference",
            "Ref",
            "Invoice Number",
            "Invoice No",
            "Order Number",
            "Order ID",
            "Number",
            "Număr",
            "Numar",
            "Nr",
        ],
        "description": ["Description", "Details", "Notes", "Memo", "Descriere", "Detalii"],
        "contact": ["Contact", "Contact Email", "Email", "Customer Email", "E-mail", "Client Email"],
        "company": [
            "Company",
            "Organization",
            "Account Name",
            "Customer",
            "Company Name",
            "Client",
            "Firma",
            "Companie",
        ],
        "deal": ["Deal", "Deal Title", "Opportunity", "Opportunity Name", "Oportunitate"],
    }
)

# Headers that say a file holds deals or transactions, for the kind proposed at upload.
_DEAL_SIGNATURES = ({"pipeline", "stage"}, {"deal title"}, {"opportunity name", "stage"}, {"deal name", "deal stage"})
_TRANSACTION_SIGNATURES = ({"invoice number", "amount"}, {"transaction type"}, {"transaction date", "amount"})


def kind_for(headers: list[str]) -> str:
    """ "deals" or "transactions" when the headers say so; "" otherwise."""
    normalised = {_norm(h) for h in headers}
    if any(signature <= normalised for signature in _DEAL_SIGNATURES):
        return "deals"
    if any(signature <= normalised for signature in _TRANSACTION_SIGNATURES):
        return "transactions"
    return ""


def fields_for(kind: str) -> dict:
    return DEAL_FIELDS if kind == "deals" else TRANSACTION_FIELDS


def auto_map(headers: list[str], *, kind: str) -> list:
    """A mapping proposed from the header names, one column per field (the first wins)."""
    from imports.mapping import Column

    table = _DEAL_HEADERS if kind == "deals" else _TRANSACTION_HEADERS
    columns, taken = [], set()
    for index, header in enumerate(headers):
        field = table.get(_norm(header))
        if field and field not in taken:
            taken.add(field)
            columns.append(Column(index, field))
    return columns


def read_date(value: str) -> datetime.date | None:
    """A date as a sales file writes it (a spreadsheet's "2026-03-05 00:00:00" included)."""
    value = (value or "").strip()
    if len(value) > 10 and value[4:5] == "-" and value[10:11] in (" ", "T"):
        value = value[:10]
    return parse_date(value)


def _addresses(value: str) -> list[str]:
    return [part.strip() for part in re.split(r" ::: |[;,\n]", value) if part.strip()]


def _cells(row: Row, columns: list) -> dict[str, str]:
    found: dict[str, str] = {}
    width = len(row.cells)
    for col in columns:
        if not col.field or col.column >= width:
            continue
        value = row.cells[col.column].strip()
        if value and col.field not in found:
            found[col.field] = value
    return found


def _date(record, field: str, value: str, label) -> datetime.date | None:
    if not value:
        return None
    found = read_date(value)
    if found is None:
        record.problems.append(_("%(field)s: %(value)s is not a date.") % {"field": label, "value": value[:40]})
    return found


def to_deal(row: Row, columns: list) -> DealRecord:
    from imports.mapping import _tags

    values = _cells(row, columns)
    record = DealRecord(line=row.line, notes_for_user=list(row.notes))
    for name in ("title", "pipeline", "stage", "value", "currency", "status", "lost_reason", "owner", "company"):
        setattr(record, name, values.get(name, ""))
    record.notes = values.get("notes", "")
    record.contacts = _addresses(values.get("contacts", ""))
    record.tags = _tags(values.get("tags", ""))
    record.close_date = _date(record, "close_date", values.get("close_date", ""), DEAL_FIELDS["close_date"])
    if not record.title:
        record.problems.append(_("This row has no deal title."))
    return record


def to_transaction(row: Row, columns: list) -> TransactionRecord:
    values = _cells(row, columns)
    record = TransactionRecord(line=row.line, notes_for_user=list(row.notes))
    for name in ("kind", "amount", "currency", "reference", "description", "company", "deal"):
        setattr(record, name, values.get(name, ""))
    record.contact = values.get("contact", "")
    record.date = _date(record, "date", values.get("date", ""), TRANSACTION_FIELDS["date"])
    if not values.get("date"):
        record.problems.append(_("This row has no date."))
    if not record.amount:
        record.problems.append(_("This row has no amount."))
    if not record.contact and not record.company:
        record.problems.append(_("This row names no contact (email address) and no company."))
    return record


def records(rows: Iterator[Row], columns: list, *, kind: str) -> Iterator:
    convert = to_deal if kind == "deals" else to_transaction
    for row in rows:
        yield convert(row, columns)
