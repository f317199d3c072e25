"""The bulk writers of sales history imports: file records -> deals and transactions.

    prepared = prepare_deals(organization, records, options)   # the preview: what will be stored
    result = write_deals(organization, records, options, batch_ref=import_id, actor=user)
    revert_deals(organization, import_id, actor=user)          # deletes what the import created

The same contract as the contact writers (imports/writers.py): everything runs inside the
caller's transaction and tenant context, so the job stores its checkpoint with the batch;
rows go through the one bulk write path (logicnet/bulk: titles, notes and descriptions sealed
a batch at a time, COPY into staging, merged under row-level security); every created row is
journaled under `batch_ref` for the revert; one audit event per batch.

What a deal row becomes (`prepare_deals`, the preview and the write alike):
- its pipeline and stage are found by name among the organization's (case and spaces
  ignored); an empty pipeline is the default one, an empty stage the pipeline's first; a name
  the organization does not have fails the row, naming the ones it has;
- its value is read as people write amounts ("12.500,50", "1,200.50", "950 EUR"), in the
  currency of its column, of the amount cell, or the organization's base currency; a
  currency deals may not use (deals.services.settings.allowed_currencies) fails the row;
- its status is open, won or lost (English or Romanian); a lost deal needs a lost reason of
  the organization's list; won and lost deals are closed on the close date (or today);
- its owner is a member found by email (another address: the import's owner, with a note);
- its people are existing contacts found by email through the blind index (an unknown
  address is noted, not created: a deal file is not where people come from); its company is
  matched by name or created, as a contact import does.
Deals are always created (a deal has no key another system shares); a deal is never updated.

What a transaction row becomes (`prepare_transactions`): a type (order, payment, invoice,
refund; payment when the file has none), a date, an amount with no sign and its currency, the
contact found by email and the company matched by name or created (a contact's own company
when the row names none), and the deal of that contact or company with that title (or this
CRM's deal id). A row whose type and reference were recorded already is skipped: importing
the same invoices twice records them once.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from contacts.models import Company, Contact
from deals.models import Currency, Deal, DealContact, DealEvent, DealTag, LostReason, Pipeline, Transaction
from deals.services.pipelines import default_pipeline
from deals.services.settings import allowed_currencies, base_currency
from imports.records import BatchResult, DealRecord, ImportOptions, RowOutcome, TransactionRecord
from imports.writers import EMAIL_OWNERS, _company_ids, _Digests, _owners_by_digest, _tag_ids, _tags, _text
from logicnet import normalize
from logicnet.audit.services import record_batch_event
from logicnet.bulk.journal import journal_created, journaled_lines, revert_batch
from logicnet.bulk.writes import insert_rows
from logicnet.tenancy.context import tenant_context

DEAL_IMPORTED = "deal.imported"
TRANSACTION_IMPORTED = "transaction.imported"
MAX_AMOUNT = Decimal("99999999999999.99")  # deals.models.MONEY: 16 digits, 2 decimals

STATUS_WORDS = {
    Deal.Status.OPEN: ("open", "deschis", "deschisă", "deschisa", "in progress", "în lucru", "in lucru", "active"),
    Deal.Status.WON: ("won", "closed won", "câștigat", "câștigată", "castigat", "castigata", "win"),
    Deal.Status.LOST: ("lost", "closed lost", "pierdut", "pierdută", "pierduta"),
}
KIND_WORDS = {
    Transaction.Kind.ORDER: ("order", "comandă", "comanda", "sales order"),
    Transaction.Kind.PAYMENT: ("payment", "plată", "plata", "încasare", "incasare", "receipt"),
    Transaction.Kind.INVOICE: ("invoice", "factură", "factura", "bill"),
    Transaction.Kind.REFUND: ("refund", "rambursare", "credit note", "storno", "stornare"),
}
CURRENCY_WORDS = {"lei": "RON", "leu": "RON", "ron": "RON", "€": "EUR", "euro": "EUR", "$": "USD", "£": "GBP"}
_AMOUNT = re.compile(r"^[+-]?\d[\d.,' \u00a0\u202f]*$")


def _fold(value: str) -> str:
    return " ".join((value or "").split()).casefold()


def _word(value: str, table: dict) -> str | None:
    """The key of `table` whose words hold `value` (folded); "" for an empty value."""
    folded = _fold(value)
    if not folded:
        return ""
    return next((key for key, words in table.items() if folded == key or folded in words), None)


def read_amount(text: str) -> tuple[Decimal | None, str]:
    """(amount, currency written in the cell) of an amount as people write it: "12.500,50",
    "12,500.50", "1 200", "950 EUR", "€ 10". None when it is not an amount.

    A separator that appears more than once, or once followed by exactly three digits, groups
    thousands; the last of two different ones is the decimal separator."""
    text = (text or "").strip()
    currency = ""
    for word in sorted(CURRENCY_WORDS, key=len, reverse=True):
        for candidate in (word, word.upper(), word.capitalize()):
            if text.endswith(candidate) or text.startswith(candidate):
                currency = CURRENCY_WORDS[word]
                text = (text[len(candidate) :] if text.startswith(candidate) else text[: -len(candidate)]).strip()
                break
        if currency:
            break
    if not currency:
        code = re.search(r"(?:^|\s)([A-Z]{3})$|^([A-Z]{3})(?:\s|$)", text)
        if code:
            currency = code.group(1) or code.group(2)
            text = text.replace(currency, "").strip()
    if not _AMOUNT.match(text):
        return None, currency
    sign = "-" if text.startswith("-") else ""
    digits = re.sub(r"[' \u00a0\u202f+-]", "", text)
    dots, commas = digits.count("."), digits.count(",")
    if dots and commas:
        decimal_mark = "." if digits.rfind(".") > digits.rfind(",") else ","
    elif dots + commas == 1:
        mark = "." if dots else ","
        decimal_mark = "" if len(digits) - digits.index(mark) - 1 == 3 else mark
    else:
        decimal_mark = ""  # none, or one repeated: thousands
    grouping = {".", ","} - {decimal_mark}
    for mark in grouping:
        digits = digits.replace(mark, "")
    if decimal_mark:
        whole, _sep, fraction = digits.partition(decimal_mark)
        if decimal_mark in fraction:
            return None, currency
        digits = f"{whole}.{fraction}"
    try:
        amount = Decimal(sign + digits)
    except InvalidOperation:
        return None, currency
    return amount, currency


def _money(raw: str, column_currency: str, label, errors: list[str]) -> tuple[Decimal, str]:
    amount, written = read_amount(raw)
    currency = (column_currency or "").strip()
    currency = CURRENCY_WORDS.get(currency.casefold(), currency.upper()) if currency else written
    if raw and amount is None:
        errors.append(_("%(field)s: %(value)s is not an amount.") % {"field": label, "value": raw[:40]})
        return Decimal("0"), currency
    amount = amount or Decimal("0")
    if amount != amount.quantize(Decimal("0.01")):
        errors.append(_("%(field)s: %(value)s has more than two decimals.") % {"field": label, "value": raw[:40]})
    elif abs(amount) > MAX_AMOUNT:
        errors.append(_("%(field)s: %(value)s is too large.") % {"field": label, "value": raw[:40]})
    return amount.quantize(Decimal("0.01")) if abs(amount) <= MAX_AMOUNT else Decimal("0"), currency


def _email_owners(organization, digests: _Digests, addresses: set[str]) -> dict[str, int]:
    """Folded email address -> the contact holding it (its main or a further address)."""
    by_digest: dict[str, str] = {}
    for address in addresses:
        for digest in digests.email(address):
            by_digest[digest] = address
    owners = _owners_by_digest(EMAIL_OWNERS, organization.pk, sorted(by_digest))
    found: dict[str, int] = {}
    for digest, pk in owners.items():
        found.setdefault(by_digest[digest], pk)
    return found


def _clean_address(value: str) -> str:
    return normalize.clean_email(value).lower()


def _existing_companies(organization, digests: _Digests, names: set[str]) -> dict[str, int]:
    """Company name (as written) -> the existing company of that name (matched as the contact
    import matches them: the exact-name blind index)."""
    by_digest: dict[str, str] = {}
    for name in names:
        for digest in digests.name(name):
            by_digest.setdefault(digest, name)
    found: dict[str, int] = {}
    if by_digest:
        rows = Company.objects.filter(organization=organization, name_index__in=list(by_digest)).order_by(
            "created_at", "pk"
        )
        for digest, pk in rows.values_list("name_index", "pk"):
            found.setdefault(by_digest[digest], pk)
    return found


@dataclasses.dataclass
class PreparedSale:
    """A deal or transaction row as it will be stored: `values` for the preview (names and
    addresses as the user knows them), `refs` the ids it will be stored with."""

    line: int
    errors: list[str]
    values: dict[str, Any]
    refs: dict[str, Any] = dataclasses.field(default_factory=dict)
    match: int | None = None
    skip: str = ""
    notes: list[str] = dataclasses.field(default_factory=list)


# --- deals ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class _DealSetup:
    """The organization's pipelines, stages, lost reasons, members and currencies, read once a batch."""

    pipelines: dict[str, Pipeline]
    default_pipeline: Pipeline | None
    stages: dict[int, dict[str, Any]]  # pipeline id -> folded name -> stage
    first_stage: dict[int, Any]
    lost_reasons: dict[str, LostReason]
    members: dict[str, int]
    currencies: list[str]

    @classmethod
    def of(cls, organization, actor=None) -> _DealSetup:
        if not Pipeline.objects.filter(organization=organization, archived_at=None).exists():
            default_pipeline(organization, actor)  # the organization's first, as the board makes it
        pipelines = list(
            Pipeline.objects.filter(organization=organization, archived_at=None).prefetch_related("stages")
        )
        stages: dict[int, dict[str, Any]] = {}
        first: dict[int, Any] = {}
        for pipeline in pipelines:
            live = sorted((s for s in pipeline.stages.all() if s.archived_at is None), key=lambda s: (s.position, s.pk))
            stages[pipeline.pk] = {_fold(s.name): s for s in live}
            first[pipeline.pk] = live[0] if live else None
        default = next((p for p in pipelines if p.is_default), pipelines[0] if pipelines else None)
        members = Membership.objects.filter(organization=organization).values_list("user__email", "user_id")
        return cls(
            pipelines={_fold(p.name): p for p in pipelines},
            default_pipeline=default,
            stages=stages,
            first_stage=first,
            lost_reasons={
                _fold(r.name): r for r in LostReason.objects.filter(organization=organization, archived_at=None)
            },
            members={email.casefold(): pk for email, pk in members if email},
            currencies=allowed_currencies(organization),
        )


