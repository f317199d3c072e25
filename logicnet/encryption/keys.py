"""Organization data keys: created, wrapped by master keys, cached, rotated, destroyed.

Envelope encryption: each organization has a random 256-bit data key per version, stored
only wrapped (AES-256-GCM) by a master key from ENCRYPTION_MASTER_KEYS. Unwrapped keys are
cached in this process's memory (a small LRU with a time limit), never in Redis: the broker
and cache are shared and unencrypted.

The cache has three rules that keep it honest:
- a key is handed out only inside its organization's tenant context or the audited
  platform bypass, whether it comes from the cache or from the database: row-level
  security guards only the database, and the cache is shared by the whole process;
- a key created by a transaction that has not committed yet is cached only for the
  connection that created it, and only while that transaction stands: a rolled-back key
  must never encrypt a value that outlives it;
- entries expire after ENCRYPTION_KEY_CACHE_SECONDS, so a version added or a key destroyed
  by another process (a management command) takes effect everywhere within that time.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import connection, connections, transaction
from django.dispatch import receiver
from django.utils import timezone
from django_scopes import scopes_disabled

from logicnet.encryption import crypto
from logicnet.encryption.exceptions import (
    DecryptionError,
    MasterKeyError,
    OrganizationKeyDestroyed,
    OrganizationKeyMissing,
)
from logicnet.tenancy.context import (
    active_alias,
    active_organization_id,
    platform_bypass_active,
    tenant_keys_withheld,
)

_LOCK_NAMESPACE = 7_302_114  # pg_advisory_xact_lock(namespace, organization): one key writer
# The two-key advisory lock takes two integers and organization ids are bigints (permuted,
# above 2^52: logicnet/tenancy/ids.py); hashint8 folds one into an integer. Two
# organizations sharing a lock now and then only wait for each other.
ORGANIZATION_LOCK = "SELECT pg_advisory_xact_lock(%s, hashint8(%s::bigint))"


# --- master keys ---------------------------------------------------------------------------


def master_keys() -> list[tuple[str, bytes]]:
    keys = getattr(settings, "ENCRYPTION_MASTER_KEYS", [])
    if not keys:
        raise ImproperlyConfigured(
            "ENCRYPTION_MASTER_KEYS is not set: personal data cannot be encrypted or read (see .env.example)"
        )
    return keys


def newest_master_key() -> tuple[str, bytes]:
    return master_keys()[0]


def _master_key(key_id: str, *, organization_id: int, version: int) -> bytes:
    for candidate_id, key in master_keys():
        if candidate_id == key_id:
            return key
    raise MasterKeyError(
        f"the data key v{version} of organization {organization_id} is wrapped by master key "
        f"{key_id!r}, which is not in ENCRYPTION_MASTER_KEYS"
    )


def wrap_data_key(organization_id: int, version: int, raw_key: bytes) -> tuple[str, str]:
    """(master key id, base64 wrapped key) under the newest master key."""
    key_id, master = newest_master_key()
    blob = crypto.seal(AESGCM(master), raw_key, crypto.data_key_associated_data(organization_id, version))
    return key_id, base64.b64encode(blob).decode("ascii")


def unwrap_data_key(organization_id: int, version: int, master_key_id: str, wrapped_key: str) -> bytes:
    master = _master_key(master_key_id, organization_id=organization_id, version=version)
    try:
        return crypto.open_sealed(
            AESGCM(master),
            base64.b64decode(wrapped_key),
            crypto.data_key_associated_data(organization_id, version),
        )
    except (crypto.InvalidCiphertext, ValueError):
        raise MasterKeyError(
            f"master key {master_key_id!r} in ENCRYPTION_MASTER_KEYS does not unwrap the data key "
            f"v{version} of organization {organization_id}: it is not the key that wrapped it, or the "
            "wrapped key was altered"
        ) from None


# --- the unwrapped keys of one organization ------------------------------------------------


@dataclass
class OrganizationKeys:
    organization_id: int
    current_version: int | None
    aeads: dict[int, AESGCM]
    raw: dict[int, bytes]
    retired: set[int]
    destroyed_at: object | None
    loaded_at: float
    # loaded_at + ENCRYPTION_KEY_CACHE_SECONDS, computed once: the cache check runs for every
    # encrypted value read, and a Django setting costs a lazy-object lookup each time.
    expires_at: float = 0.0
    derived: dict[tuple[int, str], bytes] = field(default_factory=dict)

    def aead(self, version: int) -> AESGCM | None:
        return self.aeads.get(version)

    def derived_key(self, version: int, purpose: str) -> bytes:
        """A key for another purpose (blind indexes, prefix tokens), derived with HKDF so
        that no two purposes, organizations or versions share one."""
        found = self.derived.get((version, purpose))
        if found is None:
            found = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=f"logicnet|{purpose}|{self.organization_id}|{version}".encode(),
            ).derive(self.raw[version])
            self.derived[(version, purpose)] = found
        return found

    def live_versions(self) -> list[int]:
        """Newest first: the versions lookups must try while a re-encryption runs (not the
        retired ones kept for their grace period: no search column is left on them)."""
        return sorted((v for v in self.aeads if v not in self.retired), reverse=True)


class _KeyCache:
    def __init__(self) -> None:
        self._entries: OrderedDict[int, OrganizationKeys] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, organization_id: int) -> OrganizationKeys | None:
        # Read without the lock: every encrypted field read passes here, and a dict lookup
        # is atomic. The oldest-loaded entry is the one evicted when the cache is full
        # (put), which is also the first to expire, so hits need not reorder anything.
        entry = self._entries.get(organization_id)
        if entry is None:
            return None
        if time.monotonic() > entry.expires_at:
            with self._lock:
                if self._entries.get(organization_id) is entry:
                    del self._entries[organization_id]
            return None
        return entry

    def put(self, entry: OrganizationKeys) -> None:
        with self._lock:
            self._entries[entry.organization_id] = entry
            self._entries.move_to_end(entry.organization_id)
            while len(self._entries) > settings.ENCRYPTION_KEY_CACHE_SIZE:
                self._entries.popitem(last=False)

    def forget(self, organization_id: int | None = None) -> None:
        with self._lock:
            if organization_id is None:
                self._entries.clear()
            else:
                self._entries.pop(organization_id, None)


_cache = _KeyCache()


@receiver(setting_changed)
def _cache_lifetime_changed(*, setting, **kwargs) -> None:
    # An entry's expiry is fixed when it is loaded: a new lifetime applies to keys loaded after.
    if setting == "ENCRYPTION_KEY_CACHE_SECONDS":
        _cache.forget()


# OrganizationKey pks created by a transaction of this process that has not committed yet,
# each with the on_commit callback that will clear it. The callback's presence in the
# connection's pending on_commit list is how we know that transaction still stands (Django
# drops the callbacks of a rolled-back transaction or savepoint).
_uncommitted: dict[int, object] = {}


def _still_pending(markers: list) -> bool:
    pending = {id(func) for _sids, func, _robust in connections[active_alias()].run_on_commit}
    return all(id(marker) in pending for marker in markers)


def _connection_entries() -> dict[int, tuple[OrganizationKeys, list]]:
    """Keys whose creation this connection's open transaction has not committed yet (the
    platform alias's inside the platform bypass)."""
    return connections[active_alias()].__dict__.setdefault("_logicnet_uncommitted_keys", {})


