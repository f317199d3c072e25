"""What a data subject gets when they ask (GDPR Art. 15) or want their data back (Art. 20),
derived from the registry: the privacy app calls these, it never lists fields of its own.

    data = collect("contact", contact)                 # everything about them, JSON-ready
    data = collect("contact", contact, provided_only=True)   # the portability subset
    to_json(data) / to_csv_files(data) / to_html(data)  # the package's three forms
    article_15_information(organization)                # purposes, recipients, retention, ...

A section per model ({model label: [row dicts]}), rows in id order. In a row:
- the subject's own values, decrypted (custom field values under the organization's labels);
- never a secret (password hashes, TOTP seeds, session keys, tokens: `secret=True`), nor a
  search column (blind indexes and name tokens are keyed digests, no information);
- other people's data redacted: another participant of an interaction is "another person",
  a team member shows by name only where the registry's `disclose` allows it.

Queries: one per (model, path), filtered on the organization first so each uses the
organization-first indexes, with the references it shows joined in (select_related) and the
many-to-many links of all rows read in one query: the count does not grow with the rows.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import uuid
import zipfile
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from logicnet.personal_data.registry import Category, Disclose, Holding, LegalBasis, Registry, registry
from logicnet.spreadsheet import safe_cell

ANOTHER_PERSON = "another person"
SCHEMA_VERSION = "1"
SKIPPED_FIELDS = {"organization"}


@dataclass
class SubjectData:
    """Everything collected about one subject, JSON-ready (`as_dict`)."""

    kind: str
    subject_id: int
    organization_id: int | None
    generated_at: str
    provided_only: bool
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    information: dict[str, Any] | None = None
    # What could not be read here (e.g. the audit log outside a platform process).
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": "logicnet-subject-data",
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "subject_id": self.subject_id,
            "organization_id": self.organization_id,
            "generated_at": self.generated_at,
            "provided_only": self.provided_only,
            "sections": self.sections,
            "information": self.information,
            "notes": self.notes,
        }

    def row_count(self) -> int:
        return sum(len(rows) for rows in self.sections.values())


# The package's JSON Schema (draft 2020-12), published with the package (GDPR Art. 20:
# "structured, commonly used and machine-readable").
PACKAGE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://logicnet.example/schemas/subject-data-1.json",
    "title": "Logicnet CRM: personal data of one data subject",
    "type": "object",
    "required": [
        "schema",
        "schema_version",
        "kind",
        "subject_id",
        "generated_at",
        "provided_only",
        "sections",
        "information",
        "notes",
    ],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": "logicnet-subject-data"},
        "schema_version": {"const": SCHEMA_VERSION},
        "kind": {"enum": ["user", "contact", "company"]},
        "subject_id": {"type": "integer"},
        "organization_id": {"type": ["integer", "null"]},
        "generated_at": {"type": "string", "format": "date-time"},
        "provided_only": {
            "type": "boolean",
            "description": "true: only what the person provided (portability, GDPR Art. 20)",
        },
        "sections": {
            "type": "object",
            "description": "one list of rows per table (model label), rows in id order",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": ["integer", "string"]}},
                    "additionalProperties": {
                        "description": "a value: text, number, boolean, null, a list, or an object "
                        "(custom fields by label; dates as ISO 8601 text)"
                    },
                },
            },
        },
        "information": {
            "type": ["object", "null"],
            "description": "GDPR Art. 15(1)(a)-(h) and 15(2): see article_15_information",
            "required": [
                "controller",
                "purposes",
                "categories",
                "recipients",
                "retention",
                "source",
                "rights",
                "complaint",
                "automated_decision_making",
                "transfers",
                "stores",
            ],
            "properties": {
                "controller": {"type": "object", "required": ["name", "role"]},
                "purposes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "name", "legal_basis", "legal_basis_name", "role", "recipients"],
                    },
                },
                "categories": {"type": "array", "items": {"type": "string"}},
                "recipients": {"type": "array", "items": {"type": "string"}},
                "retention": {
                    "type": "array",
                    "items": {"type": "object", "required": ["key", "description", "duration_days", "action"]},
                },
                "source": {"type": "string"},
                "rights": {"type": "array", "items": {"type": "object", "required": ["article", "name", "text"]}},
                "complaint": {"type": "object", "required": ["authority", "name", "website"]},
                "automated_decision_making": {"type": "string"},
                "transfers": {"type": "string"},
                "stores": {"type": "array", "items": {"type": "object", "required": ["name", "holds", "erasure"]}},
            },
        },
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}


# --- collecting ----------------------------------------------------------------------------------


def collect(kind: str, subject, *, provided_only: bool = False, audit: bool = True) -> SubjectData:
    """Everything the registry classifies about `subject` (a User, a Contact, a Company),
    across every model, as JSON-ready sections. `provided_only`: only the values the subject
    provided (the registry's `provided` flag; GDPR Art. 20). `audit`: also the audit entries
    about them, which only a platform process (worker, command) can read; elsewhere they are
    left out and a note says so.

    Enters the subject's organization's tenant context itself (a user: the audited platform
    bypass), so call it outside one."""
    subject_kind = registry.kind(kind)
    organization_id = getattr(subject, "organization_id", None) if subject_kind.tenant else None
    data = SubjectData(
        kind=kind,
        subject_id=subject.pk,
        organization_id=organization_id,
        generated_at=timezone.now().astimezone(datetime.UTC).isoformat(),
        provided_only=provided_only,
    )
    with ExitStack() as stack:
        if subject_kind.tenant:
            from logicnet.tenancy.context import tenant_context

            stack.enter_context(tenant_context(organization_id))
        else:
            from logicnet.tenancy.context import platform_bypass

            stack.enter_context(
                platform_bypass(actor=None, reason=f"access package for user {subject.pk} (data-subject request)")
            )
        reader = _Reader(kind, subject, organization_id, provided_only)
        platform_holdings = []
        for holding in registry.holdings(kind, subject):
            if holding.platform_only and subject_kind.tenant:
                platform_holdings.append(holding)
                continue
            reader.read(holding, data)
        if not provided_only:
            organization = _organization(organization_id)
            data.information = article_15_information(organization, kind=kind)
    if platform_holdings and not provided_only:
        _read_platform_holdings(kind, subject, reader, platform_holdings, data, audit)
    data.sections = {label: data.sections[label] for label in sorted(data.sections)}
    return data


def _read_platform_holdings(kind, subject, reader, found: list[Holding], data: SubjectData, audit: bool) -> None:
    """Rows only the platform role may read (the audit log), read under the audited bypass."""
    if not audit or settings.PLATFORM_DATABASE is None:
        data.notes.append(_("Audit entries about you are added by the privacy job."))
        return
    from logicnet.tenancy.context import platform_bypass

    with platform_bypass(
        actor=None,
        reason=f"access package for {kind} {subject.pk}: audit entries about them",
        organization=data.organization_id,
    ):
        for holding in registry.holdings(kind, subject):
            if holding.platform_only:
                reader.read(holding, data)


def _organization(organization_id: int | None):
    if organization_id is None:
        return None
    from logicnet.tenancy.organizations import organization_model

    return organization_model()._base_manager.filter(pk=organization_id).first()


class _Reader:
    """Turns the rows of one holding into JSON-ready dicts (see the module docstring)."""

    def __init__(self, kind: str, subject, organization_id: int | None, provided_only: bool) -> None:
        self.kind = kind
        self.subject = subject
        self.organization_id = organization_id
        self.provided_only = provided_only
        self.subject_model = registry.kind(kind).model_class()
        self.user_model = apps.get_model(settings.AUTH_USER_MODEL)
        self._labels: dict[tuple[str, str], dict[str, str]] = {}

    # -- which fields, and how ------------------------------------------------------------

    def columns(self, model, holding: Holding) -> list[tuple[models.Field, str]]:
        """(field, how) for the fields shown: "own" (the subject's value), "other" (someone
        else's, redacted or by name), "context" (not personal: the kind of an interaction)."""
        rules = registry.rules_for(model)
        shown = []
        for model_field in Registry.fields_of(model):
            name = model_field.name
            rule = rules.get(name)
            if rule is None or rule.secret or name in SKIPPED_FIELDS or registry.is_search_column(model, name):
                continue
            if model_field.primary_key:
                shown.append((model_field, "id"))
                continue
            if not rule.personal:
                if not self.provided_only:
                    shown.append((model_field, "context"))
                continue
            own = any(path.kind == self.kind for path in rule.subjects)
            if own:
                if self.provided_only and not rule.provided_by_subject:
                    continue
                shown.append((model_field, "own"))
            elif not self.provided_only:
                shown.append((model_field, "other"))
        return shown

    def read(self, holding: Holding, data: SubjectData) -> None:
        model = apps.get_model(holding.model)
        if registry.derived_table(model):
            return  # a search table (name tokens): keyed digests, no information
        columns = self.columns(model, holding)
        own = [f for f, how in columns if how == "own"]
        if not own:
            return
        if all(f.is_relation for f in own):
            # The row only points at the subject (a contact a team member owns, a tag link):
            # the reference is theirs, the rest of the row is someone else's.
            columns = [(f, how) for f, how in columns if how in ("id", "own")]
        joined = [
            f.name
            for f, how in columns
            if f.many_to_one and (how == "own" or (how == "other" and f.related_model is self.user_model))
        ]
        rows = holding.rows.select_related(*joined).order_by("pk") if joined else holding.rows.order_by("pk")
        rows = list(rows)
        if not rows:
            return
        links = self._many_to_many(model, columns, [row.pk for row in rows])
        section = data.sections.setdefault(holding.model, [])
        seen = {row["id"] for row in section}
        for row in rows:
            if row.pk in seen:
                continue
            section.append(self._row(model, row, columns, links))

    def _many_to_many(self, model, columns, ids: list) -> dict[str, dict[Any, list]]:
        """Per many-to-many field, {row id: [shown values]}: one query per field for all rows."""
        found: dict[str, dict[Any, list]] = {}
        for model_field, how in columns:
            if not model_field.many_to_many or (how == "context" and not self._plain_target(model_field)):
                continue
            through = model_field.remote_field.through
            source = through._meta.get_field(model_field.m2m_field_name()).attname
            target = through._meta.get_field(model_field.m2m_reverse_field_name()).attname
            filters = {f"{source}__in": ids}
            if _has_organization(through) and self.organization_id is not None:
                filters["organization_id"] = self.organization_id
            pairs = list(through._base_manager.filter(**filters).order_by(source, target).values_list(source, target))
            related = model_field.related_model
            names: dict[Any, str] = {}
            if self._plain_target(model_field):
                names = {
                    pk: str(obj)
                    for pk, obj in related._base_manager.in_bulk({t for _s, t in pairs}).items()  # one query
                }
            values: dict[Any, list] = {}
            for source_id, target_id in pairs:
                if related is self.subject_model:
                    shown = self.subject.pk if target_id == self.subject.pk else ANOTHER_PERSON
                else:
                    shown = names.get(target_id, target_id)
                values.setdefault(source_id, []).append(shown)
            found[model_field.name] = values
        return found

    @staticmethod
    def _plain_target(model_field) -> bool:
        """A related model with no personal field (tags): its rows can be shown by name."""
        rules = registry.rules_for(model_field.related_model)
        return bool(rules) and not any(rule.personal for rule in rules.values())

    def _row(self, model, row, columns, links) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for model_field, how in columns:
            name = model_field.name
            if how == "id":
                out["id"] = row.pk
                continue
            if model_field.many_to_many:
                out[name] = links.get(name, {}).get(row.pk, [])
                continue
            if how == "other":
                out[name] = self._other(model, model_field, row)
                continue
            if model_field.many_to_one:
                related_id = getattr(row, model_field.attname)
                if related_id is None:
                    out[name] = None
                elif model_field.related_model is self.subject_model:
                    out[name] = related_id if related_id == self.subject.pk else ANOTHER_PERSON
                elif how == "own":
                    out[name] = str(getattr(row, name))
                else:
                    out[name] = related_id
                continue
            value = getattr(row, model_field.attname)
            if getattr(model_field, "platform_sealed", False) and value:
                # Sealed with the platform key (a support thread's texts): the person gets the
                # words, not the token. Secrets sealed this way (TOTP seeds) are never shown.
                from logicnet.encryption.fields import open_platform_field

                value = open_platform_field(row, name).decode("utf-8", errors="replace")
            labels = self._value_labels(model, name)
            if labels is not None and isinstance(value, dict):
                value = {labels.get(key, key): item for key, item in value.items()}
            out[name] = _jsonable(value)
        return out

    def _other(self, model, model_field, row):
        """Someone else's value on the subject's row: a team member by name where the
        registry allows it, anyone else as "another person"."""
        value = getattr(row, model_field.attname)
        if value in (None, "", [], {}):
            return None
        rule = registry.rule_for(model, model_field.name)
        if rule.disclose == Disclose.NAME and model_field.many_to_one and model_field.related_model is self.user_model:
            user = getattr(row, model_field.name)
            return getattr(user, "full_name", "") or ANOTHER_PERSON
        return ANOTHER_PERSON

    def _value_labels(self, model, name: str) -> dict[str, str] | None:
        key = (model._meta.label_lower, name)
        provider = registry.value_labels.get(key)
        if provider is None or self.organization_id is None:
            return None
        if key not in self._labels:
            self._labels[key] = provider(self.organization_id)
        return self._labels[key]


def _has_organization(model) -> bool:
    return any(f.name == "organization" and f.is_relation for f in model._meta.concrete_fields)


def _jsonable(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    return str(value)


# --- GDPR Art. 15(1) information --------------------------------------------------------------------

ANSPDCP = {
    "authority": "ANSPDCP",
    "name": "Autoritatea Națională de Supraveghere a Prelucrării Datelor cu Caracter Personal",
    "address": "B-dul G-ral. Gheorghe Magheru 28-30, Sector 1, 010336 București, România",
    "website": "https://www.dataprotection.ro",
    "email": "anspdcp@dataprotection.ro",
}


def _rights() -> list[dict[str, str]]:
    return [
        {"article": "15", "name": _("Access"), "text": _("You may get a copy of your data and this information.")},
        {"article": "16", "name": _("Rectification"), "text": _("You may have inaccurate data corrected.")},
        {"article": "17", "name": _("Erasure"), "text": _("You may have your data erased.")},
        {"article": "18", "name": _("Restriction"), "text": _("You may have the processing of your data restricted.")},
        {
            "article": "20",
            "name": _("Portability"),
            "text": _("You may receive the data you provided in a machine-readable form."),
        },
        {
            "article": "21",
            "name": _("Objection"),
            "text": _("You may object to processing based on legitimate interests, and always to direct marketing."),
        },
        {
            "article": "77, 79",
            "name": _("Complaint and court"),
            "text": _("You may complain to the supervisory authority (ANSPDCP in Romania) and go to court."),
        },
    ]


def _kind_rules(kind: str):
    for model in Registry.models_to_check(apps.get_models()):
        for rule in registry.rules_for(model).values():
            if rule.personal and any(path.kind == kind for path in rule.subjects):
                yield rule


def article_15_information(organization=None, *, kind: str = "contact", retention_overrides=None) -> dict[str, Any]:
    """The information GDPR Art. 15(1)(a)-(h) and 15(2) owes the subject, from the registry:
    purposes with their legal basis, categories, recipients, retention, source, rights,
    complaint authority, automated decisions (none) and transfers. `organization`: the
    controller of a contact's data (None: Logicnet, for its account holders).
    `retention_overrides`: {rule key: timedelta} the organization set (privacy settings),
    applied only to the rules an organization may override."""
    overrides = retention_overrides or {}
    rules = list(_kind_rules(kind))
    purpose_keys = sorted({rule.purpose for rule in rules if rule.purpose in registry.purposes})
    purposes = [registry.purposes[key] for key in purpose_keys]
    retention_keys = sorted({rule.retention for rule in rules if rule.retention in registry.retention})
    recipients = sorted({str(r) for p in purposes for r in (*p.recipients, *p.sub_processors)})
    categories = sorted({str(Category(rule.category).label) for rule in rules if rule.category in Category.values})
    controller_is_organization = organization is not None and registry.kind(kind).tenant
    if controller_is_organization:
        controller = {
            "name": organization.name,
            "role": "controller",
            "processor": "Logicnet",
            "country": getattr(organization, "country", ""),
        }
        source = _(
            "From you, or from the organization's staff, its imports, web forms or API: each record's "
            "own source is in the data (source, source detail, obtained on)."
        )
    else:
        controller = {"name": "Logicnet", "role": "controller"}
        source = _(
            "From you, when you signed up and used your account; team activity from the organizations you belong to."
        )
    retention = []
    for key in retention_keys:
        rule = registry.retention[key]
        override = overrides.get(key)
        duration = rule.effective_duration(override)  # refuses an override of Logicnet's own rules
        retention.append(
            {
                "key": key,
                "description": str(rule.description),
                "anchor": rule.anchor,
                "duration_days": None if duration is None else duration.days,
                "action": rule.action,
                "set_by_organization": override is not None,
            }
        )
    return {
        "controller": controller,
        "purposes": [
            {
                "key": p.key,
                "name": str(p.name),
                "legal_basis": p.legal_basis,
                "legal_basis_name": str(LegalBasis(p.legal_basis).label),
                "role": p.role,
                "recipients": [str(r) for r in p.recipients],
                "sub_processors": [str(r) for r in p.sub_processors],
                "transfers": str(p.transfers),
            }
            for p in purposes
        ],
        "categories": categories,
        "recipients": recipients,
        "retention": retention,
        "source": str(source),
        "rights": [{key: str(value) for key, value in right.items()} for right in _rights()],
        "complaint": dict(ANSPDCP),
        "automated_decision_making": str(
            _("None: no decision about you is taken solely by automated means, and no profiling (GDPR Art. 22).")
        ),
        "transfers": str(_("None outside the European Economic Area.")),
        "stores": [
            {"name": str(store.name), "holds": str(store.holds), "erasure": str(store.erasure)}
            for store in registry.stores.values()
            if kind in store.subject_kinds
        ],
    }


# --- writers --------------------------------------------------------------------------------------


def to_json(data: SubjectData) -> bytes:
    """The package as JSON, valid against PACKAGE_SCHEMA."""
    return json.dumps(data.as_dict(), ensure_ascii=False, indent=2, default=str).encode()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, default=str)
    text = str(value)
    return safe_cell(text)


def section_filename(label: str) -> str:
    return f"{label.replace('.', '_').lower()}.csv"


def to_csv_files(data: SubjectData) -> dict[str, bytes]:
    """One CSV per table, UTF-8 with a byte-order mark (spreadsheets read it as UTF-8);
    lists and objects as JSON in their cell."""
    files = {}
    for label, rows in data.sections.items():
        columns: list[str] = []
        for row in rows:
            columns.extend(key for key in row if key not in columns)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(column)) for column in columns])
        files[section_filename(label)] = buffer.getvalue().encode("utf-8-sig")
    return files


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_display(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_display(item) for item in value)
    return str(value)


