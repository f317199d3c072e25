"""The bulk writers of imports: file records -> contacts and companies, a batch at a time.

    prepared = prepare_contacts(organization, records, options)   # the preview: what will be stored
    result = write_contacts(organization, records, options, batch_ref=import_id, actor=user)
    revert_contacts(organization, import_id, actor=user)          # deletes what it created, restores what it updated

Everything runs inside the caller's transaction and tenant context (each call opens at most a
savepoint): the import job stores its checkpoint in the same transaction, so a worker killed
mid-batch loses the whole batch and resumes from the checkpoint with no duplicate and no lost
row. Values go through the one bulk write path (logicnet/bulk): sealed and indexed a batch at a
time, COPY into staging, merged under row-level security, one audit event per batch, every
created row and every previous value journaled under `batch_ref` for the revert.

What a row becomes is decided once, in `_normalise`, for the preview and the write alike:
emails cleaned and validated (logicnet.normalize.clean_email), phones in E.164 through the
product's one normaliser (read in the organization's country), names with their spaces
collapsed, country names turned into ISO codes, tags and custom fields validated.

Per row, in file order (`write_contacts`):
1. a row with validation errors fails, with them;
2. a row with an email or phone on the suppression list (privacy.Suppression: erased people,
   and people who objected to direct marketing) is skipped, saying which: GDPR Art. 17 or
   Art. 21(3) would be undone by importing them again;
3. a row whose match key (options.match_on) appeared on an earlier line of the file, in this
   batch or an earlier one of the same import (the journal knows), is skipped as a duplicate;
4. a row matching an existing contact is skipped in create-only mode, and a contact whose
   processing is restricted (GDPR Art. 18) is never updated; a row matching nothing is
   skipped in update-only mode;
5. an email address of the row that belongs to another contact fails the row (one contact
   per address per organization, a database constraint).
Updates fill in what the file has: a non-empty value replaces the stored one, further emails,
phones and tags are added, addresses are added to a contact that has none.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership
from billing.limits import PlanLimitReached, check_contacts
from contacts.custom_fields import definitions_for, field_name, form_field, merged_values
from contacts.models import (
    Company,
    CompanyTag,
    Contact,
    ContactAddress,
    ContactEmail,
    ContactPhone,
    ContactTag,
    CustomField,
    Label,
    Tag,
)
from contacts.services.contacts import is_minor
from imports.countries import country_code
from imports.records import BatchResult, CompanyRecord, ContactRecord, ImportOptions, MatchOn, Mode, RowOutcome
from logicnet import normalize
from logicnet.audit.services import record_batch_event
from logicnet.bulk.journal import journal_created, journal_updated, journaled_lines, revert_batch
from logicnet.bulk.writes import (
    BatchEncoder,
    RowLayout,
    bound_cursor,
    insert_encoded,
    insert_rows,
    stored_rows,
    update_rows,
)
from logicnet.encryption import blind
from logicnet.encryption.fields import Sealed, update_derived_fields
from logicnet.encryption.keys import count_encryptions, current_keys
from logicnet.tenancy.context import tenant_context
from privacy.services.suppression import skip_reason, suppression_reasons

CONTACT_IMPORTED = "contact.imported"
COMPANY_IMPORTED = "company.imported"
TAG_MAX = Tag._meta.get_field("name").max_length
# Field names in row errors: lazy, so a valid row never pays for a translation lookup.
LABEL_CITY = gettext_lazy("City")
LABEL_COMPANY = gettext_lazy("Company")
LABEL_COUNTY_OR_REGION = gettext_lazy("County or region")
LABEL_EXTERNAL_ID = gettext_lazy("External id")
LABEL_FIRST_NAME = gettext_lazy("First name")
LABEL_INDUSTRY = gettext_lazy("Industry")
LABEL_JOB_TITLE = gettext_lazy("Job title")
LABEL_LAST_NAME = gettext_lazy("Last name")
LABEL_NAME = gettext_lazy("Name")
LABEL_POSTAL_CODE = gettext_lazy("Postal code")
LABEL_STREET = gettext_lazy("Street")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,4})?$")
LABELS = frozenset(Label.values)  # Label.values builds a new list on every read

# The contact columns an update may change (besides the bookkeeping ones).
UPDATED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "job_title",
    "notes",
    "company_id",
    "owner_id",
    "preferred_language",
    "external_id",
    "custom",
    "custom_personal",
)
DERIVED_OF = {
    "email": ("email_index",),
    "phone": ("phone_index",),
    "external_id": ("external_id_index",),
    "first_name": ("name_tokens",),
    "last_name": ("name_tokens",),
    "date_of_birth": ("is_minor",),
}
UPDATE_COLUMNS = (*UPDATED_FIELDS, "email_index", "phone_index", "external_id_index", "name_tokens", "is_minor")


def suppressed_reason(reason: str = "") -> str:
    return skip_reason(reason) if reason else _("on the suppression list (erased or objected)")


@dataclasses.dataclass
class PreparedContact:
    line: int
    errors: list[str]
    values: dict[str, Any]  # what will be stored, for the preview
    match: int | None = None  # the existing contact the row matches
    skip: str = ""  # why the row will be skipped although valid (suppressed, duplicate, mode...)
    notes: list[str] = dataclasses.field(default_factory=list)
    # The blind indexes of its email and phone under the current key, computed by the lookup
    # and stored as they are (the bulk encoder would compute them again).
    indexes: dict[str, str] = dataclasses.field(default_factory=dict)
    # The contact row a new contact would be stored as (sealed, search columns computed),
    # but for what only the database knows (its company) and the time of the write.
    encoded: list[Any] | None = None  # as its batch's contact layout encodes it (PreparedBatch.layouts)
    # Its further emails, phones and addresses, encoded by their layouts (the contact id unset).
    children: dict[type, list[list[Any]]] | None = None


@dataclasses.dataclass
class PreparedCompany:
    line: int
    errors: list[str]
    values: dict[str, Any]
    match: int | None = None
    skip: str = ""


# --- normalising one row ----------------------------------------------------------------------


def _text(value: Any, limit: int, label, errors: list[str]) -> str:
    value = " ".join(str(value or "").split())
    if len(value) > limit:
        errors.append(_("%(field)s is longer than %(limit)d characters.") % {"field": label, "limit": limit})
    return value


def _label(value: str, default: str) -> str:
    value = (value or "").strip().lower()
    return value if value in LABELS else default


def _emails(items, errors: list[str]) -> list[tuple[str, str]]:
    found, seen = [], set()
    for n, item in enumerate(items):
        value = normalize.clean_email(item.value)
        if not value:
            continue
        try:
            normalize.validate_email(value)
        except ValidationError:
            errors.append(_("%(value)s is not a valid email address.") % {"value": value})
            continue
        if len(value) > 254:
            errors.append(_("An email address is longer than 254 characters."))
            continue
        key = normalize.email_match_form(value)
        if key not in seen:
            seen.add(key)
            found.append((value, _label(item.label, Label.WORK if n == 0 else Label.OTHER)))
    return found


def _phones(items, country: str, errors: list[str]) -> list[tuple[str, str]]:
    found, seen = [], set()
    for n, item in enumerate(items):
        raw = (item.value or "").strip()
        if not raw:
            continue
        try:
            value = normalize.to_e164(raw, country)
        except normalize.InvalidPhoneNumber:
            errors.append(_("%(value)s is not a phone number.") % {"value": raw})
            continue
        if value not in seen:
            seen.add(value)
            found.append((value, _label(item.label, Label.MOBILE if n == 0 else Label.OTHER)))
    return found


def _tags(names: Iterable[str], errors: list[str]) -> list[str]:
    found: dict[str, str] = {}
    for name in names:
        name = " ".join(str(name or "").split())
        if not name:
            continue
        if len(name) > TAG_MAX:
            errors.append(_("A tag can have at most %(limit)d characters.") % {"limit": TAG_MAX})
            continue
        found.setdefault(name.casefold(), name)
    return list(found.values())


def _custom(definitions: list[CustomField], raw: dict[str, str], errors: list[str]) -> dict[str, Any]:
    by_key = {d.key: d for d in definitions}
    cleaned = {}
    for key, value in raw.items():
        definition = by_key.get(key)
        if definition is None:
            errors.append(_("There is no custom field %(key)s.") % {"key": key})
            continue
        if value in ("", None):
            continue
        try:
            cleaned[field_name(definition)] = form_field(definition).clean(value)
        except ValidationError as exc:
            errors += [f"{definition.label}: {message}" for message in exc.messages]
    return cleaned


def _source_detail(options: ImportOptions) -> str:
    # Where the data came from and on which basis (GDPR Art. 14(1)(c), (2)(f); 15(1)(g)).
    parts = [" ".join(options.source_detail.split()), " ".join(options.lawful_basis.split())]
    return " — ".join(p for p in parts if p)[: Contact._meta.get_field("source_detail").max_length]


def _normalise(record: ContactRecord, options: ImportOptions, country: str, definitions) -> PreparedContact:
    errors = list(record.problems)
    first = _text(record.first_name, 100, LABEL_FIRST_NAME, errors)
    last = _text(record.last_name, 100, LABEL_LAST_NAME, errors)
    if not first and last:
        first, last = last, ""
    if not first:
        errors.append(_("The row has no name."))
    emails = _emails(record.emails, errors)
    phones = _phones(record.phones, country, errors)
    addresses = []
    for address in record.addresses:
        values = {
            "label": _label(address.label, Label.WORK),
            "street": _text(address.street, 200, LABEL_STREET, errors),
            "city": _text(address.city, 100, LABEL_CITY, errors),
            "postal_code": _text(address.postal_code, 20, LABEL_POSTAL_CODE, errors),
            "region": _text(address.region, 100, LABEL_COUNTY_OR_REGION, errors),
            "country": "",
        }
        code = country_code(address.country)
        if code is None:
            errors.append(_("%(value)s is not a country we know.") % {"value": address.country.strip()})
        else:
            values["country"] = code
        if any(values[k] for k in ("street", "city", "postal_code", "region", "country")):
            addresses.append(values)
    born = record.date_of_birth
    if isinstance(born, datetime.datetime):
        born = born.date()
    if born is not None and born > timezone.localdate():
        errors.append(_("The date of birth cannot be in the future."))
    language = (record.preferred_language or "").strip().lower().replace("_", "-")
    notes = list(record.notes_for_user)
    if language and not LANGUAGE.match(language):
        notes.append(_("The preferred language %(value)s was left out.") % {"value": language})
        language = ""
    values = {
        "first_name": first,
        "last_name": last,
        "email": emails[0][0] if emails else "",
        "email_label": emails[0][1] if emails else Label.WORK,
        "extra_emails": emails[1:],
        "phone": phones[0][0] if phones else "",
        "phone_label": phones[0][1] if phones else Label.MOBILE,
        "extra_phones": phones[1:],
        "addresses": addresses,
        "company": _text(record.company, 200, LABEL_COMPANY, errors),
        "job_title": _text(record.job_title, 120, LABEL_JOB_TITLE, errors),
        "notes": (record.notes or "").strip(),
        "date_of_birth": born,
        "is_minor": is_minor(born),
        "preferred_language": language[:8],
        "external_id": _text(record.external_id, 100, LABEL_EXTERNAL_ID, errors),
        "tags": _tags([*options.tags, *record.tags], errors),
        "custom": _custom(definitions, record.custom, errors) if record.custom else {},
        "source": Contact.Source.IMPORT,
        "source_detail": _source_detail(options),
    }
    return PreparedContact(line=record.line, errors=errors, values=values, notes=notes)


# --- looking rows up through the blind indexes ---------------------------------------------------


class _Digests:
    """Blind-index digests of a batch's values under every live key version (rows not yet
    moved by a re-encryption carry the previous version's), and the current one to store."""

    def __init__(self, organization) -> None:
        self.keys = current_keys(organization.pk)  # creates the organization's first key if needed
        # The current version first: its digest is the one stored, the others only match.
        self.versions = [self.keys.current_version] + [
            v for v in self.keys.live_versions() if v != self.keys.current_version
        ]
        self.country = organization.country

    def email(self, value: str) -> list[str]:
        return [blind.email_index(self.keys, v, value) for v in self.versions]

    def phone(self, value: str) -> list[str]:
        return [blind.phone_index(self.keys, v, value, self.country) for v in self.versions]

    def external_id(self, value: str) -> list[str]:
        return [blind.external_id_index(self.keys, v, value) for v in self.versions] if value.strip() else []

    def name(self, value: str) -> list[str]:
        return [blind.exact_name_index(self.keys, v, value) for v in self.versions] if value.strip() else []