def forget_organization(organization_id: int | None = None) -> None:
    """Drop cached keys (all organizations when None), in this process."""
    _cache.forget(organization_id)
    entries = _connection_entries()
    if organization_id is None:
        entries.clear()
    else:
        entries.pop(organization_id, None)


def _load(organization_id: int) -> OrganizationKeys:
    from logicnet.encryption.models import OrganizationKey

    # Filtered by organization explicitly; row-level security is the wall here: outside
    # that organization's tenant context (or the platform bypass) no key row is visible.
    with scopes_disabled():
        rows = list(OrganizationKey.objects.filter(organization_id=organization_id).order_by("version"))
    destroyed = next((row.destroyed_at for row in rows if row.ends_organization), None)
    # Retired versions still in their grace period decrypt (a value restored from a backup,
    # a straggler) but never encrypt: only live versions can be current.
    readable = [row for row in rows if row.can_decrypt]
    raw = (
        {}
        if destroyed
        else {
            row.version: unwrap_data_key(organization_id, row.version, row.master_key_id, row.wrapped_key)
            for row in readable
        }
    )
    live = [row.version for row in rows if row.is_live and row.version in raw]
    entry = OrganizationKeys(
        organization_id=organization_id,
        current_version=max(live) if live else None,
        aeads={version: AESGCM(key) for version, key in raw.items()},
        raw=raw,
        retired={row.version for row in rows if row.retired_at},
        destroyed_at=destroyed,
        loaded_at=(loaded_at := time.monotonic()),
        expires_at=loaded_at + settings.ENCRYPTION_KEY_CACHE_SECONDS,
    )
    # A visible row created by this process but not committed is our own open transaction's.
    markers = [_uncommitted[row.pk] for row in rows if row.pk in _uncommitted]
    if markers:
        if _still_pending(markers):
            _connection_entries()[organization_id] = (entry, markers)
    elif entry.current_version is not None or destroyed:
        _cache.put(entry)
    return entry


