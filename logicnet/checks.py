"""Project checks run by `manage.py check` (and so by `make test`)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register

VIEWS_QUERY = re.compile(r"\b(?P<model>[A-Z]\w+)\.objects\.")
NAIVE_NOW = re.compile(r"\bdatetime\.(now|utcnow)\(\s*\)")


@register()
def tenant_queries_in_views(app_configs, **kwargs):
    """A view reaches tenant data through a guarded helper, never Model.objects directly.

    Membership is the exception the middleware itself needs (see RLS_EXEMPT)."""
    from logicnet.tenancy.rls import RLS_EXEMPT, tenant_models

    tenant_names = {m.__name__ for m in tenant_models() if m._meta.label not in RLS_EXEMPT}
    errors = []
    for path in sorted(Path(settings.BASE_DIR).glob("*/views.py")) + sorted(
        Path(settings.BASE_DIR).glob("*/views/*.py")
    ):
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            match = VIEWS_QUERY.search(line)
            if match and match["model"] in tenant_names:
                errors.append(
                    Error(
                        f"{path.relative_to(settings.BASE_DIR)}:{lineno} queries {match['model']}.objects in a view",
                        hint="Use a guarded selector (get_<thing>_for(request.actor, pk)).",
                        id="logicnet.E001",
                    )
                )
    return errors


def project_sources() -> list[Path]:
    """The project's own Python files (not the virtualenv, not migrations)."""
    root = Path(settings.BASE_DIR)
    folders = [p for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()] + [root / "tests"]
    return sorted(f for folder in folders for f in folder.rglob("*.py") if "migrations" not in f.parts)


@register()
def naive_datetimes(app_configs, **kwargs):
    errors = []
    for path in project_sources():
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            if NAIVE_NOW.search(line) and path.name != "checks.py":
                errors.append(
                    Error(
                        f"{path.relative_to(settings.BASE_DIR)}:{lineno} uses a naive datetime.now()",
                        hint="Use django.utils.timezone.now().",
                        id="logicnet.E002",
                    )
                )
    return errors


def models_missing_organization(models, exempt: dict[str, str]) -> list[Error]:
    """Each concrete model (automatic many-to-many tables included) without a non-null
    foreign key named `organization` to the organization model, unless exempted with a
    reason. Such a table would sit outside both walls: django-scopes and row-level
    security key on that column (logicnet/tenancy/rls.py finds tenant tables by it)."""
    organization = settings.TENANCY_ORGANIZATION_MODEL.lower()
    errors = []
    for model in models:
        label = model._meta.label
        if model._meta.abstract or model._meta.proxy:
            continue  # a proxy's table is its concrete model's, checked on its own
        if label in exempt:
            if not str(exempt[label]).strip():
                errors.append(Error(f"{label} is exempted without a reason", id="logicnet.E004"))
            continue
        field = next((f for f in model._meta.get_fields() if f.name == "organization"), None)
        carries = (
            field is not None
            and getattr(field, "many_to_one", False)
            and _label(field.related_model) == organization
            and not field.null
        )
        if not carries:
            kind = "the automatic many-to-many table" if model._meta.auto_created else "the model"
            errors.append(
                Error(
                    f"{kind} {label} of a tenant app has no non-null `organization` foreign key",
                    hint=(
                        "Derive it from logicnet.tenancy.models.TenantModel (for a many-to-many, "
                        "declare a `through` model that does), or name the reason in "
                        "settings.TENANCY_EXEMPT_MODELS."
                    ),
                    obj=model,
                    id="logicnet.E003",
                )
            )
    return errors


def _label(model) -> str:
    # A model declared in a registry of its own (tests) may keep its target as a string.
    return (model if isinstance(model, str) else model._meta.label).lower()


@register()
def tenant_apps_carry_organization(app_configs, **kwargs):
    """Every concrete model of an app in settings.TENANCY_APPS belongs to an organization."""
    from django.apps import apps

    models = [
        model
        for label in settings.TENANCY_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    return models_missing_organization(models, settings.TENANCY_EXEMPT_MODELS)