def _owners_by_digest(sql_parts: list[str], organization_id: int, digests: list[str]) -> dict[str, int]:
    """digest -> row id, from (table, id column) pairs searched on their `<kind>_index` column."""
    if not digests:
        return {}
    found: dict[str, int] = {}
    with bound_cursor() as cursor:
        for sql in sql_parts:
            cursor.execute(sql, [organization_id, digests])
            for digest, pk in cursor.fetchall():
                found.setdefault(digest, pk)
    return found


def _lookup(table: str, column: str, id_column: str = "id") -> str:
    return f"SELECT {column}, {id_column} FROM {table} WHERE organization_id = %s AND {column} = ANY(%b)"


EMAIL_OWNERS = [
    _lookup("contacts_contact", "email_index"),
    _lookup("contacts_contactemail", "email_index", "contact_id"),
]
PHONE_OWNERS = [
    _lookup("contacts_contact", "phone_index"),
    _lookup("contacts_contactphone", "phone_index", "contact_id"),
]
EXTERNAL_OWNERS = [_lookup("contacts_contact", "external_id_index")]


def _match_keys(prepared: PreparedContact, digests: _Digests, match_on: str) -> list[list[str]]:
    """Per value the row matches on, its digests (one per live key version)."""
    values = prepared.values
    if match_on == MatchOn.EMAIL:
        return [digests.email(v) for v in [values["email"], *(e for e, _label in values["extra_emails"])] if v]
    if match_on == MatchOn.PHONE:
        return [digests.phone(v) for v in [values["phone"], *(p for p, _label in values["extra_phones"])] if v]
    return [digests.external_id(values["external_id"])] if values["external_id"] else []