def organization_keys(organization_id: int, *, need_version: int | None = None) -> OrganizationKeys:
    """The organization's keys, from the cache when they hold `need_version`.

    Only inside that organization's tenant context or the audited platform bypass. Row-level
    security hides the key rows from anyone else, but the cache is process-wide: without
    this check, for a cache lifetime after one organization's key was used, any code in the
    process (another tenant's request, a task, a forgotten filter) could decrypt its data.
    """
    if active_organization_id() != organization_id and (not platform_bypass_active() or tenant_keys_withheld()):
        raise OrganizationKeyMissing(
            f"the data key of organization {organization_id} is not available here: "
            "read encrypted values inside tenant_context(organization)"
        )
    entry = _cache.get(organization_id)
    if entry is not None and (need_version is None or need_version in entry.aeads or entry.destroyed_at):
        return entry
    uncommitted = _connection_entries().get(organization_id)
    if uncommitted is not None:
        entry, markers = uncommitted
        if not _still_pending(markers):
            _connection_entries().pop(organization_id, None)
        elif need_version is None or need_version in entry.aeads:
            return entry
    return _load(organization_id)


def _mark_uncommitted(organization_id: int, pk: int) -> None:
    def committed() -> None:
        _uncommitted.pop(pk, None)
        forget_organization(organization_id)

    _uncommitted[pk] = committed
    transaction.on_commit(committed, using=active_alias())