def to_html(data: SubjectData) -> str:
    """A readable page (templates/privacy/access_package.html): self-contained, escaped."""
    sections = []
    for label, rows in data.sections.items():
        columns: list[str] = []
        for row in rows:
            columns.extend(key for key in row if key not in columns)
        model = apps.get_model(label)
        sections.append(
            {
                "label": label,
                "title": str(model._meta.verbose_name_plural).capitalize(),
                "columns": columns,
                "rows": [[_display(row.get(column)) for column in columns] for row in rows],
            }
        )
    return render_to_string(
        "privacy/access_package.html", {"data": data.as_dict(), "sections": sections, "info": data.information}
    )


def provided_fields(kind: str) -> dict[str, list[str]]:
    """The portability schema: per model label, the fields the subject provided (Art. 20)."""
    found: dict[str, list[str]] = {}
    for model in Registry.models_to_check(apps.get_models()):
        names = [
            name
            for name, rule in registry.rules_for(model).items()
            if rule.personal
            and rule.provided_by_subject
            and not rule.secret
            and any(p.kind == kind for p in rule.subjects)
        ]
        if names:
            found[model._meta.label] = sorted(names)
    return found


__all__: Iterable[str] = [
    "PACKAGE_SCHEMA",
    "SubjectData",
    "article_15_information",
    "collect",
    "provided_fields",
    "to_csv_files",
    "to_html",
    "to_json",
]


def to_zip(data: SubjectData) -> tuple[bytes, dict[str, int]]:
    """The package people receive: data.json, index.html, schema.json and one CSV per table
    under tables/; and a summary without personal data (tables and rows)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", to_json(data))
        archive.writestr("index.html", to_html(data))
        archive.writestr("schema.json", json.dumps(PACKAGE_SCHEMA, indent=2))
        for name, content in sorted(to_csv_files(data).items()):
            archive.writestr(f"tables/{name}", content)
    return buffer.getvalue(), {"tables": len(data.sections), "rows": data.row_count()}