@dataclasses.dataclass
class _Looked:
    digests: _Digests
    keys: dict[int, list[list[str]]]  # row index -> match keys
    emails: dict[int, list[list[str]]]  # row index -> digests of each email
    matches: dict[int, int | None]
    conflicts: dict[int, bool]  # an email of the row belongs to a contact other than its match
    ambiguous: set[int]
    suppressed: dict[int, str]  # row index -> why (privacy.Suppression.Reason)


@dataclasses.dataclass
class PreparedBatch:
    """A batch's rows normalised, their digests computed and new contacts' rows sealed: all
    of the write that needs no database (ContactBatchPreparer), so that it can be made while
    the previous batch is in the database (logicnet/bulk/ahead.py)."""

    rows: list[PreparedContact]
    digests: _Digests
    keys: dict[int, list[list[str]]]  # row index -> digests of each match key
    emails: dict[int, list[list[str]]]  # row index -> digests of each email
    phones: dict[int, list[list[str]]]  # row index -> digests of each phone
    definitions: list[CustomField] = dataclasses.field(default_factory=list)  # the contact custom fields
    sealed: int = 0  # values encrypted ahead (added to the key's count when written)
    key_version: int = 0
    layouts: dict[type, RowLayout] = dataclasses.field(default_factory=dict)  # of the encoded rows


class ContactBatchPreparer:
    """Prepares batches of contact records for one import: built inside the tenant context
    (it reads the organization's keys and custom fields), then called with a batch's records
    from any thread. A call touches no database connection."""

    def __init__(self, organization, options: ImportOptions, *, actor, seal: bool = True) -> None:
        self.organization = organization
        self.options = options
        self.actor_id = getattr(actor, "pk", actor)
        self.country = organization.country
        self.definitions = definitions_for(organization, CustomField.Entity.CONTACT)
        self.digests = _Digests(organization)
        self.encoder = BatchEncoder(Contact, organization) if seal else None
        self.child_encoders = {model: BatchEncoder(model, organization) for model in CHILD_MODELS} if seal else {}
        self.blank = Contact(organization=organization)
        self.layouts: dict[type, RowLayout] = {}

    def __call__(self, records: list[ContactRecord]) -> PreparedBatch:
        prepared = [_normalise(r, self.options, self.country, self.definitions) for r in records]
        batch = _digest_rows(prepared, self.digests, MatchOn(self.options.match_on))
        batch.definitions = self.definitions
        if self.encoder is not None:
            self._seal(batch)
        return batch

    def _seal(self, batch: PreparedBatch) -> None:
        """Encode (seal and index) the row each valid record would be created as, and its
        further emails, phones and addresses, as COPY takes them: the write then only sets
        the company, the contact id and the time (most rows of an import are new people; the
        few that match someone are sealed for nothing)."""
        encoder, now = self.encoder, timezone.now()
        layouts = self.layouts
        for row in batch.rows:
            if row.errors:
                continue
            values = row.values
            contact = {
                **_contact_row(
                    values,
                    company_id=None,
                    owner_id=self.options.owner_id,
                    actor_id=self.actor_id,
                    now=now,
                    custom=merged_values(self.definitions, self.blank, values["custom"])
                    if values["custom"]
                    else ({}, None),
                ),
                **row.indexes,
            }
            if Contact not in layouts:
                layouts[Contact] = RowLayout(Contact, self.organization, contact, encoder)
            row.encoded = layouts[Contact].encode(contact)
            row.children = {}
            for model, children in _child_rows(values).items():
                if children and model not in layouts:
                    columns = {"contact_id", *children[0]}
                    layouts[model] = RowLayout(model, self.organization, columns, self.child_encoders[model])
                row.children[model] = [layouts[model].encode({"contact_id": None, **child}) for child in children]
        batch.key_version, batch.layouts = encoder.version, layouts
        for each in (encoder, *self.child_encoders.values()):
            batch.sealed += each.sealed
            each.sealed = 0


# What the import job prepares contact batches with, a batch ahead (imports/services.py).
batch_preparer = ContactBatchPreparer


def _digest_rows(prepared: list[PreparedContact], digests: _Digests, match_on: MatchOn) -> PreparedBatch:
    """The blind-index digests a batch is looked up with (no database)."""
    keys = {i: _match_keys(p, digests, match_on) for i, p in enumerate(prepared) if not p.errors}
    emails = {
        i: [digests.email(v) for v in [p.values["email"], *(e for e, _l in p.values["extra_emails"])] if v]
        for i, p in enumerate(prepared)
        if not p.errors
    }
    phones = {
        i: [digests.phone(v) for v in [p.values["phone"], *(n for n, _l in p.values["extra_phones"])] if v]
        for i, p in enumerate(prepared)
        if not p.errors
    }
    for i, found in emails.items():
        values = prepared[i].values
        prepared[i].indexes = {
            "email_index": found[0][0] if values["email"] else "",
            "phone_index": phones[i][0][0] if values["phone"] else "",
        }
    return PreparedBatch(prepared, digests, keys, emails, phones)