def create_key_version(organization_id: int, *, reason: str, unless_one_exists: bool = False) -> int:
    """Add a data key version for the organization (the first, or one for re-encryption).

    1. lock the organization's keys for this transaction (two writers would race for v+1);
    2. refuse when the organization's key was destroyed (its data is gone for good);
    3. store the new random key wrapped by the newest master key, and audit it.
    Must run in the organization's tenant context or the platform bypass.
    """
    from logicnet.audit.services import record_event
    from logicnet.encryption.models import OrganizationKey

    alias = active_alias()  # the platform alias's transaction inside the platform bypass
    with transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            cursor.execute(ORGANIZATION_LOCK, [_LOCK_NAMESPACE, organization_id])
        with scopes_disabled():
            rows = list(OrganizationKey.objects.filter(organization_id=organization_id))
        destroyed = next((row.destroyed_at for row in rows if row.ends_organization), None)
        if destroyed:
            raise OrganizationKeyDestroyed(
                f"the data key of organization {organization_id} was destroyed on {destroyed:%Y-%m-%d %H:%M}; "
                "no new data can be stored for it"
            )
        live = [row.version for row in rows if row.is_live and row.wrapped_key]
        if unless_one_exists and live:
            # Another transaction created the first key while this one waited for the lock.
            return max(live)
        version = max((row.version for row in rows), default=0) + 1
        master_key_id, wrapped = wrap_data_key(organization_id, version, os.urandom(32))
        row = OrganizationKey.objects.create(
            organization_id=organization_id, version=version, wrapped_key=wrapped, master_key_id=master_key_id
        )
        record_event(
            action="encryption.key_created",
            organization=organization_id,
            target=row,
            details={"version": version, "master_key": master_key_id, "reason": reason},
        )
        _mark_uncommitted(organization_id, row.pk)
        forget_organization(organization_id)
    return version


def current_keys(organization_id: int) -> OrganizationKeys:
    """The keys to encrypt with now; creates the organization's first key on first use."""
    entry = organization_keys(organization_id)
    if entry.current_version is None:
        if entry.destroyed_at:
            raise OrganizationKeyDestroyed(
                f"the data key of organization {organization_id} was destroyed on {entry.destroyed_at:%Y-%m-%d %H:%M}"
            )
        if entry.retired:
            raise OrganizationKeyMissing(
                f"no live data key is visible for organization {organization_id}; "
                "work inside tenant_context(organization)"
            )
        create_key_version(organization_id, reason="first use", unless_one_exists=True)
        entry = organization_keys(organization_id)
    return entry


# --- values ----------------------------------------------------------------------------------


def encrypt_value(organization_id: int, label: str, field_name: str, plaintext: bytes) -> str:
    entry = current_keys(organization_id)
    version = entry.current_version
    blob = crypto.seal(
        entry.aeads[version], plaintext, crypto.value_associated_data(organization_id, label, field_name, version)
    )
    count_encryption(organization_id, version)
    return crypto.make_token(version, blob)


def decrypt_value(organization_id: int | None, label: str, field_name: str, token: str) -> bytes:
    """The plaintext of one stored value. The common path is kept short (it runs for every
    encrypted field read: about 300 times for a page of the contact list): the token parsed,
    the cached keys checked against the tenant and opened in line; every failure, and every
    case off that path, goes through `_decrypt_value_slowly`, which says what went wrong."""
    parts = token.split(".", 2)
    if (
        organization_id is not None
        and len(parts) == 3
        and parts[1].isdigit()
        and (organization_id == active_organization_id() or (platform_bypass_active() and not tenant_keys_withheld()))
    ):
        version = int(parts[1])
        entry = _cache.get(organization_id)
        aead = entry.aeads.get(version) if entry is not None and not entry.destroyed_at else None
        if aead is not None and parts[0] in crypto.FORMATS:
            try:
                blob = binascii.a2b_base64(parts[2], strict_mode=True)
                if len(blob) >= crypto.NONCE_BYTES + 16:
                    return aead.decrypt(
                        blob[: crypto.NONCE_BYTES],
                        blob[crypto.NONCE_BYTES :],
                        crypto.value_associated_data(organization_id, label, field_name, version),
                    )
            except (binascii.Error, ValueError, InvalidTag):
                pass  # the slow path names the failure
    return _decrypt_value_slowly(organization_id, label, field_name, token)


