"""Re-encrypting one organization's data under a new data key version, online.

Steps (each batch is its own short transaction, so the application keeps working):
1. start, or resume: a new key version is created only when the organization has a single
   live version; with two, an earlier run was interrupted and this one carries on;
2. wait until every process's key cache has seen the new version (cache lifetime since it
   was created), so from then on nobody encrypts with the old one and lookups try both;
3. walk each model with encrypted fields in primary-key order, locking a batch, re-sealing
   the rows that still name an older version (their blind indexes and tokens too);
4. sweep again until a pass finds nothing, then retire the older versions and audit. A
   retired version no longer encrypts; its wrapped key is kept for the grace period
   (ENCRYPTION_RETIRED_KEY_GRACE_DAYS) and then destroyed by `destroy_retired_keys`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from logicnet.audit.services import record_batch_event
from logicnet.encryption.fields import encrypted_fields_of, reseal, stale_versions, write_resealed
from logicnet.encryption.keys import create_key_version, forget_organization
from logicnet.encryption.models import OrganizationKey
from logicnet.tenancy.context import tenant_context

Report = Callable[[str], None]


def encrypted_models() -> list:
    return [m for m in apps.get_models() if not m._meta.proxy and encrypted_fields_of(m)]


def _live_rows(organization) -> list[OrganizationKey]:
    with tenant_context(organization), scopes_disabled():
        return list(
            OrganizationKey.objects.filter(organization=organization, retired_at=None, destroyed_at=None)
            .exclude(wrapped_key="")
            .order_by("version")
        )


def _pass(organization, model, version: int, *, batch_size: int, report: Report, budget: list[int]) -> int | None:
    """Re-seal the model's rows not on `version`; the number re-sealed, or None when the
    batch budget ran out first."""
    with tenant_context(organization):
        total = model.objects.filter(organization=organization).count()
    last_pk, seen, resealed = 0, 0, 0
    while True:
        if budget and budget[0] <= 0:
            return None
        with tenant_context(organization):
            rows = list(
                model.objects.filter(organization=organization, pk__gt=last_pk)
                .order_by("pk")
                .select_for_update()[:batch_size]
            )
            if not rows:
                break
            stale = [row for row in rows if stale_versions(row, version)]
            for row in stale:
                reseal(row)
            write_resealed(model, stale)
            record_batch_event(
                action="encryption.batch_reencrypted",
                organization=organization,
                target_type=model._meta.label_lower,
                ids=[row.pk for row in stale],
                details={"version": version},
            )
        if budget:
            budget[0] -= 1
        last_pk, seen, resealed = rows[-1].pk, seen + len(rows), resealed + len(stale)
        report(
            f"{model._meta.label}: {seen}/{total} rows checked, {resealed} re-encrypted ({100 * seen // max(total, 1)}%)"
        )
    return resealed


def reencrypt_organization(
    organization, *, batch_size: int = 500, max_batches: int | None = None, report: Report = print
) -> dict:
    from logicnet.audit.services import record_event

    live = _live_rows(organization)
    if len(live) <= 1:
        with tenant_context(organization):
            version = create_key_version(organization.pk, reason="re-encryption")
            record_event(
                action="encryption.reencryption_started", organization=organization, details={"version": version}
            )
        created_at = timezone.now()
        report(f"created data key v{version} for {organization.slug}")
    else:
        version, created_at = live[-1].version, live[-1].created_at
        report(f"resuming the re-encryption of {organization.slug} to data key v{version}")
    forget_organization(organization.pk)

    wait = (created_at - timezone.now()).total_seconds() + settings.ENCRYPTION_KEY_CACHE_SECONDS
    if wait > 0:
        report(f"waiting {wait:.0f}s until every process uses data key v{version} (key cache lifetime)")
        time.sleep(wait)

    budget = [max_batches] if max_batches is not None else []
    while True:
        resealed = 0
        for model in encrypted_models():
            done = _pass(organization, model, version, batch_size=batch_size, report=report, budget=budget)
            if done is None:
                report(f"stopped after {max_batches} batches; run the command again to carry on")
                return {"finished": False, "version": version}
            resealed += done
        if resealed == 0:
            break  # a full pass found nothing on an older version

    with tenant_context(organization), scopes_disabled(), transaction.atomic():
        retired = list(
            OrganizationKey.objects.filter(organization=organization, version__lt=version, retired_at=None).values_list(
                "version", flat=True
            )
        )
        OrganizationKey.objects.filter(organization=organization, version__lt=version, retired_at=None).update(
            retired_at=timezone.now()
        )
        record_event(
            action="encryption.reencryption_finished",
            organization=organization,
            details={"version": version, "retired": retired},
        )
    forget_organization(organization.pk)
    report(
        f"{organization.slug}: every value is on data key v{version}; retired v{', v'.join(map(str, retired)) or '-'}"
    )
    return {"finished": True, "version": version, "retired": retired}
