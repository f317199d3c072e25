"""An organization leaves: nothing personal of it stays readable (GDPR Art. 17, 28(3)(g)).

Driven by the registry, so a field added tomorrow is erased tomorrow: every model with a
personal field and rows of the organization is erased the way its rules say (rows deleted,
values blanked or anonymised), plaintext and encrypted fields alike; the stores outside the
database (export files, media) are deleted; and the data key is destroyed last, so even a
ciphertext that survives somewhere (a backup) cannot be read. Fields kept under a legal
basis (the audit log) stay, and hold no contact data by design.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models, transaction
from django.utils import timezone

from logicnet.personal_data.registry import Erasure, FieldRule, Registry, registry

log = logging.getLogger(__name__)


@dataclass
class OffboardingReport:
    organization_id: int
    deleted_rows: dict[str, int] = field(default_factory=dict)
    blanked_rows: dict[str, int] = field(default_factory=dict)
    deleted_paths: list[str] = field(default_factory=list)
    key_versions: list[int] = field(default_factory=list)


def _scope(model, organization) -> dict | None:
    """The filter selecting the organization's own rows of `model`, or None when its rows
    are not the organization's (user accounts, sessions: the users stay)."""
    from logicnet.tenancy.organizations import organization_model

    Organization = organization_model()
    if model is Organization:
        return {"pk": organization.pk}
    if any(f.name == "organization" and f.is_relation for f in model._meta.concrete_fields):
        return {"organization_id": organization.pk}
    return None


def _erased_value(model_field: models.Field, erasure: str, pk_hint: int):
    """What a blanked or anonymised value becomes. An encrypted value is blanked whatever the
    rule (an anonymous placeholder would be re-encrypted with a key about to be destroyed)."""
    plain_text = isinstance(model_field, models.CharField | models.TextField)
    if erasure == Erasure.ANONYMISE and plain_text and not getattr(model_field, "encrypted", False):
        return f"anonymised-{pk_hint}"[: getattr(model_field, "max_length", None) or None]
    if model_field.null:
        return None
    if isinstance(model_field, ArrayField):
        return []
    if model_field.has_default():
        return model_field.get_default()
    if isinstance(model_field, models.CharField | models.TextField):
        return ""
    raise ValueError(f"{model_field.model._meta.label}.{model_field.name}: no empty value to erase it with")


def _erase_model(model, organization, rules: dict[str, FieldRule], report: OffboardingReport) -> None:
    scope = _scope(model, organization)
    if scope is None:
        return
    # Each personal field's erasure: its own, or its model's (registry.field_erasure).
    personal = {
        name: action
        for name, rule in rules.items()
        if rule.personal and (action := registry.field_erasure(model, name)) != Erasure.KEEP
    }
    if not personal:
        return
    from logicnet.tenancy.organizations import organization_model

    Organization = organization_model()
    rows = model._base_manager.filter(**scope)
    label = model._meta.label
    # The whole organization leaves: a row unlinked from one person is deleted here.
    if model is not Organization and any(
        action in (Erasure.DELETE_ROW, Erasure.UNLINK) for action in personal.values()
    ):
        deleted, _per_model = rows.delete()
        if deleted:
            report.deleted_rows[label] = report.deleted_rows.get(label, 0) + deleted
        return
    changes = {}
    for name, action in personal.items():
        model_field = model._meta.get_field(name)
        if model_field.many_to_many or model_field.primary_key:
            continue
        changes[model_field.attname if model_field.is_relation else name] = _erased_value(
            model_field, action, organization.pk
        )
    blanked = rows.update(**changes) if changes else 0
    if blanked:
        report.blanked_rows[label] = blanked


def _delete_files(organization, report: OffboardingReport) -> None:
    """The stores outside the database that hold the organization's files."""
    for root in (Path(settings.EXPORTS_DIR), Path(settings.MEDIA_ROOT)):
        folder = root / str(organization.pk)
        if folder.exists():
            shutil.rmtree(folder)
            report.deleted_paths.append(str(folder))


def destroy_data_key(*, organization, actor=None) -> list[int]:
    """Crypto-shredding: wipe the organization's wrapped data keys and leave a marker so no
    key is ever created for it again. Returns the destroyed versions.

    A database backup taken earlier still holds the wrapped keys: the privacy erasure
    ledger replays the destruction after a restore, and the next master-key rotation (with
    the old master key removed) makes old copies useless."""
    from django_scopes import scopes_disabled

    from logicnet.audit.services import record_event
    from logicnet.encryption.keys import forget_organization
    from logicnet.encryption.models import OrganizationKey
    from logicnet.tenancy.context import platform_bypass

    now = timezone.now()
    # The organization's id, not its slug: a slug is derived from the name, which may be a
    # person's, and the audit log is kept.
    with platform_bypass(actor=actor, reason=f"destroy data key of organization {organization.pk}"):
        with scopes_disabled():
            keys = OrganizationKey.objects.filter(organization=organization)
            versions = list(keys.values_list("version", flat=True))
            keys.update(wrapped_key="", destroyed_at=now)
            if not versions:
                OrganizationKey.objects.create(organization=organization, version=1, master_key_id="", destroyed_at=now)
        record_event(
            action="encryption.key_destroyed",
            actor=actor,
            organization=organization,
            details={"versions": versions or [1]},
        )
    transaction.on_commit(lambda: forget_organization(organization.pk))
    forget_organization(organization.pk)
    return versions or [1]


def offboard_organization(*, organization, actor=None) -> OffboardingReport:
    """Erase everything personal an organization left, then destroy its data key.

    1. deactivate it (no member reaches it from now on: the middleware checks is_active);
    2. for every classified model, erase the organization's rows as the registry says:
       delete the rows when a personal field is erased by deleting its row, otherwise blank
       or anonymise each personal field (fields kept under a legal basis stay);
    3. delete its files (exports, media);
    4. destroy its data key (in its own audited step: see `destroy_data_key`).

    Idempotent: a second run finds nothing left and destroys nothing more."""
    from django_scopes import scopes_disabled

    from logicnet.tenancy.organizations import organization_model

    Organization = organization_model()
    from logicnet.audit.services import record_event
    from logicnet.tenancy.context import platform_bypass

    report = OffboardingReport(organization_id=organization.pk)
    with platform_bypass(actor=actor, reason=f"offboarding organization {organization.pk}"), scopes_disabled():
        Organization.objects.filter(pk=organization.pk).update(is_active=False)
        # Children before parents is not needed (deletes cascade), but the organization's
        # own row goes last: others are found through it.
        ordered = sorted(Registry.models_to_check(apps.get_models()), key=lambda m: m is Organization)
        for model in ordered:
            _erase_model(model, organization, registry.rules_for(model), report)
        # A slug is derived from the name once (it may be a person's name): replaced too.
        Organization.objects.filter(pk=organization.pk).update(slug=f"offboarded-{organization.pk}")
        # Job errors and results predating safe_error_text may quote values, and results
        # name files after the slug: the job rows stay as counts and states only.
        from logicnet.jobs.models import Job

        Job.objects.filter(organization_id=organization.pk).update(error="", result={}, params={})
        record_event(
            action="organization.offboarded",
            actor=actor,
            organization=organization,
            details={"deleted": report.deleted_rows, "blanked": report.blanked_rows},
        )
    _delete_files(organization, report)
    report.key_versions = destroy_data_key(organization=organization, actor=actor)
    log.info("offboarded organization %s: %s", organization.pk, report)
    return report
