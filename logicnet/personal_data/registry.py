"""One registry classifying every field of every installed model.

Data-subject access, portability, erasure, retention sweeps and the record of processing
activities are all derived from here, so a field nobody classified would silently be left
out of all of them: the system check in checks.py fails, naming the field, until it is.

Each app classifies its models in `<app>/personal_data.py` (third-party and Django models
in logicnet/personal_data/third_party.py):

    classify("contacts.Contact", {
        "email": personal(Category.CONTACT, subject=THE_CONTACT, erasure=Erasure.BLANK,
                          retention="contact", purpose="customer relationship", provided=True),
        "created_at": not_personal(),
    })
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

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


# Retention rules the sweeps will implement, by name. A field names one of these.
RETENTION_RULES: dict[str, str] = {
    "account": "while the user account exists; erased when the account is deleted",
    "membership": "while the user belongs to the organization",
    "contact": "while the organization keeps the contact; erased on request (GDPR Art. 17) "
    "or with the organization's data when it leaves",
    "organization": "while the organization is a customer; its data key is destroyed when it leaves",
    "invitation": "until accepted or revoked, then 30 days",
    "session": "until sign-out or expiry (14 days)",
    "security_log": "2 years: accountability and security of processing (GDPR Art. 5(2), 32)",
    "job": "90 days after the job finishes",
    "two_factor": "while two-factor authentication is enabled for the account",
    "email_confirmation": "until the confirmation link expires (3 days)",
}


@dataclass(frozen=True)
class Subject:
    """Whose data a field is, as the path from its row to the data subject.

    `lookup` is the ORM filter on this model that selects a subject's rows, given
    `value(subject)` (an attribute name of the subject, or a function of it)."""

    kind: str  # "user" or "contact"
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


@dataclass(frozen=True)
class FieldRule:
    personal: bool
    category: str = ""
    subject: Subject | None = None
    erasure: str = ""
    retention: str = ""
    purpose: str = ""
    provided_by_subject: bool = False
    legal_basis: str = ""
    note: str = ""
    # Why a personal field may sit unencrypted in the database (see `stored_plain`): empty
    # for an encrypted field; required otherwise.
    plaintext: str = ""


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
    erasure: str,
    retention: str,
    purpose: str,
    provided: bool = False,
    legal_basis: str = "",
    note: str = "",
    plaintext: str = "",
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
    )


def not_personal(note: str = "") -> FieldRule:
    return FieldRule(personal=False, note=note)


class Registry:
    def __init__(self) -> None:
        self._models: dict[str, dict[str, FieldRule]] = {}
        self._notes: dict[str, str] = {}

    def classify(self, label: str, fields: dict[str, FieldRule], *, note: str = "") -> None:
        key = label.lower()
        if key in self._models:
            raise ValueError(f"{label} is classified twice")
        self._models[key] = dict(fields)
        if note:
            self._notes[key] = note

    def rules_for(self, model) -> dict[str, FieldRule]:
        return self._models.get(model._meta.label_lower, {})

    def rule_for(self, model, field_name: str) -> FieldRule | None:
        return self.rules_for(model).get(field_name)

    @staticmethod
    def fields_of(model) -> list[models.Field]:
        """Every field that holds data in the model's own table (or its many-to-many
        tables, which Django creates for it)."""
        return [*model._meta.local_concrete_fields, *model._meta.local_many_to_many]

    @staticmethod
    def models_to_check(candidates: Iterable[type[models.Model]]) -> list[type[models.Model]]:
        return [m for m in candidates if not m._meta.proxy and not m._meta.auto_created and not m._meta.abstract]

    def problems(self, candidates: Iterable[type[models.Model]]) -> list[tuple[str, str]]:
        """(model.field, what is wrong) for every field not classified or classified badly."""
        found: list[tuple[str, str]] = []
        for model in self.models_to_check(candidates):
            rules = self.rules_for(model)
            names = set()
            for field in self.fields_of(model):
                names.add(field.name)
                where = f"{model._meta.label}.{field.name}"
                rule = rules.get(field.name)
                if rule is None:
                    found.append((where, "is not classified in the personal-data registry"))
                elif rule.personal:
                    found.extend((where, problem) for problem in _rule_problems(rule))
                    if stored_plain(field) and not rule.plaintext:
                        found.append(
                            (
                                where,
                                "is personal but stored in plaintext: use an encrypted field "
                                "(logicnet/encryption/fields.py) or give the reason in `plaintext=`",
                            )
                        )
            for stale in sorted(set(rules) - names):
                found.append((f"{model._meta.label}.{stale}", "is classified but the model has no such field"))
        return found

    def personal_fields(self, model, kind: str) -> dict[Subject, list[str]]:
        """The model's personal fields about a subject of this kind, grouped by path."""
        grouped: dict[Subject, list[str]] = {}
        for name, rule in self.rules_for(model).items():
            if rule.personal and rule.subject is not None and rule.subject.kind == kind:
                grouped.setdefault(rule.subject, []).append(name)
        return grouped

    def classified_models(self) -> list[str]:
        return sorted(self._models)


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


def _rule_problems(rule: FieldRule) -> list[str]:
    problems = []
    if rule.category not in Category.values:
        problems.append(f"has no valid category (got {rule.category!r})")
    if rule.erasure not in Erasure.values:
        problems.append(f"has no valid erasure method (got {rule.erasure!r})")
    if rule.erasure == Erasure.KEEP and not rule.legal_basis:
        problems.append("is kept on erasure but names no legal basis")
    if rule.retention not in RETENTION_RULES:
        problems.append(f"names an unknown retention rule {rule.retention!r}")
    if not rule.purpose:
        problems.append("names no purpose")
    if rule.subject is None:
        problems.append("names no data subject")
    return problems


registry = Registry()
classify = registry.classify