def _look_up(organization, batch: PreparedBatch, options: ImportOptions) -> _Looked:
    """The existing contacts the batch's rows match, the email addresses other contacts
    hold, and the rows on the suppression list: a few queries for the whole batch."""
    match_on = MatchOn(options.match_on)
    keys, emails, phones = batch.keys, batch.emails, batch.phones
    owners_sql = {MatchOn.EMAIL: EMAIL_OWNERS, MatchOn.PHONE: PHONE_OWNERS, MatchOn.EXTERNAL_ID: EXTERNAL_OWNERS}
    wanted = sorted({d for row in keys.values() for key in row for d in key})
    key_owners = _owners_by_digest(owners_sql[match_on], organization.pk, wanted)
    all_emails = sorted({d for row in emails.values() for key in row for d in key})
    email_owners = (
        key_owners if match_on == MatchOn.EMAIL else _owners_by_digest(EMAIL_OWNERS, organization.pk, all_emails)
    )
    matches, ambiguous, conflicts = {}, set(), {}
    for i, row in keys.items():
        found = {key_owners[d] for key in row for d in key if d in key_owners}
        if len(found) > 1:
            ambiguous.add(i)
        matches[i] = min(found) if len(found) == 1 else None
    for i, row in emails.items():
        owners = {email_owners[d] for key in row for d in key if d in email_owners}
        conflicts[i] = bool(owners - {matches.get(i)})
    every = sorted(
        {d for row in emails.values() for key in row for d in key}
        | {d for row in phones.values() for key in row for d in key}
    )
    suppressed_digests = suppression_reasons(organization.pk, every)  # digest -> erased or objected
    suppressed = {
        i: next(suppressed_digests[d] for key in [*emails[i], *phones[i]] for d in key if d in suppressed_digests)
        for i in emails
        if any(d in suppressed_digests for key in [*emails[i], *phones[i]] for d in key)
    }
    return _Looked(batch.digests, keys, emails, matches, conflicts, ambiguous, suppressed)


# --- preview ----------------------------------------------------------------------------------


def prepare_contacts(organization, records: list[ContactRecord], options: ImportOptions) -> list[PreparedContact]:
    """Each record validated and normalised exactly as it would be stored, with the existing
    contact it matches: the preview (a few queries for the whole list, whatever its length)."""
    with tenant_context(organization):
        batch = ContactBatchPreparer(organization, options, actor=None, seal=False)(records)
        prepared = batch.rows
        looked = _look_up(organization, batch, options)
        restricted = _restricted(organization, [m for m in looked.matches.values() if m])
        seen: dict[str, int] = {}
        for i, row in enumerate(prepared):
            row.match = looked.matches.get(i)
            if not row.errors:
                row.skip = _skip_reason(i, row, looked, options, seen, restricted)
    return prepared


def _restricted(organization, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        Contact.objects.filter(organization=organization, pk__any=ids, restricted_at__isnull=False).values_list(
            "pk", flat=True
        )
    )


def _skip_reason(
    i: int, row: PreparedContact, looked: _Looked, options: ImportOptions, seen: dict[str, int], restricted: set[int]
) -> str:
    """Why a valid row is skipped ("" when it is written); records its keys in `seen`."""
    if i in looked.suppressed:
        return suppressed_reason(looked.suppressed[i])
    current_keys = [key[0] for key in looked.keys.get(i, [])]  # the current version's digest
    earlier = next((seen[k] for k in current_keys if k in seen), None)
    if earlier is not None:
        return _("duplicate of line %(line)d") % {"line": earlier}
    for key in current_keys:
        seen[key] = row.line
    email_keys = [f"email:{key[0]}" for key in looked.emails.get(i, [])]
    earlier = next((seen[k] for k in email_keys if k in seen), None)
    if earlier is not None:
        return _("an email address of this row is also on line %(line)d") % {"line": earlier}
    for key in email_keys:
        seen[key] = row.line
    if i in looked.ambiguous:
        return _("matches several existing contacts")
    if looked.conflicts.get(i):
        return _("an email address of this row belongs to another contact")
    if row.match is not None:
        if options.mode == Mode.CREATE:
            return _("matches an existing contact (create only)")
        if row.match in restricted:
            return _("processing of the matching contact is restricted (GDPR Art. 18)")
    elif options.mode == Mode.UPDATE:
        return _("matches no existing contact (update only)")
    return ""


# --- writing ----------------------------------------------------------------------------------


def _check_owner(organization, owner_id: int | None) -> None:
    if owner_id is not None and not Membership.objects.filter(organization=organization, user_id=owner_id).exists():
        raise ValidationError(_("The owner must be a member of this organization."))


def _tag_ids(organization, names: Iterable[str]) -> dict[str, int]:
    """casefolded name -> tag id, the missing tags created (one query when none is missing)."""
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(name.casefold(), name)
    if not wanted:
        return {}
    existing = {t.name.casefold(): t.pk for t in Tag.objects.filter(organization=organization)}
    missing = [name for folded, name in wanted.items() if folded not in existing]
    if missing:
        Tag.objects.bulk_create([Tag(organization=organization, name=name) for name in missing], ignore_conflicts=True)
        existing = {t.name.casefold(): t.pk for t in Tag.objects.filter(organization=organization)}
    return {folded: existing[folded] for folded in wanted if folded in existing}


def _backfill_company_names(organization) -> None:
    """Companies stored before the name index existed get it (a few thousand per call; the
    reindex job does the rest), so an import links to them instead of creating a twin."""
    stale = list(Company.objects.filter(organization=organization, name_index="").exclude(name="")[:2000])
    for company in stale:
        update_derived_fields(company)
    if stale:
        rows = [{"id": c.pk, "name_index": c.name_index} for c in stale]
        update_rows(Company, organization, rows, ["name_index"])


