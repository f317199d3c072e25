"""From the columns of a file to records: the known exports recognised by their headers
(Google legacy and current, Outlook, Thunderbird, LinkedIn, Salesforce report and data tree),
and the column mapping a user edits and saves.

A mapping is a list of `Column` entries, stored as JSON: which file column goes to which
field, with a label (home, work, mobile, other) and a group. The group ties together the
columns of one multi-part value: Google's "E-mail 2 - Type" labels "E-mail 2 - Value", and
"Home Street", "Home City" … make one address. A cell of an email or phone column may hold
several values (Google writes "a@x.ro ::: b@y.ro"): each becomes its own email or phone.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imports.readers import Row, parse_date
from imports.records import Address, CompanyRecord, ContactRecord, Labelled

MULTI_VALUE = " ::: "
SALES_KINDS = ("deals", "transactions")  # their columns: imports/mapping_sales.py
LABELS = ("work", "home", "mobile", "other")

CONTACT_FIELDS = {
    "": gettext_lazy("Don't import"),
    "first_name": gettext_lazy("First name"),
    "middle_name": gettext_lazy("Middle name"),
    "last_name": gettext_lazy("Last name"),
    "full_name": gettext_lazy("Full name (split into first and last)"),
    "email": gettext_lazy("Email"),
    "email_label": gettext_lazy("Email label"),
    "phone": gettext_lazy("Phone"),
    "phone_label": gettext_lazy("Phone label"),
    "company": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "notes": gettext_lazy("Notes"),
    "date_of_birth": gettext_lazy("Date of birth"),
    "external_id": gettext_lazy("ID in the other system"),
    "tags": gettext_lazy("Tags"),
    "street": gettext_lazy("Street"),
    "city": gettext_lazy("City"),
    "postal_code": gettext_lazy("Postal code"),
    "region": gettext_lazy("Region"),
    "country": gettext_lazy("Country"),
    "address_label": gettext_lazy("Address label"),
    "formatted_address": gettext_lazy("Address (whole, formatted)"),
}

COMPANY_FIELDS = {
    "": gettext_lazy("Don't import"),
    "name": gettext_lazy("Name"),
    "domain": gettext_lazy("Website or domain"),
    "industry": gettext_lazy("Industry"),
    "phone": gettext_lazy("Phone"),
    "address": gettext_lazy("Address"),
    "notes": gettext_lazy("Notes"),
    "external_id": gettext_lazy("ID in the other system"),
    "tags": gettext_lazy("Tags"),
}


def fields_for(kind: str) -> dict:
    """The fields a column of a file of `kind` may go to (the mapping page's choices)."""
    if kind in SALES_KINDS:
        from imports import mapping_sales

        return mapping_sales.fields_for(kind)
    return COMPANY_FIELDS if kind == "companies" else CONTACT_FIELDS


@dataclasses.dataclass
class Column:
    column: int
    field: str
    label: str = ""
    group: str = ""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def columns_from_json(data: list[dict]) -> list[Column]:
    names = {f.name for f in dataclasses.fields(Column)}
    return [Column(**{k: v for k, v in item.items() if k in names}) for item in data or []]


def _norm(header: str) -> str:
    return " ".join(header.lower().replace("_", " ").split())


# header (normalised) -> (field, label, group); a group "" means the column stands alone
_CONTACT_HEADERS: dict[str, tuple[str, str, str]] = {}


def _add(field: str, headers: list[str], label: str = "", group: str = "") -> None:
    for header in headers:
        _CONTACT_HEADERS[_norm(header)] = (field, label, group)


_add("first_name", ["First Name", "Given Name", "FirstName", "Contact: First Name", "First", "名", "Prénom", "Prenume"])
_add("middle_name", ["Middle Name", "Additional Name", "MiddleName", "ミドル ネーム"])
_add(
    "last_name", ["Last Name", "Family Name", "LastName", "Surname", "Contact: Last Name", "Last", "姓", "Nom", "Nume"]
)
_add("full_name", ["Name", "Full Name", "Display Name", "Contact Name", "Contact: Full Name", "表示名"])
_add(
    "email",
    ["Email", "E-mail", "Email Address", "E-mail Address", "Primary Email", "Contact: Email", "電子メール アドレス"],
)
_add("email", ["E-mail 2 Address", "Secondary Email", "電子メール 2 アドレス"], group="e2")
_add("email", ["E-mail 3 Address", "電子メール 3 アドレス"], group="e3")
_add("email", ["Email Home", "Home Email"], label="home", group="eh")
_add("email", ["Email Work", "Work Email"], label="work", group="ew")
_add("email", ["Email Other", "Other Email"], label="other", group="eo")
_add("phone", ["Phone", "Phone Number", "Primary Phone", "Contact: Phone", "Main Phone"])
_add(
    "phone",
    ["Mobile Phone", "Mobile Number", "Mobile", "Home Mobile", "Cell Phone", "MobilePhone", "携帯電話"],
    label="mobile",
    group="pm",
)
_add("phone", ["Business Phone", "Work Phone", "Company Main Phone", "会社電話"], label="work", group="pw")
_add("phone", ["Business Phone 2", "会社電話 2"], label="work", group="pw2")
_add("phone", ["Home Phone", "HomePhone", "自宅電話"], label="home", group="ph")
_add("phone", ["Home Phone 2", "自宅電話 2"], label="home", group="ph2")
_add("phone", ["Other Phone", "OtherPhone", "その他の電話"], label="other", group="po")
_add(
    "phone",
    ["Car Phone", "Pager", "Pager Number", "Assistant's Phone", "Callback", "Phone Video"],
    label="other",
    group="px",
)
_add(
    "company",
    [
        "Company",
        "Organization",
        "Organization Name",
        "Organisation",
        "Account Name",
        "Account: Account Name",
        "Company Name",
        "会社名",
        "Firma",
    ],
)
_add(
    "job_title",
    ["Job Title", "Position", "Organization Title", "JobTitle", "Contact: Title", "役職", "Funcție", "Functie"],
)
_add("notes", ["Notes", "Note", "Description", "メモ"])
_add("date_of_birth", ["Birthday", "Birth Date", "Birthdate", "Date of Birth", "誕生日"])
_add("external_id", ["ID", "Contact ID", "Contact: Contact ID", "UID", "External ID"])
_add("tags", ["Group Membership", "Categories", "Labels", "Tags", "分類項目"])
for _prefix, _label in (("Home", "home"), ("Business", "work"), ("Work", "work"), ("Other", "other")):
    _add("street", [f"{_prefix} Street", f"{_prefix} Address"], label=_label, group=f"a{_label}")
    _add("city", [f"{_prefix} City"], label=_label, group=f"a{_label}")
    _add("region", [f"{_prefix} State"], label=_label, group=f"a{_label}")
    _add(
        "postal_code",
        [f"{_prefix} Zip", f"{_prefix} ZipCode", f"{_prefix} Postal Code"],
        label=_label,
        group=f"a{_label}",
    )
    _add("country", [f"{_prefix} Country", f"{_prefix} Country/Region"], label=_label, group=f"a{_label}")

# An address without a prefix (a shop's own spreadsheet, a Salesforce report): one address of
# the default label.
_add("street", ["Street", "Street Address", "Mailing Street", "Stradă", "Strada"], group="a")
_add("city", ["City", "Town", "Mailing City", "Oraș", "Oras", "Localitate"], group="a")
_add("region", ["State", "Region", "County", "State/Province", "Mailing State/Province", "Județ", "Judet"], group="a")
_add("postal_code", ["Zip", "Zip Code", "Postal Code", "Postcode", "Mailing Zip/Postal Code", "Cod poștal"], group="a")
_add("country", ["Country", "Country/Region", "Mailing Country", "Țară", "Tara"], group="a")

# Google's numbered columns: "E-mail 2 - Value", "Phone 3 - Type", "Address 1 - City" …
_NUMBERED = re.compile(r"^(e-mail|email|phone|address|organization|organisation)\s*(\d+)\s*-\s*(.+)$")
_NUMBERED_PARTS = {
    ("email", "value"): "email",
    ("email", "type"): "email_label",
    ("email", "label"): "email_label",
    ("phone", "value"): "phone",
    ("phone", "type"): "phone_label",
    ("phone", "label"): "phone_label",
    ("address", "formatted"): "formatted_address",
    ("address", "street"): "street",
    ("address", "city"): "city",
    ("address", "region"): "region",
    ("address", "postal code"): "postal_code",
    ("address", "country"): "country",
    ("address", "type"): "address_label",
    ("address", "label"): "address_label",
    ("organization", "name"): "company",
    ("organization", "title"): "job_title",
}

_COMPANY_HEADERS = {
    _norm(h): f
    for f, hs in {
        "name": ["Name", "Account Name", "Company", "Company Name", "Organization", "Account: Account Name"],
        "domain": ["Website", "Domain", "Web Site", "Account: Website"],
        "industry": ["Industry", "Account: Industry"],
        "phone": ["Phone", "Account: Phone", "Main Phone"],
        "address": ["Address", "Billing Address", "BillingStreet"],
        "notes": ["Notes", "Description"],
        "external_id": ["ID", "Account ID", "External ID"],
        "tags": ["Tags", "Labels", "Categories"],
    }.items()
    for h in hs
}

# Known exports: a name and the headers that identify it (all must be present)
KNOWN_EXPORTS = [
    ("salesforce_accounts", gettext_lazy("Salesforce accounts (JSON)"), {"attributes.type", "name", "type"}),
    ("salesforce_tree", gettext_lazy("Salesforce data export (JSON)"), {"attributes.type", "firstname", "lastname"}),
    ("salesforce_report", gettext_lazy("Salesforce report"), {"contact: first name", "contact: last name"}),
    ("google_legacy", gettext_lazy("Google Contacts (legacy CSV)"), {"given name", "family name", "group membership"}),
    ("google", gettext_lazy("Google Contacts (CSV)"), {"first name", "last name", "e-mail 1 - value"}),
    ("linkedin", gettext_lazy("LinkedIn connections"), {"first name", "last name", "connected on"}),
    ("thunderbird", gettext_lazy("Thunderbird address book"), {"primary email", "display name"}),
    ("outlook", gettext_lazy("Outlook (CSV)"), {"e-mail address"}),
    ("outlook", gettext_lazy("Outlook (CSV)"), {"business phone", "first name"}),
    ("outlook_ja", gettext_lazy("Outlook (CSV, Japanese)"), {"名", "姓", "電子メール アドレス"}),
]


def detect_export(headers: list[str]) -> tuple[str, str]:
    """The known export a header row comes from: (key, name shown to users), or ("", "")."""
    normalised = {_norm(h) for h in headers}
    for key, name, signature in KNOWN_EXPORTS:
        if signature <= normalised:
            return key, str(name)
    return "", ""


def kind_for(headers: list[str]) -> str:
    """Whether a file holds contacts or companies, as far as its headers tell."""
    from imports import mapping_sales

    export, _name = detect_export(headers)
    if export == "salesforce_accounts":
        return "companies"
    return mapping_sales.kind_for(headers) or "contacts"


def auto_map(headers: list[str], *, kind: str = "contacts") -> list[Column]:
    """A mapping proposed from the header names; columns not recognised are left out."""
    if kind in SALES_KINDS:
        from imports import mapping_sales

        return mapping_sales.auto_map(headers, kind=kind)
    export, _name = detect_export(headers)
    columns: list[Column] = []
    for index, header in enumerate(headers):
        name = _norm(header)
        if kind == "companies":
            field = _COMPANY_HEADERS.get(name)
            if field:
                columns.append(Column(index, field))
            continue
        if name == "title":
            # Outlook's "Title" is "Mr." or "Dr."; Salesforce's is the job title
            if export == "salesforce_tree":
                columns.append(Column(index, "job_title"))
            continue
        if export == "salesforce_tree" and name == "phone":
            columns.append(Column(index, "phone", "work", "pw"))
            continue
        match = _NUMBERED.match(name)
        if match:
            thing = {"e-mail": "email", "organisation": "organization"}.get(match.group(1), match.group(1))
            field = _NUMBERED_PARTS.get((thing, match.group(3).strip()))
            if field:
                columns.append(Column(index, field, "", f"{thing}{match.group(2)}"))
            continue
        known = _CONTACT_HEADERS.get(name)
        if known:
            field, label, group = known
            if export == "google_legacy" and field == "full_name":
                continue  # "Name" repeats prefix, given, middle, family and suffix
            columns.append(Column(index, field, label, group))
    return columns


# --- rows to records ------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _label(value: str) -> str:
    value = value.strip().lstrip("*").strip().lower()
    if not value:
        return ""
    for label in LABELS:
        if value.startswith(label):
            return label
    if value in ("business", "office"):
        return "work"
    if value in ("cell", "iphone", "mobil"):
        return "mobile"
    return "other" if value in ("fax", "pager", "home fax", "work fax", "other fax") else ""


def _split(value: str) -> list[str]:
    if MULTI_VALUE not in value:
        value = value.strip()
        return [value] if value else []
    return [v.strip() for v in value.split(MULTI_VALUE) if v.strip()]


def _tags(value: str) -> list[str]:
    tags = []
    for part in re.split(r" ::: |;|,", value):
        tag = part.strip().lstrip("*").strip()
        if tag and tag.lower() not in ("my contacts", "mycontacts", "starred"):
            tags.append(tag[:60])
    return tags


_ADDRESS_FIELDS = frozenset(
    ("street", "city", "postal_code", "region", "country", "address_label", "formatted_address")
)


@dataclasses.dataclass
class _Plan:
    """A mapping compiled once per file: which cells feed which part of a record."""

    simple: list[tuple[int, str]]
    address: list[Column]
    emails: list[tuple[int, str, int | None]]  # value column, fixed label, label column
    phones: list[tuple[int, str, int | None]]


def _plan(columns: list[Column]) -> _Plan:
    label_columns = {
        (c.field, c.group): c.column for c in columns if c.field in ("email_label", "phone_label") and c.group
    }

    def multi(field: str) -> list[tuple[int, str, int | None]]:
        return [
            (c.column, c.label, label_columns.get((f"{field}_label", c.group)) if c.group else None)
            for c in columns
            if c.field == field
        ]

    return _Plan(
        simple=[
            (c.column, c.field)
            for c in columns
            if c.field and c.field not in _ADDRESS_FIELDS and not c.field.startswith(("email", "phone"))
        ],
        address=[c for c in columns if c.field in _ADDRESS_FIELDS],
        emails=multi("email"),
        phones=multi("phone"),
    )


def _digits(value: str) -> str:
    return "".join(filter(str.isdigit, value)) or value


def _collect(cells: list[str], sources: list[tuple[int, str, int | None]], key) -> list[Labelled]:
    """The emails or phones of a row, in column order, each with its label."""
    found: list[Labelled] = []
    seen: set[str] = set()
    width = len(cells)
    for column, fixed, label_column in sources:
        if column >= width or not cells[column]:
            continue
        labels = _split(cells[label_column]) if label_column is not None and label_column < width else []
        for i, value in enumerate(_split(cells[column])):
            label = fixed or (_label(labels[min(i, len(labels) - 1)]) if labels else "")
            k = key(value)
            if k not in seen:
                seen.add(k)
                found.append(Labelled(value, label))
    return found


def to_contact(row: Row, columns: list[Column]) -> ContactRecord:
    return _to_contact(row, _plan(columns))


def _to_contact(row: Row, plan: _Plan) -> ContactRecord:
    record = ContactRecord(line=row.line, notes_for_user=list(row.notes))
    cells = row.cells
    width = len(cells)
    values: dict[str, list[str]] = {}
    for column, field in plan.simple:
        if column < width and cells[column]:
            value = cells[column].strip()
            if value:
                values.setdefault(field, []).append(value)
    addresses: dict[str, Address] = {}
    formatted: dict[str, str] = {}
    for col in plan.address:
        if col.column >= width:
            continue
        value = cells[col.column].strip()
        if not value:
            continue
        address = addresses.setdefault(col.group or "address", Address(label=col.label))
        if col.field == "address_label":
            address.label = _label(value)
        elif col.field == "formatted_address":
            formatted[col.group or "address"] = value
        else:
            setattr(address, col.field, (getattr(address, col.field) + ", " + value).strip(", "))

    def one(field: str) -> str:
        found = values.get(field)
        return " ".join(found) if found else ""

    record.first_name = " ".join(v for v in (one("first_name"), one("middle_name")) if v)
    record.last_name = one("last_name")
    if not record.first_name and not record.last_name and one("full_name") and one("full_name") != one("company"):
        given, _sep, family = one("full_name").rpartition(" ")
        record.first_name, record.last_name = (given, family) if given else (family, "")
    record.emails = _collect(cells, plan.emails, str.lower)
    record.phones = _collect(cells, plan.phones, _digits)
    if "company" in values:
        record.company = values["company"][0]
    if "job_title" in values:
        record.job_title = values["job_title"][0]
    if "notes" in values:
        record.notes = "\n\n".join(values["notes"])
    record.external_id = one("external_id")
    for value in values.get("tags", ()):
        record.tags += _tags(value)
    birthday = one("date_of_birth")
    if birthday:
        record.date_of_birth = parse_date(birthday)
        if record.date_of_birth is None:
            record.notes_for_user.append(
                _("The date of birth %(value)s could not be read and was not imported.") % {"value": birthday[:40]}
            )
    if addresses:
        for group, value in formatted.items():
            address = addresses[group]
            if not (address.street or address.city or address.postal_code):
                address.street = value  # only the formatted form: keep it whole
        record.addresses = [
            a for a in addresses.values() if any((a.street, a.city, a.postal_code, a.region, a.country))
        ]
    if not (record.first_name or record.last_name or record.emails or record.phones):
        if record.company:
            record.problems.append(_("This row names only a company, no person: import it as a company."))
        else:
            record.problems.append(_("This row has no name, email address, phone number or company."))
    return record


def to_company(row: Row, columns: list[Column]) -> CompanyRecord:
    record = CompanyRecord(line=row.line)
    for col in columns:
        if col.column >= len(row.cells) or not row.cells[col.column].strip():
            continue
        value = row.cells[col.column].strip()
        if col.field == "tags":
            record.tags += _tags(value)
        elif col.field in COMPANY_FIELDS and col.field and not getattr(record, col.field):
            setattr(record, col.field, value)
    if not record.name:
        record.problems.append(_("This row has no company name."))
    return record


def records(rows: Iterator[Row], columns: list[Column], *, kind: str = "contacts") -> Iterator:
    if kind in SALES_KINDS:
        from imports import mapping_sales

        yield from mapping_sales.records(rows, columns, kind=kind)
        return
    if kind == "companies":
        for row in rows:
            yield to_company(row, columns)
        return
    plan = _plan(columns)
    for row in rows:
        yield _to_contact(row, plan)


def companies_in_contacts(headers: list[str]) -> bool:
    """Whether a contact file also names companies (so the user can import both)."""
    return any(c.field == "company" for c in auto_map(headers))
