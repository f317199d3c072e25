"""One registry classifying every field of every installed model, and the policy that drives
fulfilment of data-subject rights from it.

Data-subject access, portability, erasure, retention sweeps and the record of processing
activities are all derived from here, so a field nobody classified would silently be left
out of all of them: the system check in checks.py fails, naming the field, until it is.

The policy is data, declared once and referred to by key:

- purposes (`define_purpose`): legal basis (GDPR Art. 6(1) letter), whether Logicnet is the
  controller or a processor, recipients, sub-processors, transfers;
- retention rules (`define_retention`): anchor field, duration, action, and whether an
  organization may set its own period (only where it is the controller);
- subject kinds (`define_subject_kind`): user, contact, company (a sole trader), each a
  resolver that finds the subject's rows through the paths the field rules give;
- stores outside the database (`declare_store`): files, mail, Redis, Stripe, backups;
- erasure per model (`classify(..., erasure=...)`), with per-field overrides in the rules.

Each app classifies its models in `<app>/personal_data.py` (third-party and Django models in
logicnet/personal_data/third_party.py, the shared policy in policy.py):

    classify("contacts.Contact", {
        "email": personal(Category.CONTACT, subject=THE_CONTACT, retention="contact",
                          purpose="customer_relationship", provided=True),
        "created_at": not_personal(),
    }, erasure=delete_row())
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    IDENTITY = "identity", _("Identity")
    CONTACT = "contact_details", _("Contact details")
    PROFESSIONAL = "professional", _("Professional")
    FINANCIAL = "financial", _("Financial")
    NOTES = "notes", _("Free-text notes")
    USAGE = "usage", _("Usage")
    DEVICE = "device_network", _("Device and network")
    SPECIAL = "special", _("Special category (GDPR Art. 9)")


class Erasure(models.TextChoices):
    DELETE_ROW = "delete_row", _("Delete the row")
    BLANK = "blank", _("Blank the value")
    ANONYMISE = "anonymise", _("Replace with an anonymous value")
    KEEP = "keep", _("Keep under a named legal basis")
    # Many-to-many rows about several people: take this person out, delete the row when
    # nobody is left (an interaction with three participants survives one erasure).
    UNLINK = "unlink", _("Unlink the person; delete the row when nobody is left")


class LegalBasis(models.TextChoices):
    """GDPR Art. 6(1), by letter."""

    CONSENT = "a", _("Consent (GDPR Art. 6(1)(a))")
    CONTRACT = "b", _("Performance of a contract (GDPR Art. 6(1)(b))")
    LEGAL_OBLIGATION = "c", _("Compliance with a legal obligation (GDPR Art. 6(1)(c))")
    VITAL_INTERESTS = "d", _("Vital interests (GDPR Art. 6(1)(d))")
    PUBLIC_TASK = "e", _("Public interest or official authority (GDPR Art. 6(1)(e))")
    LEGITIMATE_INTERESTS = "f", _("Legitimate interests (GDPR Art. 6(1)(f))")


# Codes in the policy data (not shown as such: pages say it in their own words).
class Role(models.TextChoices):
    CONTROLLER = "controller", "Logicnet is the controller"
    PROCESSOR = "processor", "Logicnet is a processor for the organization"


class RetentionAction(models.TextChoices):
    DELETE = "delete", "Delete"
    ANONYMISE = "anonymise", "Anonymise"


NO_TRANSFERS = "none outside the EEA"


# --- policy declarations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Purpose:
    key: str
    name: str
    legal_basis: str  # a LegalBasis letter
    role: str = Role.CONTROLLER
    recipients: tuple[str, ...] = ()
    sub_processors: tuple[str, ...] = ()
    transfers: str = NO_TRANSFERS

    @property
    def legal_basis_name(self) -> str:
        return str(LegalBasis(self.legal_basis).label)


@dataclass(frozen=True)
class RetentionRule:
    """How long data is kept: `duration` after the row's `anchor` date (None: for as long as
    `description` says, e.g. while the account exists), then `action`.

    `overridable`: an organization may set its own period (only where it is the controller,
    i.e. for the data of its customers; Logicnet's own periods are Logicnet's to set).

    `applies_to`: the models (labels) whose rows the retention sweep ages by `anchor`; empty,
    the models classified under the rule that have the anchor field. `activity`: fields
    ("app.Model.field") of rows about the same subject that also count as activity (a
    contact's interactions keep it active)."""

    key: str
    description: str
    anchor: str = ""
    duration: datetime.timedelta | None = None
    action: str = RetentionAction.DELETE
    overridable: bool = False
    applies_to: tuple[str, ...] = ()
    activity: tuple[str, ...] = ()

    def effective_duration(self, override: datetime.timedelta | None = None) -> datetime.timedelta | None:
        if override is None:
            return self.duration
        if not self.overridable:
            raise ValueError(f"the retention rule {self.key!r} cannot be overridden by an organization")
        return override


@dataclass(frozen=True)
class Store:
    """Where personal data lives outside the database, and how erasure reaches it."""

    key: str
    name: str
    holds: str
    erasure: str
    subject_kinds: tuple[str, ...] = ()
    location: str = ""


@dataclass(frozen=True)
class SubProcessor:
    """A sub-processor the purposes name (GDPR Art. 28(2), (4)): who, for what, where.
    Policies and access packages show its `description` (its str); the public list at
    /privacy/subprocessors/ starts from these (the notices app seeds it from them)."""

    key: str
    name: str
    service: str
    location: str
    description: str
    in_eea: bool = True

    def __str__(self) -> str:
        return str(self.description)


@dataclass(frozen=True)
class SubjectKind:
    """A kind of data subject, and how to find one: `model` is the label of the row that is
    the subject (or a zero-argument function returning it, for swappable models). A tenant
    kind lives inside one organization and is read inside its tenant context; a platform
    kind (a user) spans organizations and is read under the audited platform bypass."""

    key: str
    name: str
    model: str | Callable[[], str]
    tenant: bool = True

    @property
    def model_label(self) -> str:
        return self.model() if callable(self.model) else self.model

    def model_class(self):
        from django.apps import apps

        return apps.get_model(self.model_label)

    def holdings(self, subject) -> list:
        """Every (model, path) holding the subject's data, with the rows that hold it."""
        return registry.holdings(self.key, subject)


@dataclass(frozen=True)
class Subject:
    """Whose data a field is, as the path from its row to the data subject.

    `lookup` is the ORM filter on this model that selects a subject's rows, given
    `value(subject)` (an attribute name of the subject, or a function of it)."""

    kind: str  # a SubjectKind key: "user", "contact", "company"
    lookup: str
    value: str | Callable[[Any], Any] = "pk"
    also: tuple[tuple[str, Any], ...] = ()  # fixed conditions, e.g. (("target_type", "user"),)

    def filter_kwargs(self, subject) -> dict[str, Any]:
        value = self.value(subject) if callable(self.value) else getattr(subject, self.value)
        return {self.lookup: value, **dict(self.also)}

    @property
    def path(self) -> str:
        return f"{self.kind} via {self.lookup}"


THE_USER = Subject("user", "pk")
THE_CONTACT = Subject("contact", "pk")


def user_via(lookup: str) -> Subject:
    return Subject("user", lookup)


class Disclose(models.TextChoices):
    """How a field about someone else shows in a data subject's access package."""

    REDACTED = "redacted", "as 'another person'"
    NAME = "name", "a team member by name only"


@dataclass(frozen=True)
class FieldRule:
    personal: bool
    category: str = ""
    subject: Subject | None = None
    # "" follows the model's erasure (see ModelErasure); anything else overrides it.
    erasure: str = ""
    retention: str = ""
    purpose: str = ""  # a Purpose key
    provided_by_subject: bool = False
    legal_basis: str = ""
    note: str = ""
    # Why a personal field may sit unencrypted in the database (see `stored_plain`): empty
    # for an encrypted field; required otherwise.
    plaintext: str = ""
    # Never part of an access or portability package (GDPR Art. 15(4): a password hash, a
    # TOTP seed, a session key is no information about the person and would hand over access).
    secret: bool = False
    # How the field appears in another subject's package (a team member on a contact's row).
    disclose: str = Disclose.REDACTED
    # A search column (keyed digest) derived from another field: it goes when its source goes.
    # A field name of the same model, or "app.Model.field" for a table kept by a trigger.
    derived_from: str = ""
    # For ANONYMISE: the replacement, formatted with the row's pk ("Anonymised {pk}").
    replacement: str = ""
    # Further paths to other subjects the same value is about (an audit event's target is a
    # user or a contact, as its target_type says).
    also_about: tuple[Subject, ...] = ()

    @property
    def subjects(self) -> tuple[Subject, ...]:
        return (self.subject, *self.also_about) if self.subject is not None else self.also_about


@dataclass(frozen=True)
class ModelErasure:
    """What erasing a subject does to a model's rows about them; fields override it."""

    action: str
    legal_basis: str = ""
    replace: tuple[tuple[str, str], ...] = ()
    # UNLINK: the link model (label), its foreign key to this model, and to the subject.
    through: str = ""
    through_parent: str = ""
    through_subject: str = ""

    @property
    def replacements(self) -> dict[str, str]:
        return dict(self.replace)


def delete_row() -> ModelErasure:
    return ModelErasure(Erasure.DELETE_ROW)


def blank() -> ModelErasure:
    return ModelErasure(Erasure.BLANK)


def anonymise(**replacements: str) -> ModelErasure:
    return ModelErasure(Erasure.ANONYMISE, replace=tuple(sorted(replacements.items())))


def keep(legal_basis: str) -> ModelErasure:
    return ModelErasure(Erasure.KEEP, legal_basis=legal_basis)


def unlink(*, through: str, parent: str, subject: str) -> ModelErasure:
    return ModelErasure(Erasure.UNLINK, through=through, through_parent=parent, through_subject=subject)


# Reasons a personal field may be stored unencrypted, shared by the apps' registries so the
# same reason reads the same everywhere. A new plaintext personal field must name one (or
# its own): the check fails until it does.
class Plain:
    TIMESTAMP = "a timestamp: says when, not who or what; filtered and sorted in SQL"
    CHOICE = "one value of a short fixed list (a status, a role, a label); filtered in SQL"
    KEYED_TOKEN = "a keyed HMAC token: meaningless without the organization's search key"  # noqa: S105
    ACCOUNT = (
        "account data of a user, Logicnet being the controller: needed to sign in, reset a password "
        "and mail the user before any organization key is unwrapped"
    )
    SESSION = "session machinery: random keys, ids and flags, no contact data"
    AUDIT = (
        "the hash-chained audit log must stay verifiable without the data keys; it holds ids, "
        "action names and addresses, never contact data"
    )
    TWO_FACTOR = "two-factor device bookkeeping as django-otp stores it (names, timestamps, counters)"
    HASHED = "a salted, slow hash: the value cannot be read back from it"
    SEALED = "sealed with a platform key by its own field type: unreadable without the application's key"
    NOT_PERSONAL_CUSTOM = "custom field values the organization declared not personal; filtered in SQL"


def personal(
    category: str,
    *,
    subject: Subject,
    retention: str,
    purpose: str,
    erasure: str = "",
    provided: bool = False,
    legal_basis: str = "",
    note: str = "",
    plaintext: str = "",
    secret: bool = False,
    disclose: str = Disclose.REDACTED,
    derived_from: str = "",
    replacement: str = "",
    also_about: Iterable[Subject] = (),
) -> FieldRule:
    return FieldRule(
        personal=True,
        category=category,
        subject=subject,
        erasure=erasure,
        retention=retention,
        purpose=purpose,
        provided_by_subject=provided,
        legal_basis=legal_basis,
        note=note,
        plaintext=plaintext,
        secret=secret,
        disclose=disclose,
        derived_from=derived_from,
        replacement=replacement,
        also_about=tuple(also_about),
    )


def not_personal(note: str = "") -> FieldRule:
    return FieldRule(personal=False, note=note)


# --- the registry ------------------------------------------------------------------------------


@dataclass
class Holding:
    """One model's rows about one subject, through one path, with the personal fields held."""

    model: str
    table: str
    path: str
    fields: list[str]
    rows: Any  # a QuerySet
    subject_path: Subject | None = None
    platform_only: bool = False

    @property
    def count(self) -> int:
        return self.rows.count()


@dataclass
class ModelEntry:
    rules: dict[str, FieldRule]
    note: str = ""
    erasure: ModelErasure | None = None
    # Readable only by the platform role (the audit log: the application may only append).
    platform_only: bool = False


@dataclass
class Registry:
    _models: dict[str, dict[str, FieldRule]] = field(default_factory=dict)
    _entries: dict[str, ModelEntry] = field(default_factory=dict)
    purposes: dict[str, Purpose] = field(default_factory=dict)
    retention: dict[str, RetentionRule] = field(default_factory=dict)
    subject_kinds: dict[str, SubjectKind] = field(default_factory=dict)
    stores: dict[str, Store] = field(default_factory=dict)
    sub_processors: dict[str, SubProcessor] = field(default_factory=dict)
    # Keys of audit `details` known to hold no personal value (structure: field names,
    # counts, ids). Erasure redacts every other value of an event about the subject.
    audit_structural_keys: set[str] = field(default_factory=set)
    value_labels: dict[tuple[str, str], Callable[[int], dict[str, str]]] = field(default_factory=dict)
    # Append-only ledgers keyed by a subject's row (model label -> carrier): when two contacts
    # are merged their rows cannot be repointed, so the owning app appends copies for the
    # survivor (see declare_merge_carrier).
    merge_carriers: dict[str, Callable[..., int]] = field(default_factory=dict)

    # --- declarations ---------------------------------------------------------------------

    def classify(
        self,
        label: str,
        fields: dict[str, FieldRule],
        *,
        note: str = "",
        erasure: ModelErasure | None = None,
        platform_only: bool = False,
    ) -> None:
        key = label.lower()
        if key in self._models:
            raise ValueError(f"{label} is classified twice")
        self._models[key] = dict(fields)
        self._entries[key] = ModelEntry(self._models[key], note, erasure, platform_only)

    def define_purpose(
        self,
        key: str,
        name: str,
        legal_basis: str,
        role: str = Role.CONTROLLER,
        recipients: Iterable[str] = (),
        sub_processors: Iterable[str] = (),
        transfers: str = NO_TRANSFERS,
    ) -> str:
        if key in self.purposes:
            raise ValueError(f"purpose {key!r} is defined twice")
        self.purposes[key] = Purpose(key, name, legal_basis, role, tuple(recipients), tuple(sub_processors), transfers)
        return key

    def define_retention(
        self,
        key: str,
        description: str,
        *,
        anchor: str = "",
        duration: datetime.timedelta | None = None,
        action: str = RetentionAction.DELETE,
        overridable: bool = False,
        applies_to: Iterable[str] = (),
        activity: Iterable[str] = (),
    ) -> str:
        if key in self.retention:
            raise ValueError(f"retention rule {key!r} is defined twice")
        self.retention[key] = RetentionRule(
            key, description, anchor, duration, action, overridable, tuple(applies_to), tuple(activity)
        )
        return key

    def define_subject_kind(self, key: str, name: str, model: str | Callable[[], str], *, tenant: bool) -> SubjectKind:
        if key in self.subject_kinds:
            raise ValueError(f"subject kind {key!r} is defined twice")
        kind = SubjectKind(key, name, model, tenant)
        self.subject_kinds[key] = kind
        return kind

    def declare_store(
        self,
        key: str,
        name: str,
        *,
        holds: str,
        erasure: str,
        subject_kinds: Iterable[str] = (),
        location: str = "",
    ) -> Store:
        if key in self.stores:
            raise ValueError(f"store {key!r} is declared twice")
        store = Store(key, name, holds, erasure, tuple(subject_kinds), location)
        self.stores[key] = store
        return store

    def declare_sub_processor(
        self, key: str, *, name: str, service: str, location: str, description: str, in_eea: bool = True
    ) -> SubProcessor:
        if key in self.sub_processors:
            raise ValueError(f"sub-processor {key!r} is declared twice")
        sub_processor = SubProcessor(key, name, service, location, description, in_eea)
        self.sub_processors[key] = sub_processor
        return sub_processor

    def declare_audit_structural_keys(self, *keys: str) -> None:
        self.audit_structural_keys.update(keys)

    def declare_value_labels(self, label: str, fields: Iterable[str], labels: Callable[[int], dict[str, str]]) -> None:
        """JSON fields keyed by an organization's own keys (custom fields): `labels(organization
        id)` gives the names people know them by, used in access packages."""
        for name in fields:
            self.value_labels[(label.lower(), name)] = labels

    def declare_merge_carrier(self, label: str, carry: Callable[..., int]) -> None:
        """`carry(organization=, survivor=, duplicate=, actor=)` appends, for the survivor of a
        merge, what an append-only ledger (`logicnet.tenancy.rls.APPEND_ONLY_TABLES`) holds
        about the duplicate, and returns how many rows it appended. Called inside the merge's
        transaction, with both contact rows locked."""
        key = label.lower()
        if key in self.merge_carriers:
            raise ValueError(f"merge carrier for {label} is declared twice")
        self.merge_carriers[key] = carry

    # --- reading --------------------------------------------------------------------------

    def rules_for(self, model) -> dict[str, FieldRule]:
        return self._models.get(model._meta.label_lower, {})

    def rule_for(self, model, field_name: str) -> FieldRule | None:
        return self.rules_for(model).get(field_name)

    def entry_for(self, model) -> ModelEntry | None:
        return self._entries.get(model._meta.label_lower)

    def model_erasure(self, model) -> ModelErasure:
        """The model's declared erasure, or the one its rules imply: rows deleted when any
        personal field is erased by deleting its row, values blanked otherwise."""
        entry = self.entry_for(model)
        if entry is not None and entry.erasure is not None:
            return entry.erasure
        rules = self.rules_for(model).values()
        if any(rule.personal and rule.erasure == Erasure.DELETE_ROW for rule in rules):
            return delete_row()
        return blank()

    def field_erasure(self, model, name: str) -> str:
        rule = self.rule_for(model, name)
        if rule is None or not rule.personal:
            return ""
        return rule.erasure or self.model_erasure(model).action

    def purpose(self, key: str) -> Purpose:
        return self.purposes[key]

    def kind(self, key: str) -> SubjectKind:
        try:
            return self.subject_kinds[key]
        except KeyError:
            raise ValueError(f"unknown data-subject kind {key!r}") from None

    @staticmethod
    def fields_of(model) -> list[models.Field]:
        """Every field that holds data in the model's own table (or its many-to-many
        tables, which Django creates for it)."""
        return [*model._meta.local_concrete_fields, *model._meta.local_many_to_many]

    @staticmethod
    def models_to_check(candidates: Iterable[type[models.Model]]) -> list[type[models.Model]]:
        return [m for m in candidates if not m._meta.proxy and not m._meta.auto_created and not m._meta.abstract]

    def classified_models(self) -> list[str]:
        return sorted(self._models)

    def personal_fields(self, model, kind: str) -> dict[Subject, list[str]]:
        """The model's personal fields about a subject of this kind, grouped by path."""
        grouped: dict[Subject, list[str]] = {}
        for name, rule in self.rules_for(model).items():
            if not rule.personal:
                continue
            for path in rule.subjects:
                if path.kind == kind:
                    grouped.setdefault(path, []).append(name)
        return grouped

    def derived_columns(self, model) -> dict[str, list[str]]:
        """Source field -> the search columns of the same model derived from it (blind
        indexes, prefix tokens, and rules naming `derived_from`)."""
        from logicnet.encryption.fields import BlindIndexField, PrefixTokensField

        found: dict[str, list[str]] = {}
        for model_field in model._meta.concrete_fields:
            sources: list[str] = []
            if isinstance(model_field, BlindIndexField):
                sources = [model_field.source]
            elif isinstance(model_field, PrefixTokensField):
                sources = list(model_field.sources)
            rule = self.rule_for(model, model_field.name)
            if rule is not None and rule.derived_from and "." not in rule.derived_from:
                sources.append(rule.derived_from)
            for source in sources:
                found.setdefault(source, []).append(model_field.name)
        return found

    def is_search_column(self, model, name: str) -> bool:
        from logicnet.encryption.fields import BlindIndexField, PrefixTokensField

        rule = self.rule_for(model, name)
        if rule is not None and rule.derived_from:
            return True
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        return isinstance(model_field, BlindIndexField | PrefixTokensField)

    def derived_table(self, model) -> str:
        """For a table kept by a trigger from another model's search column (name tokens),
        that column ("app.Model.field"); "" otherwise. Such rows follow their source."""
        for rule in self.rules_for(model).values():
            if rule.derived_from and "." in rule.derived_from:
                return rule.derived_from
        return ""

    def recipients_of(self, kind: str, subject) -> list[dict[str, Any]]:
        """GDPR Art. 19: the recipients to whom `subject`'s data is disclosed, derived from
        what is held about them: every table holding a row about the subject names, through
        its fields' purposes, the purposes' recipients and sub-processors. Each entry: the
        recipient's key ("recipient" entries by their text), name, whether a sub-processor,
        and the purposes. Call it where `holdings` may (inside the tenant context for a
        contact); tables only the platform reads (the audit log) are left out: they are not
        disclosed to anyone."""
        found: dict[str, dict[str, Any]] = {}
        for holding in self.holdings(kind, subject):
            if holding.platform_only or not holding.rows.exists():
                continue
            model_rules = self._models.get(holding.model.lower(), {})
            for name in holding.fields:
                rule = model_rules.get(name)
                purpose = self.purposes.get(getattr(rule, "purpose", "") or "")
                if purpose is None:
                    continue
                named = [(str(r), str(r), False) for r in purpose.recipients]
                named += [(p.key, str(p.name), True) for p in purpose.sub_processors if isinstance(p, SubProcessor)]
                for key, label, sub_processor in named:
                    entry = found.setdefault(
                        key, {"key": key, "name": label, "sub_processor": sub_processor, "purposes": []}
                    )
                    if purpose.key not in entry["purposes"]:
                        entry["purposes"].append(purpose.key)
        return sorted(found.values(), key=lambda entry: (entry["sub_processor"], entry["name"]))

    def holdings(self, kind: str, subject) -> list[Holding]:
        """Every (model, path to the subject) with the personal fields it holds about `subject`.

        Run it where the rows are visible: a tenant kind (contact, company) inside its
        organization's tenant context, a user (whose rows span organizations) under the
        platform bypass. Rows of tenant models are filtered on the subject's organization
        first, so every lookup uses the organization-first indexes."""
        from django.apps import apps

        subject_kind = self.kind(kind)
        organization_id = getattr(subject, "organization_id", None) if subject_kind.tenant else None
        found = []
        for model in self.models_to_check(apps.get_models()):
            entry = self.entry_for(model)
            for path, names in self.personal_fields(model, kind).items():
                # The base manager: scoping is the caller's tenant context or bypass.
                rows = model._base_manager.filter(**path.filter_kwargs(subject))
                if organization_id is not None and _has_organization(model):
                    rows = rows.filter(organization_id=organization_id)
                rows = self._through_source_tokens(model, subject, rows)
                found.append(
                    Holding(
                        model._meta.label,
                        model._meta.db_table,
                        path.lookup,
                        sorted(names),
                        rows,
                        subject_path=path,
                        platform_only=bool(entry and entry.platform_only),
                    )
                )
        return found

    def _through_source_tokens(self, model, subject, rows):
        """A search table's rows about the row they derive from, narrowed to the tokens that
        row holds: the lookup then uses the table's (organization, token, row) index."""
        source = self.derived_table(model)
        label, _dot, field_name = source.rpartition(".")
        if not source or subject._meta.label != label:
            return rows
        column = next(name for name, rule in self.rules_for(model).items() if rule.derived_from == source)
        return rows.filter(**{f"{column}__any": list(getattr(subject, field_name) or [])})

    # --- checking -------------------------------------------------------------------------

    def problems(self, candidates: Iterable[type[models.Model]]) -> list[tuple[str, str]]:
        """(model.field, what is wrong) for every field not classified or classified badly."""
        found: list[tuple[str, str]] = []
        for model in self.models_to_check(candidates):
            rules = self.rules_for(model)
            names = set()
            for model_field in self.fields_of(model):
                names.add(model_field.name)
                where = f"{model._meta.label}.{model_field.name}"
                rule = rules.get(model_field.name)
                if rule is None:
                    found.append((where, "is not classified in the personal-data registry"))
                elif rule.personal:
                    found.extend((where, problem) for problem in self._rule_problems(model, rule))
                    if stored_plain(model_field) and not rule.plaintext:
                        found.append(
                            (
                                where,
                                "is personal but stored in plaintext: use an encrypted field "
                                "(logicnet/encryption/fields.py) or give the reason in `plaintext=`",
                            )
                        )
            for stale in sorted(set(rules) - names):
                found.append((f"{model._meta.label}.{stale}", "is classified but the model has no such field"))
            if rules:
                found.extend((model._meta.label, problem) for problem in self._model_problems(model))
        return found

    def policy_problems(self) -> list[tuple[str, str]]:
        """Problems of the declarations themselves (purposes, retention, kinds)."""
        found = []
        for purpose in self.purposes.values():
            if purpose.legal_basis not in LegalBasis.values:
                found.append(
                    (f"purpose {purpose.key}", f"names no GDPR Art. 6(1) letter (got {purpose.legal_basis!r})")
                )
            if purpose.role not in Role.values:
                found.append((f"purpose {purpose.key}", f"has no valid role (got {purpose.role!r})"))
        for rule in self.retention.values():
            if rule.action not in RetentionAction.values:
                found.append((f"retention {rule.key}", f"has no valid action (got {rule.action!r})"))
            if rule.duration is not None and not rule.anchor:
                found.append((f"retention {rule.key}", "has a duration but no anchor field to count from"))
            found.extend((f"retention {rule.key}", problem) for problem in _applies_to_problems(rule))
        for kind in self.subject_kinds.values():
            try:
                kind.model_class()
            except (LookupError, ValueError):
                found.append((f"subject kind {kind.key}", f"names no installed model ({kind.model_label!r})"))
        return found

    def _rule_problems(self, model, rule: FieldRule) -> list[str]:
        problems = []
        if rule.category not in Category.values:
            problems.append(f"has no valid category (got {rule.category!r})")
        if rule.erasure and rule.erasure not in Erasure.values:
            problems.append(f"has no valid erasure method (got {rule.erasure!r})")
        if rule.erasure == Erasure.KEEP and not rule.legal_basis:
            problems.append("is kept on erasure but names no legal basis")
        if rule.retention not in self.retention:
            problems.append(f"names an unknown retention rule {rule.retention!r}")
        if not rule.purpose:
            problems.append("names no purpose")
        elif rule.purpose not in self.purposes:
            problems.append(f"names an unknown purpose {rule.purpose!r}")
        if rule.disclose not in Disclose.values:
            problems.append(f"has no valid disclosure (got {rule.disclose!r})")
        if rule.subject is None:
            problems.append("names no data subject")
        for path in rule.subjects:
            problems.extend(self._path_problems(model, path))
        if rule.derived_from:
            problems.extend(_derived_problems(model, rule.derived_from))
        return problems

    def _path_problems(self, model, subject: Subject) -> list[str]:
        if subject.kind not in self.subject_kinds:
            return [f"names an unknown data-subject kind {subject.kind!r}"]
        kind = self.subject_kinds[subject.kind]
        try:
            target = kind.model_class()
        except (LookupError, ValueError):
            return []  # reported once, by policy_problems
        problems = [
            f"has a subject path {subject.lookup!r} that {error}"
            for error in _lookup_errors(model, subject.lookup, target)
        ]
        if isinstance(subject.value, str) and subject.value != "pk":
            try:
                target._meta.get_field(subject.value)
            except FieldDoesNotExist:
                problems.append(f"takes {subject.value!r} of the {kind.key}, which {target._meta.label} has not")
        for name, _value in subject.also:
            problems.extend(f"has a fixed condition {name!r} that {e}" for e in _lookup_errors(model, name, None))
        return problems

    def _model_problems(self, model) -> list[str]:
        problems = self._search_column_problems(model)
        entry = self.entry_for(model)
        erasure = entry.erasure if entry else None
        if erasure is None:
            return problems
        if erasure.action not in Erasure.values:
            problems.append(f"has no valid erasure method (got {erasure.action!r})")
        if erasure.action == Erasure.KEEP and not erasure.legal_basis:
            problems.append("is kept on erasure but names no legal basis")
        for name in erasure.replacements:
            try:
                model._meta.get_field(name)
            except FieldDoesNotExist:
                problems.append(f"anonymises {name!r}, which it has not")
        if erasure.action == Erasure.UNLINK:
            from django.apps import apps

            try:
                through = apps.get_model(erasure.through)
                for name in (erasure.through_parent, erasure.through_subject):
                    through._meta.get_field(name)
            except (LookupError, ValueError, FieldDoesNotExist) as exc:
                problems.append(f"unlinks through {erasure.through!r}, which does not resolve ({exc})")
        return problems

    def _search_column_problems(self, model) -> list[str]:
        """A search column is about whoever its source is about, so it is found, and goes,
        with it."""
        rules = self.rules_for(model)
        problems = []
        for source, columns in self.derived_columns(model).items():
            source_rule = rules.get(source)
            if source_rule is None or not source_rule.personal:
                continue
            for column in columns:
                rule = rules.get(column)
                if rule is None:
                    continue  # reported as unclassified
                if not rule.personal or set(rule.subjects) != set(source_rule.subjects):
                    problems.append(
                        f"has the search column {column!r} derived from {source!r}: classify it personal, "
                        "about the same subject as its source"
                    )
        return problems


def _applies_to_problems(rule: RetentionRule) -> list[str]:
    from django.apps import apps

    problems = []
    for label in rule.applies_to:
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            problems.append(f"applies to {label!r}, which is no installed model")
            continue
        try:
            model._meta.get_field(rule.anchor)
        except FieldDoesNotExist:
            problems.append(f"applies to {label}, which has no anchor field {rule.anchor!r}")
    for path in rule.activity:
        label, _sep, name = path.rpartition(".")
        try:
            apps.get_model(label)._meta.get_field(name)
        except (LookupError, ValueError, FieldDoesNotExist):
            problems.append(f"counts activity from {path!r}, which does not resolve")
    return problems


def _has_organization(model) -> bool:
    return any(f.name == "organization" and f.is_relation for f in model._meta.concrete_fields)


_LOOKUP_NAMES = {"exact", "iexact", "in"}


def _lookup_errors(model, lookup: str, target) -> list[str]:
    """Why an ORM lookup path does not resolve on `model` (or does not end at `target`,
    the subject's model, when it ends at a relation): [] when it does."""
    parts = lookup.split("__")
    if parts[-1] in _LOOKUP_NAMES and len(parts) > 1:
        parts = parts[:-1]
    current = model
    for index, part in enumerate(parts):
        if part == "pk":
            last_model = current
            if index != len(parts) - 1:
                return [f"goes on past 'pk' on {current._meta.label}"]
            if target is not None and last_model is not target and not issubclass(last_model, target):
                return [f"ends at {last_model._meta.label}, not at {target._meta.label}"]
            return []
        try:
            found = current._meta.get_field(part)
        except FieldDoesNotExist:
            by_attname = {f.attname: f for f in current._meta.concrete_fields}
            if part not in by_attname:
                return [f"does not resolve: {current._meta.label} has no field {part!r}"]
            found = by_attname[part]
            if index != len(parts) - 1:
                return [f"goes on past {part!r}"]
            return []
        if found.is_relation and found.related_model is not None:
            current = found.related_model
            if isinstance(current, str):  # not resolved (a model outside the app registry)
                from django.apps import apps

                current = apps.get_model(current)
            if index == len(parts) - 1 and target is not None and current is not target:
                return [f"ends at {current._meta.label}, not at {target._meta.label}"]
        elif index != len(parts) - 1:
            return [f"goes on past the plain field {part!r}"]
    return []


def _derived_problems(model, derived_from: str) -> list[str]:
    from django.apps import apps

    if "." in derived_from:
        label, _sep, name = derived_from.rpartition(".")
        try:
            apps.get_model(label)._meta.get_field(name)
        except (LookupError, ValueError, FieldDoesNotExist):
            return [f"is derived from {derived_from!r}, which does not resolve"]
        return []
    try:
        model._meta.get_field(derived_from)
    except FieldDoesNotExist:
        return [f"is derived from {derived_from!r}, which the model has not"]
    return []


def stored_plain(field: models.Field) -> bool:
    """Whether the field's value is readable in a dump as it is.

    Not plain: encrypted fields, and the keyed digests derived from them (blind indexes and
    prefix tokens). Row references (relations, auto primary keys) are not counted either:
    an id says which row, and the row it points to is classified, and encrypted or
    justified, on its own."""
    from logicnet.encryption.fields import BlindIndexField, PrefixTokensField

    if getattr(field, "encrypted", False) or isinstance(field, BlindIndexField | PrefixTokensField):
        return False
    row_reference = field.is_relation or (field.primary_key and isinstance(field, models.AutoField))
    return not row_reference


registry = Registry()
classify = registry.classify
define_purpose = registry.define_purpose
define_retention = registry.define_retention
define_subject_kind = registry.define_subject_kind
declare_store = registry.declare_store
declare_sub_processor = registry.declare_sub_processor
declare_value_labels = registry.declare_value_labels
declare_merge_carrier = registry.declare_merge_carrier


def __getattr__(name: str):
    # RETENTION_RULES was a dict of descriptions before retention became data.
    if name == "RETENTION_RULES":
        return {key: rule.description for key, rule in registry.retention.items()}
    raise AttributeError(name)