def _company_ids(
    organization, names: dict[str, int], actor, owner_id, batch_ref: int, digests: _Digests
) -> tuple[dict[str, int], list[int]]:
    """Company name (as written) -> id, matched on the folded name or created (journaled).
    `names`: name -> first line naming it. Returns the mapping and the ids created."""
    if not names:
        return {}, []
    _backfill_company_names(organization)
    by_digest: dict[str, str] = {}
    for name in names:
        for digest in digests.name(name):
            by_digest.setdefault(digest, name)
    found: dict[str, int] = {}
    rows = Company.objects.filter(organization=organization, name_index__any=list(by_digest)).order_by(
        "created_at", "pk"
    )
    for digest, pk in rows.values_list("name_index", "pk"):
        found.setdefault(by_digest[digest], pk)
    # Two spellings of one name in the file ("ACME srl", "Acme SRL") are one new company.
    missing: dict[str, str] = {}
    for name in names:
        if name not in found:
            missing.setdefault(blind.name_match_form(name), name)
    created: list[int] = []
    if missing:
        now = timezone.now()
        new_rows = [
            {
                "name": name,
                "owner_id": owner_id,
                "created_by_id": getattr(actor, "pk", actor),
                "updated_by_id": getattr(actor, "pk", actor),
                "created_at": now,
                "updated_at": now,
            }
            for name in missing.values()
        ]
        created = insert_rows(Company, organization, new_rows)
        journal_created(organization, batch_ref, Company, created, [names[n] for n in missing.values()])
        by_form = dict(zip(missing, created, strict=True))
        for name in names:
            if name not in found:
                found[name] = by_form[blind.name_match_form(name)]
    return found, created


def _contact_row(values: dict, *, company_id, owner_id, actor_id, now, custom) -> dict[str, Any]:
    plain, personal = custom
    return {
        "first_name": values["first_name"],
        "last_name": values["last_name"],
        "email": values["email"],
        "email_label": values["email_label"],
        "phone": values["phone"],
        "phone_label": values["phone_label"],
        "date_of_birth": values["date_of_birth"],
        "is_minor": values["is_minor"],
        "job_title": values["job_title"],
        "notes": values["notes"],
        "company_id": company_id,
        "owner_id": owner_id,
        "preferred_language": values["preferred_language"],
        "source": values["source"],
        "source_detail": values["source_detail"],
        "source_date": timezone.localdate(now),
        "external_id": values["external_id"],
        "custom": plain,
        "custom_personal": personal,
        "created_by_id": actor_id,
        "updated_by_id": actor_id,
        "created_at": now,
        "updated_at": now,
    }


CHILD_MODELS = (ContactEmail, ContactPhone, ContactAddress)


def _child_rows(values: dict) -> dict[type, list[dict[str, Any]]]:
    """The further emails, phones and addresses of a row's values, as rows of their models
    (without the contact)."""
    return {
        ContactEmail: [{"email": e, "label": label} for e, label in values.get("extra_emails", [])],
        ContactPhone: [{"phone": p, "label": label} for p, label in values.get("extra_phones", [])],
        ContactAddress: [dict(a) for a in values.get("addresses", [])],
    }


def _encoded_children(organization, layouts: dict[type, RowLayout], created: list[tuple[int, PreparedContact]]) -> None:
    """Insert the further emails, phones and addresses of newly created contacts, encoded ahead
    (ContactBatchPreparer), with their contact's new id."""
    for model in CHILD_MODELS:
        if model not in layouts:
            continue  # no row of the import so far had one
        contact_at, rows = layouts[model].position("contact_id"), []
        for pk, row in created:
            for values in row.children[model]:
                values[contact_at] = pk
                rows.append(values)
        if rows:
            insert_encoded(layouts[model], organization, rows)


def _children(organization, pairs: list[tuple[int, dict[type, list[dict]]]]) -> dict[str, list[tuple[int, int]]]:
    """Insert the further emails, phones and addresses of (contact id, _child_rows) pairs;
    per model label, (contact id, new row id)."""
    added: dict[str, list[tuple[int, int]]] = {}
    for model in CHILD_MODELS:
        rows = [{"contact_id": contact_id, **child} for contact_id, children in pairs for child in children[model]]
        if rows:
            ids = insert_rows(model, organization, rows)
            added[model._meta.label_lower] = [(row["contact_id"], pk) for row, pk in zip(rows, ids, strict=True)]
    return added


def _link_tags(
    organization, wanted: list[tuple[int, list[str]]], tag_ids: dict[str, int], *, new_contacts: bool = False
) -> dict[int, list[int]]:
    """Add the tags to the contacts (those not there yet); contact id -> new link ids.
    Contacts created by this batch (`new_contacts`) have no tags to look up yet."""
    pairs = {(contact_id, tag_ids[name.casefold()]) for contact_id, names in wanted for name in names}
    if not pairs:
        return {}
    existing: set[tuple[int, int]] = set()
    if not new_contacts:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT contact_id, tag_id FROM contacts_contacttag WHERE organization_id = %s AND contact_id = ANY(%s)",
                [organization.pk, sorted({c for c, _t in pairs})],
            )
            existing = set(cursor.fetchall())
    new = sorted(pairs - existing)
    ids = insert_rows(ContactTag, organization, [{"contact_id": c, "tag_id": t} for c, t in new])
    links: dict[int, list[int]] = {}
    for (contact_id, _tag), pk in zip(new, ids, strict=True):
        links.setdefault(contact_id, []).append(pk)
    return links


def _raw(instance, attname: str) -> Any:
    value = instance.__dict__.get(attname)
    return value.token if isinstance(value, Sealed) else value