def _normalise_deal(record: DealRecord, options: ImportOptions, setup: _DealSetup, actor_id) -> PreparedSale:
    errors = list(record.problems)
    notes: list[str] = []  # the writer's own; the reader's go to the report from the job
    title = _text(record.title, 200, _("Title"), errors)
    refs: dict[str, Any] = {}
    pipeline = setup.pipelines.get(_fold(record.pipeline)) if record.pipeline else setup.default_pipeline
    if pipeline is None:
        if record.pipeline:
            names = ", ".join(p.name for p in setup.pipelines.values())
            errors.append(
                _("There is no pipeline %(name)s (the pipelines are: %(names)s).")
                % {"name": record.pipeline[:80], "names": names}
            )
        else:
            errors.append(_("The organization has no pipeline yet: create one on the deals board first."))
        stage = None
    else:
        stage = setup.stages[pipeline.pk].get(_fold(record.stage)) if record.stage else setup.first_stage[pipeline.pk]
        if stage is None:
            names = ", ".join(s.name for s in setup.stages[pipeline.pk].values())
            errors.append(
                _("The pipeline %(pipeline)s has no stage %(name)s (its stages are: %(names)s).")
                % {"pipeline": pipeline.name, "name": record.stage[:80], "names": names}
            )
    value, currency = _money(record.value, record.currency, _("Value"), errors)
    currency = currency or setup.currencies[0]
    if value < 0:
        errors.append(_("The value cannot be negative."))
    if currency not in setup.currencies:
        errors.append(
            _("Deals are in %(allowed)s, not %(currency)s.")
            % {"allowed": ", ".join(setup.currencies), "currency": currency[:10]}
        )
    status = _word(record.status, STATUS_WORDS)
    if status is None:
        errors.append(_("%(value)s is not a status (open, won or lost).") % {"value": record.status[:40]})
    status = status or Deal.Status.OPEN
    lost_reason = None
    if status == Deal.Status.LOST:
        lost_reason = setup.lost_reasons.get(_fold(record.lost_reason)) if record.lost_reason else None
        if lost_reason is None:
            names = ", ".join(r.name for r in setup.lost_reasons.values()) or "—"
            errors.append(
                _("A lost deal needs a lost reason of the organization's list (%(names)s).") % {"names": names}
            )
    owner_id = options.owner_id or actor_id
    owner_email = ""
    if record.owner:
        found = setup.members.get(record.owner.strip().casefold())
        if found is None:
            notes.append(
                _("%(value)s is not a member of the organization: the deal goes to the import's owner.")
                % {"value": record.owner[:80]}
            )
        else:
            owner_id, owner_email = found, record.owner.strip().lower()
    addresses = []
    for address in record.contacts:
        cleaned = _clean_address(address)
        if "@" not in cleaned:
            errors.append(_("%(value)s is not a valid email address.") % {"value": address[:80]})
        elif cleaned not in addresses:
            addresses.append(cleaned)
    refs.update(
        pipeline_id=pipeline.pk if pipeline else None,
        stage_id=stage.pk if stage else None,
        lost_reason_id=lost_reason.pk if lost_reason else None,
        owner_id=owner_id,
    )
    values = {
        "title": title,
        "pipeline": pipeline.name if pipeline else "",
        "stage": stage.name if stage else "",
        "value": value,
        "currency": currency,
        "status": status,
        "lost_reason": lost_reason.name if lost_reason else "",
        "close_date": record.close_date,
        "owner": owner_email,
        "company": _text(record.company, 200, _("Company"), errors),
        "contacts": addresses,
        "notes": (record.notes or "").strip(),
        "tags": _tags([*options.tags, *record.tags], errors),
    }
    return PreparedSale(line=record.line, errors=errors, values=values, refs=refs, notes=notes)


