"""The check that keeps the registry complete and its policy coherent: `manage.py check` (and
so `make test`) fails, naming the field or declaration, while any field of any installed model
is unclassified, a personal field is neither encrypted nor justified, a subject path does not
resolve, or a purpose, retention rule or subject kind is referred to but not defined."""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.core.checks import Error, register

from logicnet.personal_data.registry import registry


def classification_errors(models: Iterable | None = None) -> list[Error]:
    candidates = apps.get_models() if models is None else models
    problems = registry.problems(candidates)
    if models is None:
        problems = [*problems, *registry.policy_problems()]
    return [
        Error(
            f"{where} {problem}",
            hint="Classify it in its app's personal_data.py (see logicnet/personal_data/registry.py).",
            id="personal_data.E001",
        )
        for where, problem in problems
    ]


@register("personal_data")
def personal_data_classified(app_configs, **kwargs):
    models = None if app_configs is None else [m for config in app_configs for m in config.get_models()]
    return classification_errors(models)
