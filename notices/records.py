"""Records of processing activities (GDPR Art. 30), generated from the personal-data
registry whenever they are asked for, so they are always current: a field classified today
is in today's record, and there is no second list to forget.

- Art. 30(1): Logicnet as controller (its account holders' data), one activity per purpose
  whose role is `controller`;
- Art. 30(2): Logicnet as processor for one organization (the contacts it keeps), one
  activity per purpose whose role is `processor`, naming the organization as controller.

Each activity lists the subject kinds and the categories of the fields classified under its
purpose, its legal basis, recipients, sub-processors, transfers and retention rules.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from logicnet.personal_data.access import _cell
from logicnet.personal_data.registry import Category, Role, registry

# Art. 30(1)(g) and 30(2)(d): a general description of the security measures (Art. 32(1)).
SECURITY_MEASURES = [
    gettext_lazy("personal fields encrypted with AES-256-GCM under a data key per organization"),
    gettext_lazy("exact lookups through keyed blind indexes; the database never holds plaintext or keys"),
    gettext_lazy("row-level security in PostgreSQL separating organizations"),
    gettext_lazy("two-factor authentication, required for platform administrators"),
    gettext_lazy("a hash-chained audit log of access and changes"),
    gettext_lazy("servers, backups and mail delivery in the European Economic Area"),
]


@dataclass
class Activity:
    """One processing activity: one purpose of the registry, with what is classified under it."""

    key: str
    name: str
    legal_basis: str
    role: str
    subject_kinds: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    sub_processors: list[str] = field(default_factory=list)
    transfers: str = ""
    retention: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)


@dataclass
class Record:
    article: str  # "30(1)" or "30(2)"
    controller: dict
    processor: dict | None
    activities: list[Activity]
    security_measures: list[str]


def _classified_by_purpose() -> dict[str, list[tuple[str, object]]]:
    """Purpose key -> [("app.Model.field", rule)] for every personal field of every installed model."""
    found: dict[str, list[tuple[str, object]]] = {}
    for model in registry.models_to_check(apps.get_models()):
        for name, rule in registry.rules_for(model).items():
            if rule.personal:
                found.setdefault(rule.purpose, []).append((f"{model._meta.label}.{name}", rule))
    return found


def activities(role: str) -> list[Activity]:
    """Every purpose of the registry with this role, as a processing activity."""
    by_purpose = _classified_by_purpose()
    result = []
    for key in sorted(registry.purposes):
        purpose = registry.purposes[key]
        if purpose.role != role:
            continue
        classified = by_purpose.get(key, [])
        kinds = sorted({path.kind for _where, rule in classified for path in rule.subjects})
        categories = sorted({rule.category for _where, rule in classified if rule.category in Category.values})
        retention_keys = sorted({rule.retention for _where, rule in classified if rule.retention in registry.retention})
        result.append(
            Activity(
                key=key,
                name=str(purpose.name),
                legal_basis=purpose.legal_basis_name,
                role=purpose.role,
                subject_kinds=[str(registry.subject_kinds[k].name) for k in kinds if k in registry.subject_kinds],
                categories=[str(Category(c).label) for c in categories],
                recipients=[str(r) for r in purpose.recipients],
                sub_processors=[str(s) for s in purpose.sub_processors],
                transfers=str(purpose.transfers),
                retention=[str(registry.retention[r].description) for r in retention_keys],
                fields=sorted(where for where, _rule in classified),
            )
        )
    return result


def logicnet_as_processor() -> dict:
    return {"name": "Logicnet", "contact": settings.PRIVACY_CONTACT_EMAIL}


def controller_record() -> Record:
    """Art. 30(1): Logicnet's own record, as controller of its account holders' data."""
    return Record(
        article="30(1)",
        controller=logicnet_as_processor(),
        processor=None,
        activities=activities(Role.CONTROLLER),
        security_measures=[str(m) for m in SECURITY_MEASURES],
    )


def processor_record(organization) -> Record:
    """Art. 30(2): what Logicnet processes on behalf of `organization`, as its processor.
    Read inside the organization's tenant context (its privacy settings name the controller)."""
    from privacy.services.requests import privacy_settings

    controller = privacy_settings(organization)
    return Record(
        article="30(2)",
        controller={
            "name": controller.controller_name or organization.name,
            "contact": controller.contact_email,
            "address": controller.controller_address,
            "dpo": controller.dpo_contact,
        },
        processor=logicnet_as_processor(),
        activities=activities(Role.PROCESSOR),
        security_measures=[str(m) for m in SECURITY_MEASURES],
    )


def record_csv(record: Record) -> str:
    """The record as CSV, one row per processing activity (lists joined with "; ")."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("GDPR article"),
            _("Controller"),
            _("Processor"),
            _("Purpose"),
            _("Legal basis"),
            _("Data subjects"),
            _("Categories of personal data"),
            _("Recipients"),
            _("Sub-processors"),
            _("Transfers to third countries"),
            _("Retention"),
            _("Security measures"),
            _("Fields"),
        ]
    )
    processor = record.processor["name"] if record.processor else ""
    for activity in record.activities:
        row = [
            f"Art. {record.article}",
            record.controller["name"],
            processor,
            activity.name,
            activity.legal_basis,
            "; ".join(activity.subject_kinds),
            "; ".join(activity.categories),
            "; ".join(activity.recipients),
            "; ".join(activity.sub_processors),
            activity.transfers,
            "; ".join(activity.retention),
            "; ".join(record.security_measures),
            " ".join(activity.fields),
        ]
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()