def _link_people(organization, prepared: list[PreparedSale]) -> None:
    """Each valid row's contacts by email, and its existing company; a missing address noted."""
    digests = _Digests(organization)
    addresses = {a for p in prepared if not p.errors for a in p.values["contacts"]}
    owners = _email_owners(organization, digests, addresses) if addresses else {}
    companies = {p.values["company"] for p in prepared if not p.errors and p.values["company"]}
    existing = _existing_companies(organization, digests, companies)
    for row in prepared:
        if row.errors:
            continue
        row.refs["contact_ids"] = list(dict.fromkeys(owners[a] for a in row.values["contacts"] if a in owners))
        for address in row.values["contacts"]:
            if address not in owners:
                row.notes.append(
                    _("No contact has the address %(value)s: the deal was imported without them.") % {"value": address}
                )
        row.values["contacts"] = [a for a in row.values["contacts"] if a in owners]
        if row.values["company"]:
            row.refs["company_id"] = existing.get(row.values["company"])


def prepare_deals(organization, records: list[DealRecord], options: ImportOptions, *, actor=None) -> list[PreparedSale]:
    """Each record validated and read exactly as it will be stored (the preview)."""
    with tenant_context(organization):
        setup = _DealSetup.of(organization, actor)
        actor_id = getattr(actor, "pk", actor)
        prepared = [_normalise_deal(r, options, setup, actor_id) for r in records]
        _link_people(organization, prepared)
    return prepared