def _update_contacts(
    organization,
    updates: list[tuple[PreparedContact, int]],
    *,
    company_ids: dict[str, int],
    owner_id,
    actor_id,
    now,
    definitions,
    batch_ref: int,
) -> list[int]:
    """Fill in the matched contacts from their rows (see the module docstring); journal the
    previous stored values. Returns the ids changed."""
    if not updates:
        return []
    ids = [pk for _row, pk in updates]
    contacts = {c.pk: c for c in Contact.objects.select_for_update().filter(organization=organization, pk__any=ids)}
    raw = {pk: {a: _raw(c, a) for a in UPDATE_COLUMNS} for pk, c in contacts.items()}
    raw_versions = {pk: c.version for pk, c in contacts.items()}
    encoder = BatchEncoder(Contact, organization)
    known = _known_values(organization, ids)
    rows, journal, children, tags = [], [], [], []
    for prepared, pk in updates:
        contact = contacts.get(pk)
        if contact is None:
            continue
        values = prepared.values
        new: dict[str, Any] = {}

        def change(attname: str, value: Any, contact=contact, new=new) -> None:
            if value not in (None, "") and getattr(contact, attname) != value:
                new[attname] = value

        for name in ("first_name", "last_name", "job_title", "notes", "date_of_birth", "preferred_language"):
            change(name, values[name])
        change("external_id", values["external_id"])
        if values["company"]:
            change("company_id", company_ids.get(values["company"]))
        change("owner_id", owner_id)
        emails = [(values["email"], values["email_label"]), *values["extra_emails"]] if values["email"] else []
        phones = [(values["phone"], values["phone_label"]), *values["extra_phones"]] if values["phone"] else []
        have_emails, have_phones, _has_address = known[pk]
        emails = [(e, label) for e, label in emails if normalize.email_match_form(e) not in have_emails]
        phones = [(p, label) for p, label in phones if p not in have_phones]
        if emails and not contact.email:
            new["email"] = emails.pop(0)[0]
        if phones and not contact.phone:
            new["phone"] = phones.pop(0)[0]
        if values["custom"]:
            definitions_now = definitions or []
            plain, personal = merged_values(definitions_now, contact, values["custom"])
            if plain != (contact.custom or {}):
                new["custom"] = plain
            if personal != contact.custom_personal:
                new["custom_personal"] = personal
        extra = {
            "extra_emails": emails,
            "extra_phones": phones,
            "addresses": values["addresses"] if not known[pk][2] else [],
        }
        children.append((pk, extra))
        tags.append((pk, values["tags"]))
        if not new and not any(extra.values()) and not values["tags"]:
            continue
        row = {"id": pk, **raw[pk]}
        for attname, value in new.items():
            row[attname] = encoder.seal(attname, value) if attname in encoder.encrypted else value
        derived = {d for attname in new for d in DERIVED_OF.get(attname, ())}
        plain_names = {n: new.get(n, getattr(contact, n)) for n in ("first_name", "last_name")}
        for name in derived:
            field = Contact._meta.get_field(name)
            if name == "name_tokens":
                row[name] = encoder.name_tokens(field, [plain_names["first_name"], plain_names["last_name"]])
            elif name == "is_minor":
                row[name] = is_minor(new["date_of_birth"])
            else:
                row[name] = encoder.blind_index(field, new[field.source])
        changed_columns = [c for c in UPDATE_COLUMNS if row[c] != raw[pk][c]]
        rows.append(row)
        journal.append(
            {
                "id": pk,
                "line": prepared.line,
                "columns": {c: raw[pk][c] for c in changed_columns},
                "version": raw_versions[pk] + 1,
                "added": {},
            }
        )
    encoder.flush_count()
    by_id = {entry["id"]: entry for entry in journal}
    for row in rows:
        row["version"] = raw_versions[row["id"]] + 1
        row["updated_at"] = now
        row["updated_by_id"] = actor_id
    update_rows(Contact, organization, rows, [*UPDATE_COLUMNS, "version", "updated_at", "updated_by_id"])
    added = _children(organization, [(pk, _child_rows(extra)) for pk, extra in children if pk in by_id])
    for label, pairs in added.items():
        for contact_id, child in pairs:
            by_id[contact_id]["added"].setdefault(label, []).append(child)
    tag_ids = _tag_ids(organization, [n for _pk, names in tags for n in names])
    links = _link_tags(organization, [(pk, names) for pk, names in tags if pk in by_id], tag_ids)
    for contact_id, link_ids in links.items():
        by_id[contact_id]["added"].setdefault(ContactTag._meta.label_lower, []).extend(link_ids)
    journal_updated(organization, batch_ref, Contact, journal)
    return [entry["id"] for entry in journal]


def _known_values(organization, ids: list[int]) -> dict[int, tuple[set[str], set[str], bool]]:
    """Per contact: the match forms of its emails, its phones, whether it has an address."""
    found: dict[int, tuple[set[str], set[str], bool]] = {pk: (set(), set(), False) for pk in ids}
    for contact in Contact.objects.filter(organization=organization, pk__any=ids).only(
        "pk", "organization_id", "email", "phone"
    ):
        if contact.email:
            found[contact.pk][0].add(normalize.email_match_form(contact.email))
        if contact.phone:
            found[contact.pk][1].add(contact.phone)
    for extra in ContactEmail.objects.filter(organization=organization, contact_id__any=ids):
        found[extra.contact_id][0].add(normalize.email_match_form(extra.email))
    for extra in ContactPhone.objects.filter(organization=organization, contact_id__any=ids):
        found[extra.contact_id][1].add(extra.phone)
    with_address = set(
        ContactAddress.objects.filter(organization=organization, contact_id__any=ids).values_list(
            "contact_id", flat=True
        )
    )
    for pk in with_address:
        emails, phones, _has = found[pk]
        found[pk] = (emails, phones, True)
    return found