def _decrypt_value_slowly(organization_id: int | None, label: str, field_name: str, token: str) -> bytes:
    if organization_id is None:
        raise _decryption_error(organization_id, label, field_name, "the row has no organization")
    try:
        version, blob = crypto.parse_token(token)
        entry = organization_keys(organization_id, need_version=version)
    except (crypto.InvalidCiphertext, MasterKeyError, OrganizationKeyMissing) as exc:
        raise _decryption_error(organization_id, label, field_name, str(exc)) from None
    aead = entry.aeads.get(version)
    if aead is None or entry.destroyed_at:
        raise _decryption_error(organization_id, label, field_name, _missing_key_reason(entry, version))
    try:
        return crypto.open_sealed(aead, blob, crypto.value_associated_data(organization_id, label, field_name, version))
    except crypto.InvalidCiphertext:
        reason = (
            "authentication failed: the value was altered, or was encrypted for another organization, model or field"
        )
        raise _decryption_error(organization_id, label, field_name, reason) from None


def _decryption_error(organization_id: int | None, label: str, field_name: str, reason: str) -> DecryptionError:
    return DecryptionError(organization_id=organization_id, model=label, field=field_name, reason=reason)


def _missing_key_reason(entry: OrganizationKeys, version: int) -> str:
    if entry.destroyed_at:
        return f"its data key was destroyed on {entry.destroyed_at:%Y-%m-%d %H:%M}; the value is gone for good"
    if version in entry.retired:
        return f"it names data key v{version}, which was retired and destroyed after its grace period"
    return (
        f"no data key v{version} is visible for this organization "
        "(read encrypted values inside tenant_context(organization))"
    )


# --- key management ------------------------------------------------------------------------


def rewrap_all_keys(*, batch_size: int = 500) -> tuple[int, int]:
    """Re-wrap every live data key under the newest master key; no data is rewritten.
    Runs under the platform bypass (the caller opens it). Returns (rewrapped, already)."""
    from logicnet.audit.services import record_batch_event
    from logicnet.encryption.models import OrganizationKey

    newest_id, _ = newest_master_key()
    rewrapped = already = 0
    batch: list[OrganizationKey] = []

    def audit_batch() -> None:
        # One audit event per batch (with every key id and organization), not one per key.
        record_batch_event(
            action="encryption.keys_rewrapped",
            target_type="organizationkey",
            ids=[row.pk for row in batch],
            details={"to": newest_id, "organizations": sorted({row.organization_id for row in batch})},
        )
        batch.clear()

    with scopes_disabled():
        for row in OrganizationKey.objects.exclude(wrapped_key="").order_by("pk").iterator(chunk_size=batch_size):
            if row.master_key_id == newest_id:
                already += 1
                continue
            raw = unwrap_data_key(row.organization_id, row.version, row.master_key_id, row.wrapped_key)
            row.master_key_id, row.wrapped_key = wrap_data_key(row.organization_id, row.version, raw)
            row.rewrapped_at = timezone.now()
            row.save(update_fields=["master_key_id", "wrapped_key", "rewrapped_at"])
            batch.append(row)
            rewrapped += 1
            if len(batch) >= batch_size:
                audit_batch()
        audit_batch()
    forget_organization()
    return rewrapped, already


def reseal_platform_values(*, batch_size: int = 500) -> int:
    """Seal every platform value (TOTP seeds) again under the newest master key, so an old
    master key can be removed. Runs under the platform bypass. Returns the rows changed."""
    from django.apps import apps

    from logicnet.encryption.fields import open_platform_field, platform_sealed_fields_of, seal_platform_field

    newest_id, _ = newest_master_key()
    changed_rows = 0
    for model in apps.get_models():
        fields = platform_sealed_fields_of(model)
        if not fields or model._meta.proxy:
            continue
        for row in model._base_manager.order_by("pk").iterator(chunk_size=batch_size):
            changed = []
            for sealed_field in fields:
                token = getattr(row, sealed_field.attname)
                if token and platform_token_master_key(token) != newest_id:
                    seal_platform_field(row, sealed_field.name, open_platform_field(row, sealed_field.name))
                    changed.append(sealed_field.attname)
            if changed:
                row.save(update_fields=changed)
                changed_rows += 1
    return changed_rows


