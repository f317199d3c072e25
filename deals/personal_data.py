"""Personal-data classification of deals and transactions (the organization is the
controller, Logicnet the processor).

A deal is the organization's business record shared by the people on it: erasing one
contact removes their link (DealContact) and leaves the deal; its title and notes, free
text about the people involved, are in their access packages. Transactions are accounting
records: their amounts, dates and references are kept under the accounting law (GDPR Art.
17(3)(b), 6(1)(c); Romanian Law 82/1991 Art. 25 keeps accounting documents for years),
their free-text description is blanked, and the contact link goes with the contact's row.
"""

from django.utils.translation import gettext_lazy as _

from logicnet.personal_data.registry import (
    Category,
    Disclose,
    Erasure,
    LegalBasis,
    Plain,
    Subject,
    anonymise,
    classify,
    define_retention,
    delete_row,
    keep,
    not_personal,
    personal,
    user_via,
)

PURPOSE = "customer_relationships"

ACCOUNTING = define_retention(
    "accounting_record",
    _(
        "financial records (orders, invoices, payments, refunds) are kept for the period the "
        "accounting law sets; their free-text description is blanked on erasure"
    ),
)

DEAL_PEOPLE = Subject("contact", "contacts")
LINE_PEOPLE = Subject("contact", "deal__contacts")
VIA_CONTACT = Subject("contact", "contact")
AMOUNT = "an amount, date or reference of an accounting record: summed and filtered in SQL, kept by law"


def _staff(lookup: str, purpose: str = "team_activity", erasure: str = Erasure.BLANK):
    return personal(
        Category.USAGE,
        subject=user_via(lookup),
        erasure=erasure,
        retention="account",
        purpose=purpose,
        disclose=Disclose.NAME,
    )


def _about_people(subject: Subject, category: str = Category.NOTES, **extra):
    return personal(category, subject=subject, retention="contact", purpose=PURPOSE, **extra)


def _plain(*names: str, note: str = "") -> dict:
    return {name: not_personal(note) for name in names}


classify(
    "deals.DealSettings",
    _plain("id", "organization", "base_currency", "updated_at", "totals_recounted_at"),
)
classify(
    "deals.DealTotal",
    _plain(
        "id",
        "organization",
        "pipeline_id",
        "stage_id",
        "owner_id",
        "status",
        "month",
        "currency",
        "deal_count",
        "value_sum",
        note=(
            "counts and sums of deals per stage, owner, month and currency, derived from the deals "
            "by the database; an owner's erasure unlinks their deals, which moves these rows with them"
        ),
    ),
)
classify(
    "deals.Pipeline",
    _plain("id", "organization", "name", "is_default", "position", "archived_at", "created_at"),
)
classify(
    "deals.Stage",
    _plain("id", "organization", "pipeline", "name", "position", "probability", "rotting_days", "archived_at"),
)
classify("deals.LostReason", _plain("id", "organization", "name", "position", "archived_at"))
classify(
    "deals.Product",
    _plain("id", "organization", "name", "code", "unit_price", "currency", "vat_rate", "archived_at"),
)
classify(
    "deals.CurrencyRate",
    {
        **_plain("id", "organization", "currency", "date", "rate", "source", "created_at"),
        "created_by": _staff("created_by"),
    },
)
classify(
    "deals.Deal",
    {
        **_plain(
            "id",
            "organization",
            "value",
            "currency",
            "expected_close",
            "pipeline",
            "stage",
            "status",
            "lost_reason",
            "closed_at",
            "position",
            "stage_entered_at",
            "last_activity_at",
            "created_at",
            "updated_at",
            "version",
            note="the organization's sales figures, not about a person",
        ),
        "company": not_personal(),
        "tags": not_personal(),
        "title": _about_people(DEAL_PEOPLE),
        "notes": _about_people(DEAL_PEOPLE),
        "contacts": _about_people(DEAL_PEOPLE, Category.USAGE),
        "owner": _staff("owner", "team_work"),
        "created_by": _staff("created_by"),
    },
    # Reached through a link several people share: the engine keeps the row and erases the
    # person's link. When the organization erases the deal itself, the title is replaced.
    erasure=anonymise(title="Deal {pk}"),
)
classify(
    "deals.DealContact",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "deal": _about_people(VIA_CONTACT, Category.USAGE),
        "contact": _about_people(VIA_CONTACT, Category.USAGE),
    },
    erasure=delete_row(),
)
classify("deals.DealTag", _plain("id", "organization", "deal", "tag"))
classify(
    "deals.DealLineItem",
    {
        **_plain("id", "organization", "deal", "product", "quantity", "unit_price", "discount", "vat_rate", "position"),
        "description": _about_people(LINE_PEOPLE),
    },
    erasure=anonymise(description="Line {pk}"),
)
classify(
    "deals.DealEvent",
    {
        **_plain(
            "id",
            "organization",
            "deal",
            "kind",
            "at",
            "from_stage",
            "to_stage",
            "from_value",
            "to_value",
            note="stage, status and value changes of a deal: names of stages and amounts",
        ),
        "actor": _staff("actor"),
    },
)


def _accounting(plaintext: str = AMOUNT, erasure: str = ""):
    return personal(
        Category.FINANCIAL,
        subject=VIA_CONTACT,
        retention=ACCOUNTING,
        purpose=PURPOSE,
        plaintext=plaintext,
        erasure=erasure,
    )


classify(
    "deals.Transaction",
    {
        "id": not_personal(),
        "organization": not_personal(),
        "kind": _accounting(Plain.CHOICE),
        "date": _accounting(Plain.TIMESTAMP),
        "amount": _accounting(),
        "currency": _accounting(Plain.CHOICE),
        "reference": _accounting(),
        "description": _accounting("", erasure=Erasure.BLANK),
        "contact": _accounting(AMOUNT),
        "company": not_personal(),
        "deal": not_personal(),
        "created_by": _staff("created_by"),
        "created_at": not_personal(),
    },
    erasure=keep(LegalBasis.LEGAL_OBLIGATION),
)
