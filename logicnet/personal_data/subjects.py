"""Reading the registry for one data subject: where their data is, table by table.

The first reader of the registry; access packages, portability exports and erasure will
walk the same `holdings` (GDPR Art. 15, 17, 20)."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.models import QuerySet

from logicnet.personal_data.registry import Registry, Subject, registry


@dataclass
class Holding:
    model: str
    table: str
    path: str
    fields: list[str]
    rows: QuerySet

    @property
    def count(self) -> int:
        return self.rows.count()


def holdings(kind: str, subject) -> list[Holding]:
    """Every (model, path to the subject) with the personal fields it holds about `subject`.
    Run it where the rows are visible: a contact inside its organization's tenant context,
    a user (whose rows span organizations) under the platform bypass."""
    found = []
    for model in Registry.models_to_check(apps.get_models()):
        grouped: dict[Subject, list[str]] = registry.personal_fields(model, kind)
        for path, fields in grouped.items():
            # The base manager: scoping is the caller's tenant context or bypass.
            rows = model._base_manager.filter(**path.filter_kwargs(subject))
            found.append(Holding(model._meta.label, model._meta.db_table, path.lookup, sorted(fields), rows))
    return found