# --- counting encryptions (NIST SP 800-38D, section 8.3) -------------------------------------
#
# With 96-bit random nonces a key may encrypt at most 2**32 values before a nonce collision
# (which reveals the XOR of two plaintexts and lets the GHASH key be recovered) becomes more
# likely than 2**-32. Each process counts in memory and adds its counts to the key row in
# one UPDATE per key, outside the writers' transactions: a counter UPDATE inside them would
# serialise every writer of an organization on its key row. Counts pending in a process that
# crashes are lost (at most ENCRYPTION_COUNT_FLUSH_EVERY per key and process); the margin
# between ENCRYPTION_KEY_ROTATE_AFTER (2**30 by default) and 2**32 absorbs that.

_encryption_counts: dict[tuple[int, int], int] = {}
_counts_lock = threading.Lock()


def count_encryption(organization_id: int, version: int) -> None:
    key = (organization_id, version)
    pending = _encryption_counts.get(key, 0) + 1
    _encryption_counts[key] = pending
    if pending % settings.ENCRYPTION_COUNT_FLUSH_EVERY == 0:
        # After the writer's transaction commits (at once outside one). A rolled-back
        # transaction drops the callback, not the counts: the next flush carries them.
        transaction.on_commit(flush_encryption_counts, using=active_alias())


def count_encryptions(organization_id: int, version: int, count: int) -> None:
    """`count` encryptions at once (the bulk write path seals a batch with one key lookup)."""
    if count <= 0:
        return
    key = (organization_id, version)
    before = _encryption_counts.get(key, 0)
    _encryption_counts[key] = before + count
    if before // settings.ENCRYPTION_COUNT_FLUSH_EVERY != (before + count) // settings.ENCRYPTION_COUNT_FLUSH_EVERY:
        transaction.on_commit(flush_encryption_counts, using=active_alias())


def pending_encryption_counts() -> dict[tuple[int, int], int]:
    return dict(_encryption_counts)


def forget_pending_encryption_counts() -> None:
    """Drop this process's pending counts unwritten (tests: an earlier test's data is gone)."""
    with _counts_lock:
        _encryption_counts.clear()


def flush_encryption_counts() -> None:
    """Add this process's pending encryption counts to the key rows, then start a rotation
    for any key past ENCRYPTION_KEY_ROTATE_AFTER. Called after commits, at the end of each
    request and of each Celery task. A failed flush puts its counts back for the next one."""
    from logicnet.encryption.models import OrganizationKey
    from logicnet.tenancy.context import tenant_context

    with _counts_lock:
        pending = dict(_encryption_counts)
        _encryption_counts.clear()
    items = sorted(pending.items())
    table = OrganizationKey._meta.db_table
    for index, ((organization_id, version), count) in enumerate(items):
        try:
            with tenant_context(organization_id), connection.cursor() as cursor:
                # SKIP LOCKED: a key row locked by a long transaction (a master-key rotation
                # re-wrapping it) must not make every request that encrypted wait for it;
                # the count stays pending for the next flush instead.
                cursor.execute(
                    f"UPDATE {table} SET encryptions = encryptions + %s WHERE id = ("
                    f"SELECT id FROM {table} WHERE organization_id = %s AND version = %s FOR UPDATE SKIP LOCKED"
                    ") RETURNING encryptions",
                    [count, organization_id, version],
                )
                row = cursor.fetchone()
                if row is None:
                    # Locked: kept for the next flush. Gone (its organization offboarded, or
                    # its creating transaction rolled back): nothing left to count.
                    cursor.execute(
                        f"SELECT 1 FROM {table} WHERE organization_id = %s AND version = %s",
                        [organization_id, version],
                    )
                    if cursor.fetchone() is not None:
                        with _counts_lock:
                            _encryption_counts[(organization_id, version)] = (
                                _encryption_counts.get((organization_id, version), 0) + count
                            )
                    continue
            if row[0] >= settings.ENCRYPTION_KEY_ROTATE_AFTER:
                start_rotation_if_worn(organization_id, version=version, encryptions=row[0])
        except Exception:
            with _counts_lock:
                for key, left in items[index:]:
                    _encryption_counts[key] = _encryption_counts.get(key, 0) + left
            raise


