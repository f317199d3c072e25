"""Retiring keys: checking that nothing still needs a master key, and destroying retired data
keys once their grace period is over.

"Retired" and "destroyed" differ on purpose. A data key version is retired when a
re-encryption has moved every value off it: it no longer encrypts, but its wrapped key is
kept for ENCRYPTION_RETIRED_KEY_GRACE_DAYS so that a value restored from a backup still
opens (and is re-encrypted when its row is saved). After the grace period the wrapped key
is destroyed (wiped), which is final, so it is refused while any stored value names it.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from logicnet.encryption.fields import encrypted_fields_of, platform_sealed_fields_of
from logicnet.encryption.keys import (
    _LOCK_NAMESPACE,
    ORGANIZATION_LOCK,
    PLATFORM_FORMAT,
    forget_organization,
    newest_master_key,
)
from logicnet.encryption.models import OrganizationKey
from logicnet.tenancy.context import active_alias, platform_bypass, platform_database, tenant_context

Report = Callable[[str], None]

# The key version of a stored value (`<format>.<version>.<base64>`), whatever its format.
_VERSION_PATTERN = r"^v[0-9]+\.([0-9]+)\."


def _models_with(fields_of) -> list:
    from django.apps import apps

    return [m for m in apps.get_models() if not m._meta.proxy and fields_of(m)]


def count_values_by_version(*, organization_id: int | None = None) -> Counter:
    """How many stored values name each (organization, data key version), over every
    encrypted column of every model. All organizations (under the platform bypass) when
    organization_id is None; row-level security limits what the caller sees either way."""
    found: Counter = Counter()
    connection = connections[active_alias()]  # the platform alias's, inside the bypass
    for model in _models_with(encrypted_fields_of):
        table = connection.ops.quote_name(model._meta.db_table)
        where = "WHERE organization_id = %s" if organization_id is not None else ""
        selects = [
            f"SELECT organization_id, substring({connection.ops.quote_name(f.column)} from %s) AS v FROM {table} {where}"
            for f in encrypted_fields_of(model)
        ]
        params: list = []
        for _ in selects:
            params.append(_VERSION_PATTERN)
            if organization_id is not None:
                params.append(organization_id)
        sql = f"SELECT organization_id, v, count(*) FROM ({' UNION ALL '.join(selects)}) s WHERE v IS NOT NULL GROUP BY 1, 2"  # table and column names come from the models
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for org, version, count in cursor.fetchall():
                found[(org, int(version))] += count
    return found


def count_platform_values(*, master_key_id: str) -> int:
    """Platform-sealed values (TOTP seeds) still sealed under the master key."""
    total = 0
    prefix = f"{PLATFORM_FORMAT}.{master_key_id}.%"
    connection = connections[active_alias()]  # the platform alias's, inside the bypass
    for model in _models_with(platform_sealed_fields_of):
        table = connection.ops.quote_name(model._meta.db_table)
        conditions = " OR ".join(
            f"{connection.ops.quote_name(f.column)} LIKE %s" for f in platform_sealed_fields_of(model)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {table} WHERE {conditions}",  # table and column names come from the models
                [prefix] * len(platform_sealed_fields_of(model)),
            )
            total += cursor.fetchone()[0]
    return total


def check_master_key_retirement(*, master_key_id: str) -> dict:
    """Whether master key `master_key_id` may be removed from ENCRYPTION_MASTER_KEYS.

    In one REPEATABLE READ transaction (one snapshot, so a row cannot slip between two
    counts), under the audited platform bypass:
    1. no data key (live, or retired within its grace period) is still wrapped by it;
    2. no encrypted column still holds a value under a retired data key version;
    3. no platform value (TOTP seed) is still sealed by it.
    """
    if master_key_id == newest_master_key()[0]:
        return {"may_remove": False, "reason": "it is the newest master key, the one that wraps new keys"}
    from logicnet.audit.services import record_event

    # The snapshot is the platform alias's: the bypass runs its queries there.
    alias = platform_database()
    platform = connections[alias]
    outermost = not platform.in_atomic_block
    with transaction.atomic(using=alias):
        if outermost:  # must be the transaction's first statement (a test's is already open)
            with platform.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with platform_bypass(actor=None, reason=f"retire_master_key {master_key_id}"), scopes_disabled():
            wrapped = list(
                OrganizationKey.objects.filter(master_key_id=master_key_id)
                .exclude(wrapped_key="")
                .values_list("organization_id", "version")
            )
            retired = set(OrganizationKey.objects.exclude(retired_at=None).values_list("organization_id", "version"))
            stale = {pair: n for pair, n in count_values_by_version().items() if pair in retired}
            platform = count_platform_values(master_key_id=master_key_id)
            result = {
                "may_remove": not wrapped and not stale and not platform,
                "wrapped_keys": len(wrapped),
                "values_on_retired_versions": sum(stale.values()),
                "platform_values": platform,
            }
            record_event(
                action="encryption.master_key_retirement_checked", details={"master_key": master_key_id, **result}
            )
    return result


def destroy_retired_keys(*, report: Report = print, now: datetime.datetime | None = None) -> dict:
    """Destroy (wipe) the retired data key versions whose grace period is over.

    1. list them under the platform bypass (ids only);
    2. per organization, inside its tenant context and under its key lock, count the stored
       values naming each version; refuse a version while any does (a backup restored into
       the live tables, a failed re-encryption), else wipe its wrapped key; audit each.
    """
    from logicnet.audit.services import record_event

    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.ENCRYPTION_RETIRED_KEY_GRACE_DAYS)
    with platform_bypass(actor=None, reason="destroy_retired_keys: retired keys past their grace period"):
        due = list(
            OrganizationKey.objects.filter(retired_at__lt=cutoff, destroyed_at=None)
            .exclude(wrapped_key="")
            .order_by("organization_id", "version")
            .values_list("organization_id", "version")
        )
    by_organization: dict[int, list[int]] = {}
    for organization_id, version in due:
        by_organization.setdefault(organization_id, []).append(version)
    destroyed, refused = [], {}
    for organization_id, versions in by_organization.items():
        with tenant_context(organization_id), scopes_disabled():
            with connection.cursor() as cursor:
                cursor.execute(ORGANIZATION_LOCK, [_LOCK_NAMESPACE, organization_id])
            in_use = count_values_by_version(organization_id=organization_id)
            for version in versions:
                left = in_use.get((organization_id, version), 0)
                if left:
                    refused[(organization_id, version)] = left
                    record_event(
                        action="encryption.retired_key_destruction_refused",
                        organization=organization_id,
                        details={"version": version, "values": left},
                    )
                    report(f"organization {organization_id}: v{version} kept, {left} stored values still name it")
                    continue
                OrganizationKey.objects.filter(organization_id=organization_id, version=version).update(
                    wrapped_key="", destroyed_at=timezone.now()
                )
                record_event(
                    action="encryption.retired_key_destroyed",
                    organization=organization_id,
                    details={"version": version},
                )
                destroyed.append((organization_id, version))
                report(f"organization {organization_id}: retired data key v{version} destroyed")
        forget_organization(organization_id)
    return {"destroyed": destroyed, "refused": refused}
