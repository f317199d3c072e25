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
                        hint="Use a guarded selector (get_<thing>_for(request, pk)).",
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