def write_contacts(
    organization,
    records: list[ContactRecord],
    options: ImportOptions,
    *,
    batch_ref: int,
    actor,
    prepared: PreparedBatch | None = None,
) -> BatchResult:
    """Write one batch of records (see the module docstring for what happens to each row),
    inside the caller's transaction; one audit event for the batch. `prepared`: the batch
    as a ContactBatchPreparer of this import made it (ahead, in another thread); made here
    when not given."""
    result = BatchResult()
    now = timezone.now()
    actor_id = getattr(actor, "pk", actor)
    with tenant_context(organization):
        _check_owner(organization, options.owner_id)
        batch = prepared or ContactBatchPreparer(organization, options, actor=actor)(records)
        if batch.sealed:
            count_encryptions(organization.pk, batch.key_version, batch.sealed)
        definitions = batch.definitions
        prepared = batch.rows
        looked = _look_up(organization, batch, options)
        matched = [m for m in looked.matches.values() if m]
        restricted = _restricted(organization, matched)
        earlier = journaled_lines(organization, batch_ref, Contact, matched)
        seen: dict[str, int] = {}
        creates: list[PreparedContact] = []
        updates: list[tuple[PreparedContact, int]] = []
        for i, row in enumerate(prepared):
            if row.errors:
                result.failed += 1
                result.outcomes.append(RowOutcome(row.line, "failed", "; ".join(row.errors)))
                continue
            row.match = looked.matches.get(i)
            reason = _skip_reason(i, row, looked, options, seen, restricted)
            if not reason and row.match is not None and row.match in earlier:
                line = earlier[row.match]
                reason = _("duplicate of line %(line)d") % {"line": line} if line else _("duplicate of an earlier line")
            if reason:
                action = "failed" if "belongs to another contact" in reason else "skipped"
                setattr(result, action, getattr(result, action) + 1)
                result.outcomes.append(RowOutcome(row.line, action, reason, row.match))
            elif row.match is None:
                creates.append(row)
            else:
                updates.append((row, row.match))
        if creates:
            try:
                check_contacts(organization, adding=len(creates))
            except PlanLimitReached as exc:
                # The plan's contact limit: the batch's new people fail with the upgrade
                # message; updates of people already held go ahead.
                for row in creates:
                    result.outcomes.append(RowOutcome(row.line, "failed", " ".join(exc.messages)))
                result.failed += len(creates)
                creates = []
        companies: dict[str, int] = {}
        for row in [*creates, *(r for r, _pk in updates)]:
            if row.values["company"]:
                companies.setdefault(row.values["company"], row.line)
        company_ids, new_companies = _company_ids(
            organization, companies, actor, options.owner_id, batch_ref, looked.digests
        )
        created = []
        if creates:
            layout = batch.layouts[Contact]
            company_at, date_at, created_at, updated_at = (
                layout.position(name) for name in ("company_id", "source_date", "created_at", "updated_at")
            )
            today = timezone.localdate(now)  # the platform's calendar day, as a contact made by hand
            for row in creates:
                row.encoded[company_at] = company_ids.get(row.values["company"])
                row.encoded[date_at], row.encoded[created_at], row.encoded[updated_at] = today, now, now
            created = insert_encoded(layout, organization, [row.encoded for row in creates])
        journal_created(organization, batch_ref, Contact, created, [row.line for row in creates])
        _encoded_children(organization, batch.layouts, list(zip(created, creates, strict=True)))
        tag_ids = _tag_ids(organization, [n for row in creates for n in row.values["tags"]])
        _link_tags(
            organization,
            [(pk, row.values["tags"]) for pk, row in zip(created, creates, strict=True)],
            tag_ids,
            new_contacts=True,
        )
        updated = _update_contacts(
            organization,
            updates,
            company_ids=company_ids,
            owner_id=options.owner_id,
            actor_id=actor_id,
            now=now,
            definitions=definitions,
            batch_ref=batch_ref,
        )
        result.created = len(created)
        result.updated = len(updated)
        result.skipped += len(updates) - len(updated)  # matched, but the file had nothing new
        record_batch_event(
            action=CONTACT_IMPORTED,
            actor=actor,
            organization=organization,
            target_type="contact",
            ids=[*created, *updated],
            details={
                "batch_ref": batch_ref,
                "created": len(created),
                "updated": len(updated),
                "skipped": result.skipped,
                "failed": result.failed,
                "companies_created": new_companies,
            },
        )
    result.outcomes.sort(key=lambda outcome: outcome.line)
    return result


def revert_contacts(organization, batch_ref: int, *, actor, max_chunks: int | None = None) -> dict[str, int]:
    """Revert an import of contacts: deletes the contacts (and companies) it created, restores
    the contacts it updated to their previous values (unless changed since: counted as
    `kept`), a chunk at a time inside the caller's transaction. {"deleted", "restored", "kept"}."""
    with tenant_context(organization):
        return revert_batch(
            organization,
            batch_ref,
            actor=actor,
            order=[Contact, Company],
            action="contact.import_reverted",
            max_chunks=max_chunks,
        )


# --- companies ----------------------------------------------------------------------------------

COMPANY_UPDATED = ("name", "domain", "industry", "phone", "address", "notes", "external_id")
COMPANY_DERIVED = {"name": ("name_tokens", "name_index"), "external_id": ("external_id_index",)}
COMPANY_COLUMNS = (*COMPANY_UPDATED, "name_tokens", "name_index", "external_id_index")


def _normalise_company(record: CompanyRecord, options: ImportOptions, country: str) -> PreparedCompany:
    from contacts.services.companies import normalize_domain

    errors = list(getattr(record, "problems", []))
    name = _text(record.name, 200, LABEL_NAME, errors)
    if not name:
        errors.append(_("The row has no company name."))
    domain = ""
    if record.domain.strip():
        try:
            domain = normalize_domain(record.domain)
        except ValidationError as exc:
            errors += exc.messages
    phone = ""
    if record.phone.strip():
        try:
            phone = normalize.to_e164(record.phone, country)
        except normalize.InvalidPhoneNumber:
            errors.append(_("%(value)s is not a phone number.") % {"value": record.phone.strip()})
    values = {
        "name": name,
        "domain": domain,
        "industry": _text(record.industry, 100, LABEL_INDUSTRY, errors),
        "phone": phone,
        "address": (record.address or "").strip(),
        "notes": (record.notes or "").strip(),
        "external_id": _text(record.external_id, 100, LABEL_EXTERNAL_ID, errors),
        "tags": _tags([*options.tags, *record.tags], errors),
    }
    return PreparedCompany(line=record.line, errors=errors, values=values)


def _look_up_companies(organization, prepared: list[PreparedCompany], options: ImportOptions) -> dict[int, int]:
    """Row index -> matching company: by external id when matching on it, otherwise by name."""
    digests = _Digests(organization)
    by_external = MatchOn(options.match_on) == MatchOn.EXTERNAL_ID
    keys = {
        i: (digests.external_id(p.values["external_id"]) if by_external else digests.name(p.values["name"]))
        for i, p in enumerate(prepared)
        if not p.errors
    }
    column = "external_id_index" if by_external else "name_index"
    if not by_external:
        _backfill_company_names(organization)
    wanted = sorted({d for key in keys.values() for d in key})
    owners: dict[str, int] = {}
    if wanted:
        rows = Company.objects.filter(organization=organization, **{f"{column}__in": wanted}).order_by(
            "created_at", "pk"
        )
        for digest, pk in rows.values_list(column, "pk"):
            owners.setdefault(digest, pk)
    return {i: next((owners[d] for d in key if d in owners), None) for i, key in keys.items()}


