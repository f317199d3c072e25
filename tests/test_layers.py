"""The layers point one way: logicnet/ (the mechanisms) never imports a product app, the
demo seed sits above the apps, and every model of a tenant app belongs to an organization."""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from logicnet.checks import models_missing_organization, tenant_apps_carry_organization
from logicnet.tenancy.models import TenantModel
from logicnet.tenancy.organizations import membership_model, organization_model

ROOT = Path(settings.BASE_DIR)

# The project's wiring, not a mechanism: the URL configuration mounts each app's pages.
WIRING = {"logicnet/urls.py"}


def product_apps() -> set[str]:
    """Installed apps that are packages at the repository root, other than logicnet."""
    return {
        config.name
        for config in apps.get_app_configs()
        if "." not in config.name and config.name != "logicnet" and (ROOT / config.name / "__init__.py").exists()
    }


def test_product_apps_are_found():
    assert {"accounts", "contacts", "privacy", "demo"} <= product_apps()


def test_logicnet_imports_no_product_app():
    names = "|".join(sorted(product_apps()))
    pattern = re.compile(rf"^\s*(?:from\s+(?:{names})(?:\.|\s)|import\s+(?:{names})(?:\.|\s|$))")
    offenders = []
    for path in sorted((ROOT / "logicnet").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in WIRING:
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.match(line):
                offenders.append(f"{relative}:{lineno}: {line.strip()}")
    assert not offenders, "logicnet/ must reach product apps through settings:\n" + "\n".join(offenders)


def test_the_layer_test_would_see_an_offender():
    names = "|".join(sorted(product_apps()))
    pattern = re.compile(rf"^\s*(?:from\s+(?:{names})(?:\.|\s)|import\s+(?:{names})(?:\.|\s|$))")
    assert pattern.match("    from accounts.models import Organization")
    assert pattern.match("import contacts")
    assert pattern.match("from contacts import services")
    assert not pattern.match("from logicnet.tenancy.organizations import organization_model")
    assert not pattern.match("from accountsx import thing")


def test_tenancy_models_are_resolved_from_settings():
    assert organization_model()._meta.label == settings.TENANCY_ORGANIZATION_MODEL
    assert membership_model()._meta.label == settings.TENANCY_MEMBERSHIP_MODEL


def test_demo_seed_lives_above_the_apps():
    assert (ROOT / "demo/management/commands/seed_demo.py").exists()
    assert not (ROOT / "accounts/management/commands/seed_demo.py").exists()
    # No product app depends on the demo.
    offenders = [
        f"{path.relative_to(ROOT)}"
        for app in product_apps() - {"demo"}
        for path in (ROOT / app).rglob("*.py")
        if re.search(r"^\s*(from|import)\s+demo\b", path.read_text(), re.MULTILINE)
    ]
    assert not offenders


# --- every model of a tenant app carries an organization ------------------------------------------


def test_the_project_passes_the_tenant_model_check():
    assert tenant_apps_carry_organization(None) == []
    call_command("check")


@isolate_apps("contacts")
def test_a_model_without_an_organization_fails_the_check():
    class Loose(models.Model):  # noqa: DJ008
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "contacts"

    class Nullable(models.Model):  # noqa: DJ008
        organization = models.ForeignKey(settings.TENANCY_ORGANIZATION_MODEL, null=True, on_delete=models.CASCADE)

        class Meta:
            app_label = "contacts"

    class Scoped(TenantModel):
        class Meta:
            app_label = "contacts"

    errors = models_missing_organization([Loose, Nullable, Scoped], {})
    assert [(e.id, e.obj) for e in errors] == [("logicnet.E003", Loose), ("logicnet.E003", Nullable)]


def test_an_automatic_many_to_many_table_fails_the_check():
    with isolate_apps("contacts") as isolated:

        class Label(TenantModel):
            class Meta:
                app_label = "contacts"

        class Card(TenantModel):
            labels = models.ManyToManyField(Label)

            class Meta:
                app_label = "contacts"

        found = isolated.get_app_config("contacts").get_models(include_auto_created=True)
        errors = models_missing_organization(found, {})
    assert [e.obj._meta.label for e in errors] == ["contacts.Card_labels"]
    assert "automatic many-to-many" in errors[0].msg


@isolate_apps("contacts")
def test_an_exemption_needs_a_reason():
    class Lookup(models.Model):  # noqa: DJ008
        class Meta:
            app_label = "contacts"

    assert models_missing_organization([Lookup], {"contacts.Lookup": "country codes, the same for everyone"}) == []
    errors = models_missing_organization([Lookup], {"contacts.Lookup": " "})
    assert [e.id for e in errors] == ["logicnet.E004"]