def start_rotation_if_worn(organization_id: int, *, version: int, encryptions: int) -> int | None:
    """Create the next data key version and queue the re-encryption of the organization's
    data, unless `version` is no longer the only live version (a rotation already started).
    The new version number, or None when nothing was started."""
    from logicnet.audit.services import record_event
    from logicnet.encryption.models import OrganizationKey
    from logicnet.encryption.tasks import reencrypt_organization_task
    from logicnet.tenancy.context import tenant_context

    with tenant_context(organization_id), scopes_disabled():
        with connection.cursor() as cursor:
            cursor.execute(ORGANIZATION_LOCK, [_LOCK_NAMESPACE, organization_id])
        live = list(
            OrganizationKey.objects.filter(organization_id=organization_id, retired_at=None, destroyed_at=None)
            .exclude(wrapped_key="")
            .values_list("version", flat=True)
        )
        if live != [version]:
            return None
        new_version = create_key_version(organization_id, reason="encryption count limit")
        record_event(
            action="encryption.rotation_started",
            organization=organization_id,
            details={
                "version": version,
                "new_version": new_version,
                "encryptions": encryptions,
                "limit": settings.ENCRYPTION_KEY_ROTATE_AFTER,
            },
        )
        transaction.on_commit(lambda: reencrypt_organization_task.delay(organization_id))
    return new_version


# --- platform values: data with no organization ------------------------------------------------
#
# Account secrets (TOTP seeds) belong to no organization: Logicnet is their controller. They
# are sealed with a key derived (HKDF, its own purpose) from a master key, so no organization
# key and no key-wrapping operation ever shares it. The token names the master key, so
# rotate_master_key can re-seal them and retire_master_key can count what is left.

PLATFORM_FORMAT = "p1"


def _platform_aead(master_key_id: str, master: bytes) -> AESGCM:
    found = _platform_aeads.get(master_key_id)
    if found is None or found[0] != master:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"logicnet|platform-values").derive(master)
        found = (master, AESGCM(key))
        _platform_aeads[master_key_id] = found
    return found[1]


_platform_aeads: dict[str, tuple[bytes, AESGCM]] = {}


def seal_platform_value(plaintext: bytes, *, associated_data: bytes) -> str:
    key_id, master = newest_master_key()
    blob = crypto.seal(_platform_aead(key_id, master), plaintext, PLATFORM_FORMAT.encode() + b"|" + associated_data)
    return f"{PLATFORM_FORMAT}.{key_id}.{base64.b64encode(blob).decode('ascii')}"


def platform_token_master_key(token: str) -> str | None:
    parts = token.split(".", 2)
    return parts[1] if len(parts) == 3 and parts[0] == PLATFORM_FORMAT else None


def open_platform_value(token: str, *, associated_data: bytes) -> bytes:
    parts = token.split(".", 2)
    if len(parts) != 3 or parts[0] != PLATFORM_FORMAT:
        raise DecryptionError(organization_id=None, model="platform", field="value", reason="not a platform value")
    key_id = parts[1]
    master = next((key for candidate, key in master_keys() if candidate == key_id), None)
    if master is None:
        raise MasterKeyError(
            f"a platform value is sealed by master key {key_id!r}, which is not in ENCRYPTION_MASTER_KEYS"
        )
    try:
        return crypto.open_sealed(
            _platform_aead(key_id, master),
            base64.b64decode(parts[2], validate=True),
            PLATFORM_FORMAT.encode() + b"|" + associated_data,
        )
    except (crypto.InvalidCiphertext, ValueError):
        raise DecryptionError(
            organization_id=None,
            model="platform",
            field="value",
            reason="authentication failed: the value was altered or belongs to another row",
        ) from None