def _closed_at(close_date: datetime.date | None, now: datetime.datetime) -> datetime.datetime:
    if close_date is None or close_date >= timezone.localdate(now):
        return now
    return timezone.make_aware(datetime.datetime.combine(close_date, datetime.time(12)))


def write_deals(
    organization, records: list[DealRecord], options: ImportOptions, *, batch_ref: int, actor
) -> BatchResult:
    """Create the batch's deals with their people, tags and first history events."""
    result = BatchResult()
    now = timezone.now()
    actor_id = getattr(actor, "pk", actor)
    with tenant_context(organization):
        prepared = prepare_deals(organization, records, options, actor=actor)
        creates = []
        for row in prepared:
            if row.errors:
                result.failed += 1
                result.outcomes.append(RowOutcome(row.line, "failed", "; ".join(row.errors)))
            else:
                creates.append(row)
        names = {}
        for row in creates:
            if row.values["company"] and row.refs.get("company_id") is None:
                names.setdefault(row.values["company"], row.line)
        company_ids, new_companies = _company_ids(
            organization, names, actor, options.owner_id, batch_ref, _Digests(organization)
        )
        stage_ids = {row.refs["stage_id"] for row in creates}
        ends = dict(
            Deal.objects.filter(organization=organization, stage_id__in=stage_ids)
            .values("stage_id")
            .annotate(end=Max("position"))
            .values_list("stage_id", "end")
        )
        rows = []
        for row in creates:
            values, refs = row.values, row.refs
            ends[refs["stage_id"]] = (ends.get(refs["stage_id"]) or 0) + Deal.POSITION_STEP
            closed = values["status"] != Deal.Status.OPEN
            rows.append(
                {
                    "title": values["title"],
                    "value": values["value"],
                    "currency": values["currency"],
                    "expected_close": values["close_date"],
                    "owner_id": refs["owner_id"],
                    "pipeline_id": refs["pipeline_id"],
                    "stage_id": refs["stage_id"],
                    "company_id": refs.get("company_id") or company_ids.get(values["company"]),
                    "status": values["status"],
                    "lost_reason_id": refs["lost_reason_id"],
                    "closed_at": _closed_at(values["close_date"], now) if closed else None,
                    "notes": values["notes"],
                    "position": ends[refs["stage_id"]],
                    "stage_entered_at": now,
                    "last_activity_at": now,
                    "created_by_id": actor_id,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
        created = insert_rows(Deal, organization, rows)
        journal_created(organization, batch_ref, Deal, created, [row.line for row in creates])
        pairs = list(zip(created, creates, strict=True))
        insert_rows(
            DealContact,
            organization,
            [{"deal_id": pk, "contact_id": c} for pk, row in pairs for c in row.refs.get("contact_ids", [])],
        )
        tag_ids = _tag_ids(organization, [n for row in creates for n in row.values["tags"]])
        insert_rows(
            DealTag,
            organization,
            [
                {"deal_id": pk, "tag_id": t}
                for pk, row in pairs
                for t in dict.fromkeys(tag_ids[n.casefold()] for n in row.values["tags"])
            ],
        )
        events = []
        for pk, row in pairs:
            values = row.values
            events.append(
                {
                    "deal_id": pk,
                    "kind": DealEvent.Kind.CREATED,
                    "at": now,
                    "actor_id": actor_id,
                    "from_stage_id": None,
                    "to_stage_id": row.refs["stage_id"],
                    "from_value": "",
                    "to_value": f"{values['value']} {values['currency']}",
                }
            )
            if values["status"] != Deal.Status.OPEN:
                events.append(
                    {
                        "deal_id": pk,
                        "kind": DealEvent.Kind.STATUS,
                        "at": now,  # when it was recorded here; the deal's closed_at keeps the file's date
                        "actor_id": actor_id,
                        "from_stage_id": None,
                        "to_stage_id": None,
                        "from_value": Deal.Status.OPEN,
                        "to_value": values["status"],
                    }
                )
        # every row names every column: insert_rows fills defaults only for columns no row names
        insert_rows(DealEvent, organization, events)
        result.created = len(created)
        record_batch_event(
            action=DEAL_IMPORTED,
            actor=actor,
            organization=organization,
            target_type="deal",
            ids=created,
            details={
                "batch_ref": batch_ref,
                "created": len(created),
                "failed": result.failed,
                "companies_created": new_companies,
            },
        )
    _notes_as_outcomes(result, prepared)
    return result


def _notes_as_outcomes(result: BatchResult, prepared: list[PreparedSale]) -> None:
    """What the writer decided for a row it still wrote (an unknown owner or address) goes
    into the row report as a note."""
    for row in prepared:
        if not row.errors and not row.skip:
            result.outcomes += [RowOutcome(row.line, "note", note) for note in row.notes]
    result.outcomes.sort(key=lambda outcome: outcome.line)


def revert_deals(organization, batch_ref: int, *, actor, max_chunks: int | None = None) -> dict[str, int]:
    """Delete the deals an import created (their people links, tags and history go with them;
    transactions recorded since keep their row, without the deal) and the companies it made."""
    with tenant_context(organization):
        return revert_batch(
            organization,
            batch_ref,
            actor=actor,
            order=[Deal, Company],
            action="deal.import_reverted",
            max_chunks=max_chunks,
        )


# --- transactions ----------------------------------------------------------------------------------


def _normalise_transaction(record: TransactionRecord, base: str) -> PreparedSale:
    errors = list(record.problems)
    kind = _word(record.kind, KIND_WORDS)
    if kind is None:
        errors.append(_("%(value)s is not a type (order, payment, invoice or refund).") % {"value": record.kind[:40]})
    amount, currency = _money(record.amount, record.currency, _("Amount"), errors)
    currency = currency or base
    if currency not in Currency.values:
        errors.append(_("%(value)s is not a currency the CRM keeps.") % {"value": currency[:10]})
    if amount < 0:
        errors.append(_("Enter the amount without a sign; a refund is its own type."))
    if record.date is not None and record.date > timezone.localdate() + datetime.timedelta(days=366):
        errors.append(_("The date %(value)s is more than a year ahead.") % {"value": record.date.isoformat()})
    contact = _clean_address(record.contact) if record.contact else ""
    if record.contact and "@" not in contact:
        errors.append(_("%(value)s is not a valid email address.") % {"value": record.contact[:80]})
    values = {
        "kind": kind or Transaction.Kind.PAYMENT,
        "date": record.date,
        "amount": amount,
        "currency": currency,
        "reference": _text(record.reference, 60, _("Reference"), errors),
        "description": (record.description or "").strip(),
        "contact": contact,
        "company": _text(record.company, 200, _("Company"), errors),
        "deal": _text(record.deal, 200, _("Deal"), errors),
    }
    return PreparedSale(line=record.line, errors=errors, values=values)


def _deal_of(organization, prepared: list[PreparedSale]) -> None:
    """Each row's deal: this CRM's id ("123" or "#123") of a deal of the organization, or
    the title (case and spaces ignored) of a deal of the row's contact or company. Titles
    are encrypted, so only the deals of the batch's contacts and companies are read."""
    wanted = [row for row in prepared if not row.errors and row.values["deal"]]
    if not wanted:
        return
    by_id = {row.values["deal"].lstrip("#"): row for row in wanted if row.values["deal"].lstrip("#").isdigit()}
    ids = set(
        Deal.objects.filter(organization=organization, pk__in=[int(v) for v in by_id]).values_list("pk", flat=True)
    )
    contact_ids = {row.refs.get("contact_id") for row in wanted} - {None}
    company_ids = {row.refs.get("company_id") for row in wanted} - {None}
    links = DealContact.objects.filter(organization=organization, contact_id__in=contact_ids)
    people: dict[int, list[int]] = {}
    for deal_id, contact_id in links.values_list("deal_id", "contact_id"):
        people.setdefault(deal_id, []).append(contact_id)
    candidates = Deal.objects.filter(organization=organization).filter(
        Q(company_id__in=company_ids) | Q(pk__in=list(people))
    )
    titles: dict[tuple[str, int, str], list[int]] = {}
    for deal in candidates.only("pk", "title", "company_id", "organization_id"):
        folded = _fold(deal.title)
        if deal.company_id:
            titles.setdefault(("company", deal.company_id, folded), []).append(deal.pk)
        for contact_id in people.get(deal.pk, ()):
            titles.setdefault(("contact", contact_id, folded), []).append(deal.pk)
    for row in wanted:
        text = row.values["deal"]
        if text.lstrip("#").isdigit() and int(text.lstrip("#")) in ids:
            row.refs["deal_id"] = int(text.lstrip("#"))
            continue
        folded = _fold(text)
        found = titles.get(("contact", row.refs.get("contact_id"), folded)) or titles.get(
            ("company", row.refs.get("company_id"), folded)
        )
        if found and len(set(found)) == 1:
            row.refs["deal_id"] = found[0]
        else:
            reason = (
                _("several deals of this contact or company are titled %(title)s")
                if found
                else _("no deal of this contact or company is titled %(title)s")
            ) % {"title": text[:80]}
            row.notes.append(_("%(reason)s: the transaction was imported without a deal.") % {"reason": reason})


def prepare_transactions(
    organization, records: list[TransactionRecord], options: ImportOptions, *, actor=None
) -> list[PreparedSale]:
    """Each record validated and read exactly as it will be stored (the preview), with the
    transaction it repeats (same type and reference) as its match."""
    with tenant_context(organization):
        base = base_currency(organization)
        prepared = [_normalise_transaction(r, base) for r in records]
        digests = _Digests(organization)
        addresses = {p.values["contact"] for p in prepared if not p.errors and p.values["contact"]}
        owners = _email_owners(organization, digests, addresses) if addresses else {}
        contact_companies = dict(
            Contact.objects.filter(organization=organization, pk__in=set(owners.values())).values_list(
                "pk", "company_id"
            )
        )
        names = {p.values["company"] for p in prepared if not p.errors and p.values["company"]}
        existing = _existing_companies(organization, digests, names)
        references = {(p.values["kind"], p.values["reference"]) for p in prepared if p.values["reference"]}
        recorded: dict[tuple[str, str], int] = {}
        if references:
            stored = Transaction.objects.filter(
                organization=organization, reference__in=sorted({reference for _kind, reference in references})
            ).values_list("pk", "kind", "reference")
            for pk, kind, reference in stored:
                if (kind, reference) in references:
                    recorded.setdefault((kind, reference), pk)
        seen: dict[tuple[str, str], int] = {}
        for row in prepared:
            if row.errors:
                continue
            values, refs = row.values, row.refs
            if values["contact"]:
                refs["contact_id"] = owners.get(values["contact"])
                if refs["contact_id"] is None:
                    if values["company"]:
                        row.notes.append(
                            _("No contact has the address %(value)s: the transaction goes to the company only.")
                            % {"value": values["contact"]}
                        )
                        values["contact"] = ""
                    else:
                        row.errors.append(_("No contact has the address %(value)s.") % {"value": values["contact"]})
                        continue
            if values["company"]:
                refs["company_id"] = existing.get(values["company"])
            elif refs.get("contact_id"):
                refs["company_id"] = contact_companies.get(refs["contact_id"])
            key = (values["kind"], values["reference"])
            if values["reference"]:
                row.match = recorded.get(key)
                if key in seen:
                    row.skip = _("duplicate of line %(line)d") % {"line": seen[key]}
                elif row.match is not None:
                    row.skip = _("already recorded (%(kind)s %(reference)s)") % {
                        "kind": Transaction.Kind(values["kind"]).label,
                        "reference": values["reference"],
                    }
                seen.setdefault(key, row.line)
        _deal_of(organization, [row for row in prepared if not row.skip])
    return prepared


def write_transactions(
    organization, records: list[TransactionRecord], options: ImportOptions, *, batch_ref: int, actor
) -> BatchResult:
    result = BatchResult()
    now = timezone.now()
    actor_id = getattr(actor, "pk", actor)
    with tenant_context(organization):
        prepared = prepare_transactions(organization, records, options, actor=actor)
        earlier = journaled_lines(organization, batch_ref, Transaction, [p.match for p in prepared if p.match])
        creates = []
        for row in prepared:
            if row.errors:
                result.failed += 1
                result.outcomes.append(RowOutcome(row.line, "failed", "; ".join(row.errors)))
                continue
            if row.match is not None and row.match in earlier:
                # recorded by an earlier batch of this import: a duplicate inside the file
                row.skip = _("duplicate of line %(line)d") % {"line": earlier[row.match] or 0}
            if row.skip:
                result.skipped += 1
                result.outcomes.append(RowOutcome(row.line, "skipped", row.skip, row.match))
                continue
            creates.append(row)
        names = {}
        for row in creates:
            if row.values["company"] and row.refs.get("company_id") is None:
                names.setdefault(row.values["company"], row.line)
        company_ids, new_companies = _company_ids(
            organization, names, actor, options.owner_id, batch_ref, _Digests(organization)
        )
        rows = [
            {
                "kind": row.values["kind"],
                "date": row.values["date"],
                "amount": row.values["amount"],
                "currency": row.values["currency"],
                "reference": row.values["reference"],
                "description": row.values["description"],
                "contact_id": row.refs.get("contact_id"),
                "company_id": row.refs.get("company_id") or company_ids.get(row.values["company"]),
                "deal_id": row.refs.get("deal_id"),
                "created_by_id": actor_id,
                "created_at": now,
            }
            for row in creates
        ]
        created = insert_rows(Transaction, organization, rows)
        journal_created(organization, batch_ref, Transaction, created, [row.line for row in creates])
        result.created = len(created)
        record_batch_event(
            action=TRANSACTION_IMPORTED,
            actor=actor,
            organization=organization,
            target_type="transaction",
            ids=created,
            details={
                "batch_ref": batch_ref,
                "created": len(created),
                "skipped": result.skipped,
                "failed": result.failed,
                "companies_created": new_companies,
            },
        )
    _notes_as_outcomes(result, prepared)
    return result


def revert_transactions(organization, batch_ref: int, *, actor, max_chunks: int | None = None) -> dict[str, int]:
    with tenant_context(organization):
        return revert_batch(
            organization,
            batch_ref,
            actor=actor,
            order=[Transaction, Company],
            action="transaction.import_reverted",
            max_chunks=max_chunks,
        )
