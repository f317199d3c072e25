"""What a file row becomes before it is stored: the contract between the readers (CSV, XLSX,
vCard, and the known-export mappings) and the bulk writers.

A reader yields records in file order; a writer validates and normalises them (`prepare_*`,
also used by the preview, so the preview shows exactly what will be stored) and writes them a
batch at a time inside the caller's transaction (`write_*`), so that the job can store its
checkpoint in the same transaction: a worker killed mid-batch loses the batch's transaction
and resumes from the checkpoint with no duplicate and no lost row.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum


class Mode(enum.StrEnum):
    CREATE = "create"  # create only: a row that matches an existing record is skipped
    UPDATE = "update"  # update only: a row that matches nothing is skipped
    CREATE_UPDATE = "create_update"


class MatchOn(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    EXTERNAL_ID = "external_id"


@dataclasses.dataclass
class Labelled:
    """One email address or phone number with its label (contacts.models.Label values)."""

    value: str
    label: str = ""


@dataclasses.dataclass
class Address:
    label: str = ""
    street: str = ""
    city: str = ""
    postal_code: str = ""
    region: str = ""
    country: str = ""  # as written in the file; the writer turns it into ISO 3166-1 alpha-2


@dataclasses.dataclass
class ContactRecord:
    line: int  # 1-based row number in the file (the header is line 1 in a CSV), for error reports
    first_name: str = ""
    last_name: str = ""
    emails: list[Labelled] = dataclasses.field(default_factory=list)  # first is the primary
    phones: list[Labelled] = dataclasses.field(default_factory=list)  # first is the primary
    addresses: list[Address] = dataclasses.field(default_factory=list)
    company: str = ""  # company name, matched to an existing company or created
    job_title: str = ""
    notes: str = ""
    date_of_birth: datetime.date | None = None
    preferred_language: str = ""
    external_id: str = ""  # the other system's id, for matching on re-import
    tags: list[str] = dataclasses.field(default_factory=list)
    custom: dict[str, str] = dataclasses.field(default_factory=dict)  # custom field key -> raw value
    problems: list[str] = dataclasses.field(default_factory=list)  # what the reader could not read
    notes_for_user: list[str] = dataclasses.field(default_factory=list)  # e.g. "photo dropped"


@dataclasses.dataclass
class CompanyRecord:
    line: int
    name: str = ""
    domain: str = ""
    industry: str = ""
    phone: str = ""
    address: str = ""
    notes: str = ""
    external_id: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class DealRecord:
    """A deal of a sales history file: pipeline and stage by name, people by email address."""

    line: int
    title: str = ""
    pipeline: str = ""  # a pipeline's name; the default pipeline when empty
    stage: str = ""  # a stage's name in that pipeline; its first stage when empty
    value: str = ""  # as written ("12.500,00", "1,200.50 EUR"); the writer reads it
    currency: str = ""  # an ISO code; the organization's base currency when empty
    status: str = ""  # open, won or lost (also in Romanian); open when empty
    lost_reason: str = ""  # a reason of the organization's list, for a lost deal
    close_date: datetime.date | None = None
    owner: str = ""  # a member's email address
    company: str = ""  # company name, matched to an existing company or created
    contacts: list[str] = dataclasses.field(default_factory=list)  # email addresses of existing contacts
    notes: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)
    notes_for_user: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class TransactionRecord:
    """An order, payment, invoice or refund of a contact (by email) or a company (by name)."""

    line: int
    kind: str = ""  # order, payment, invoice, refund (also in Romanian); payment when empty
    date: datetime.date | None = None
    amount: str = ""  # as written; the writer reads it
    currency: str = ""
    reference: str = ""  # an invoice or order number: a second import of it is skipped
    description: str = ""
    contact: str = ""  # an existing contact's email address
    company: str = ""  # company name, matched or created
    deal: str = ""  # a deal of that contact or company, by its title (or its id in this CRM)
    problems: list[str] = dataclasses.field(default_factory=list)
    notes_for_user: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ImportOptions:
    mode: Mode = Mode.CREATE_UPDATE
    match_on: MatchOn = MatchOn.EMAIL
    tags: list[str] = dataclasses.field(default_factory=list)  # added to every imported record
    owner_id: int | None = None
    # Where the data came from and on which basis it is processed (GDPR Art. 14 and 15(1)(g)),
    # recorded per imported person, e.g. "Existing customers, legitimate interest".
    source_detail: str = ""
    lawful_basis: str = ""


@dataclasses.dataclass
class RowOutcome:
    line: int
    action: str  # "created", "updated", "skipped", "failed"
    reason: str = ""  # for skipped and failed rows, shown to the user and in the error CSV
    record_id: int | None = None


@dataclasses.dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    outcomes: list[RowOutcome] = dataclasses.field(default_factory=list)  # skipped and failed only