def prepare_companies(organization, records: list[CompanyRecord], options: ImportOptions) -> list[PreparedCompany]:
    with tenant_context(organization):
        prepared = [_normalise_company(r, options, organization.country) for r in records]
        matches = _look_up_companies(organization, prepared, options)
        seen: dict[str, int] = {}
        for i, row in enumerate(prepared):
            row.match = matches.get(i)
            if not row.errors:
                row.skip = _company_skip(row, options, seen)
    return prepared


def _company_skip(row: PreparedCompany, options: ImportOptions, seen: dict[str, int]) -> str:
    key = row.values["external_id"] if MatchOn(options.match_on) == MatchOn.EXTERNAL_ID else None
    key = key or blind.name_match_form(row.values["name"])
    if key in seen:
        return _("duplicate of line %(line)d") % {"line": seen[key]}
    seen[key] = row.line
    if row.match is not None and options.mode == Mode.CREATE:
        return _("matches an existing company (create only)")
    if row.match is None and options.mode == Mode.UPDATE:
        return _("matches no existing company (update only)")
    return ""


def write_companies(
    organization, records: list[CompanyRecord], options: ImportOptions, *, batch_ref: int, actor
) -> BatchResult:
    result = BatchResult()
    now = timezone.now()
    actor_id = getattr(actor, "pk", actor)
    with tenant_context(organization):
        _check_owner(organization, options.owner_id)
        prepared = prepare_companies(organization, records, options)
        earlier = journaled_lines(organization, batch_ref, Company, [p.match for p in prepared if p.match])
        creates, updates = [], []
        for row in prepared:
            reason = "; ".join(row.errors)
            if row.errors:
                result.failed += 1
                result.outcomes.append(RowOutcome(row.line, "failed", reason))
                continue
            reason = row.skip
            if not reason and row.match in earlier:
                reason = _("duplicate of line %(line)d") % {"line": earlier[row.match] or 0}
            if reason:
                result.skipped += 1
                result.outcomes.append(RowOutcome(row.line, "skipped", reason, row.match))
            elif row.match is None:
                creates.append(row)
            else:
                updates.append(row)
        rows = [
            {
                **{k: row.values[k] for k in COMPANY_UPDATED},
                "owner_id": options.owner_id,
                "created_by_id": actor_id,
                "updated_by_id": actor_id,
                "created_at": now,
                "updated_at": now,
            }
            for row in creates
        ]
        created = insert_rows(Company, organization, rows)
        journal_created(organization, batch_ref, Company, created, [row.line for row in creates])
        updated = _update_companies(organization, updates, actor_id=actor_id, now=now, batch_ref=batch_ref)
        tag_ids = _tag_ids(organization, [n for row in prepared if not row.errors for n in row.values["tags"]])
        pairs = {
            (pk, tag_ids[n.casefold()])
            for pk, row in [*zip(created, creates, strict=True), *((r.match, r) for r in updates)]
            for n in row.values["tags"]
        }
        if pairs:
            existing = set(
                CompanyTag.objects.filter(
                    organization=organization, company_id__any={c for c, _t in pairs}
                ).values_list("company_id", "tag_id")
            )
            insert_rows(CompanyTag, organization, [{"company_id": c, "tag_id": t} for c, t in sorted(pairs - existing)])
        result.created, result.updated = len(created), len(updated)
        result.skipped += len(updates) - len(updated)
        record_batch_event(
            action=COMPANY_IMPORTED,
            actor=actor,
            organization=organization,
            target_type="company",
            ids=[*created, *updated],
            details={"batch_ref": batch_ref, "created": len(created), "updated": len(updated)},
        )
    result.outcomes.sort(key=lambda outcome: outcome.line)
    return result


def _update_companies(organization, updates: list[PreparedCompany], *, actor_id, now, batch_ref) -> list[int]:
    if not updates:
        return []
    ids = [row.match for row in updates]
    companies = {c.pk: c for c in Company.objects.select_for_update().filter(organization=organization, pk__any=ids)}
    raw = {pk: {a: _raw(c, a) for a in COMPANY_COLUMNS} for pk, c in companies.items()}
    encoder = BatchEncoder(Company, organization)
    rows, journal = [], []
    for row in updates:
        company = companies.get(row.match)
        if company is None:
            continue
        new = {
            name: row.values[name]
            for name in COMPANY_UPDATED
            if row.values[name] and getattr(company, name) != row.values[name]
        }
        if "name" in new and blind.name_match_form(new["name"]) == blind.name_match_form(company.name):
            del new["name"]  # the same name spelt otherwise (what it was matched on): kept as stored
        if not new:
            continue
        stored = {"id": company.pk, **raw[company.pk]}
        for attname, value in new.items():
            stored[attname] = encoder.seal(attname, value) if attname in encoder.encrypted else value
        if "name" in new:
            stored["name_tokens"] = encoder.name_tokens(Company._meta.get_field("name_tokens"), [new["name"]])
            stored["name_index"] = encoder.blind_index(Company._meta.get_field("name_index"), new["name"])
        if "external_id" in new:
            stored["external_id_index"] = encoder.blind_index(
                Company._meta.get_field("external_id_index"), new["external_id"]
            )
        stored.update(version=company.version + 1, updated_at=now, updated_by_id=actor_id)
        rows.append(stored)
        journal.append(
            {
                "id": company.pk,
                "line": row.line,
                "columns": {c: raw[company.pk][c] for c in COMPANY_COLUMNS if stored[c] != raw[company.pk][c]},
                "version": company.version + 1,
            }
        )
    encoder.flush_count()
    update_rows(Company, organization, rows, [*COMPANY_COLUMNS, "version", "updated_at", "updated_by_id"])
    journal_updated(organization, batch_ref, Company, journal)
    return [entry["id"] for entry in journal]


def revert_companies(organization, batch_ref: int, *, actor, max_chunks: int | None = None) -> dict[str, int]:
    with tenant_context(organization):
        return revert_batch(
            organization,
            batch_ref,
            actor=actor,
            order=[Company],
            action="company.import_reverted",
            max_chunks=max_chunks,
        )


def stored_values(organization, model, ids: Sequence[int], columns: Sequence[str]) -> dict[int, dict]:
    """The rows' columns as stored (tests and the preview's comparisons)."""
    with tenant_context(organization):
        return stored_rows(model, organization, ids, columns)
