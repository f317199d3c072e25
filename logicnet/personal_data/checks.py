"""The check that keeps the registry complete: `manage.py check` (and so `make test`) fails,
naming the field, while any field of any installed model is unclassified."""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.core.checks import Error, register

from logicnet.personal_data.registry import registry


def classification_errors(models: Iterable | None = None) -> list[Error]:
    candidates = apps.get_models() if models is None else models
    return [
        Error(
            f"{where} {problem}",
            hint="Classify it in its app's personal_data.py (see logicnet/personal_data/registry.py).",
            id="personal_data.E001",
        )
        for where, problem in registry.problems(candidates)
    ]


@register("personal_data")
def personal_data_classified(app_configs, **kwargs):
    models = None if app_configs is None else [m for config in app_configs for m in config.get_models()]
    return classification_errors(models)
