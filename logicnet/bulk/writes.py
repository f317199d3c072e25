"""The one bulk write path: rows of a model encrypted and indexed a batch at a time, loaded
with COPY into a staging table and merged into the real table inside the tenant context.

    encoder = BatchEncoder(Contact, organization)       # one key lookup for the batch
    ids = insert_rows(Contact, organization, rows)      # [{attname: python value}, ...] -> new ids
    update_rows(Contact, organization, rows, columns)   # [{"id": ..., column: value}, ...]

Why this shape:
- PostgreSQL refuses COPY FROM into a table under row-level security, and the application
  role must stay under it; so rows are COPied into a temporary table (the web role may create
  temporary tables: PostgreSQL grants TEMPORARY on a database to PUBLIC, and the project does
  not revoke it) and merged with INSERT ... SELECT / UPDATE ... FROM, which the policies
  check row by row as for any other write (another organization's row cannot be written or
  seen);
- ids come from the keyed permutation of the table's sequence (logicnet/tenancy/ids.py), a
  batch's worth drawn in one call of logicnet_next_id_batch (the column default would call
  logicnet_next_id once per row, which cost as much again as the permutation); the merge
  inserts in staging order and RETURNING gives the ids back in that order (what Django's own
  bulk_create relies on with INSERT ... SELECT FROM UNNEST);
- the database's own invariants hold without a per-row trigger: references to other tenant
  tables are checked once per INSERT statement (logicnet/tenancy/rls.py) and the name-token
  rows are written by statement triggers (contacts migrations 0002-0003, 0010);
- values are sealed exactly as EncryptedMixin.pre_save seals them (format v2: padded, bound to
  organization, model, field and key version) and the search columns computed by the same
  functions (logicnet/encryption/blind.py), but with the organization's keys looked up once
  per batch and the encryption count added once per batch;
- nothing here commits: the caller's transaction holds the batch (and, for an import, the
  job's checkpoint), so a worker killed mid-batch leaves nothing of it.
"""

from __future__ import annotations

import base64
import functools
import itertools
import os
import types
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from django.core import validators
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Model

from logicnet import normalize
from logicnet.encryption import blind, crypto
from logicnet.encryption.fields import (
    BlindIndexField,
    EncryptedEmailField,
    EncryptedPhoneField,
    PrefixTokensField,
    Sealed,
    ciphertext_label,
    derived_fields_of,
    encrypted_fields_of,
)
from logicnet.encryption.keys import count_encryptions, current_keys
from logicnet.tenancy.context import active_organization_id

_stage_numbers = itertools.count(1)
NONCES_PER_READ = 4096
# Forks of this process so far, counted in the child: an encoder's unused nonces are drawn
# again after a fork (os.getpid() per value was a system call per sealed value).
_forks = [0]
os.register_at_fork(after_in_child=lambda: _forks.__setitem__(0, _forks[0] + 1))


class BulkWriteError(RuntimeError):
    """A bulk write called outside its organization's tenant context, or with bad columns."""


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def require_tenant(organization) -> int:
    organization_id = int(getattr(organization, "pk", organization))
    if active_organization_id() != organization_id or not connection.in_atomic_block:
        raise BulkWriteError(
            f"bulk writes for organization {organization_id} run inside tenant_context(organization), "
            "in the caller's transaction"
        )
    return organization_id


# --- encryption and search columns, a batch at a time -------------------------------------------


class BatchEncoder:
    """Seals values and computes search columns for one model and organization with one key
    lookup: what pre_save does per row (EncryptedMixin, NormalizingMixin, BlindIndexField,
    PrefixTokensField), for a whole batch."""

    def __init__(self, model: type[Model], organization) -> None:
        self.model = model
        self.organization = organization
        self.organization_id = int(organization.pk)
        self.label = ciphertext_label(model)
        self.keys = current_keys(self.organization_id)
        self.version = self.keys.current_version
        self._aead = self.keys.aeads[self.version]
        self._prefix = f"{crypto.PADDED_FORMAT}.{self.version}."
        self.encrypted = {f.attname: f for f in encrypted_fields_of(model)}
        self.derived = derived_fields_of(model)
        self._associated = {
            name: crypto.value_associated_data(self.organization_id, self.label, field.padded_field, self.version)
            for name, field in self.encrypted.items()
        }
        # What organization_country() reads, without a model instance per row.
        self._shim = types.SimpleNamespace(organization_id=self.organization_id, organization=organization)
        self.sealed = 0
        self._token_cache: dict[str, dict[str, int]] = {}
        # Worked out once per batch rather than per row: the fields with a normal form, and
        # each search column with the attname of its source (None: name tokens).
        self._normalised = [
            name
            for name, field in self.encrypted.items()
            if isinstance(field, EncryptedEmailField | EncryptedPhoneField)
        ]
        self._derivations = [
            (field, model._meta.get_field(field.source).attname if isinstance(field, BlindIndexField) else None)
            for field in self.derived
        ]
        self._nonces, self._nonce_at, self._nonce_fork = b"", 0, _forks[0]

    def _nonce(self) -> bytes:
        """A fresh random 96-bit nonce (what crypto.seal draws), taken from random bytes read
        a few thousand nonces at a time: one system call per value cost as much as the AES."""
        if self._nonce_at >= len(self._nonces) or self._nonce_fork != _forks[0]:
            # A forked copy of the encoder must never reuse its parent's nonces (GCM).
            self._nonces, self._nonce_at = os.urandom(crypto.NONCE_BYTES * NONCES_PER_READ), 0
            self._nonce_fork = _forks[0]
        start = self._nonce_at
        self._nonce_at += crypto.NONCE_BYTES
        return self._nonces[start : self._nonce_at]

    @property
    def country(self) -> str:
        return getattr(self.organization, "country", None) or normalize.DEFAULT_REGION

    def normal_form(self, attname: str, value: Any) -> Any:
        """The stored form of an email or a phone (NormalizingMixin); ValidationError when a
        phone number cannot be read."""
        field = self.encrypted.get(attname)
        if not isinstance(value, str) or not value:
            return value
        if isinstance(field, EncryptedEmailField):
            return normalize.clean_email(value)
        if isinstance(field, EncryptedPhoneField):
            try:
                return normalize.to_e164(value, self.country)
            except normalize.InvalidPhoneNumber as exc:
                raise ValidationError({field.name: [str(exc)]}) from None
        return value

    def seal(self, attname: str, value: Any) -> Any:
        """The stored ciphertext of one value ('' and None stay as they are, as in pre_save)."""
        field = self.encrypted[attname]
        if value is None or (value == "" and field.empty_strings_allowed):
            return value
        if isinstance(value, Sealed):
            return value.token
        value = field.to_python(value)
        if getattr(field, "max_length", None) and isinstance(value, str) and len(value) > field.max_length:
            raise ValidationError(
                {
                    field.name: [
                        validators.MaxLengthValidator.message
                        % {"limit_value": field.max_length, "show_value": len(value)}
                    ]
                }
            )
        nonce = self._nonce()
        blob = nonce + self._aead.encrypt(nonce, crypto.pad(field.encode_plaintext(value)), self._associated[attname])
        self.sealed += 1
        return self._prefix + base64.b64encode(blob).decode("ascii")

    def blind_index(self, field: BlindIndexField, value: str) -> str:
        if not value:
            return ""
        return field.KINDS[field.kind](self.keys, self.version, value, self._shim)

    def name_tokens(self, field: PrefixTokensField, texts: list[str]) -> list[int]:
        if not any(texts):
            return []
        cache = self._token_cache.setdefault(field.scope, {})
        return blind.prefix_tokens(self.keys, self.version, texts, field.scope, cache)

    def derive(self, row: dict[str, Any]) -> None:
        """Fill the row's search columns from its plaintext sources (those it does not set)."""
        for field, source in self._derivations:
            if field.attname in row:
                continue
            if source is not None:
                row[field.attname] = self.blind_index(field, row.get(source))
            else:
                row[field.attname] = self.name_tokens(field, [row.get(name) or "" for name in field.sources])

    def encode(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row of plaintext values (by attname) as stored: normal forms, search columns,
        ciphertexts. The row passed in gets the normal forms (what a caller reads back)."""
        for attname in self._normalised:
            if attname in row:
                row[attname] = self.normal_form(attname, row[attname])
        self.derive(row)
        stored = dict(row)
        for attname in self.encrypted:
            if attname in stored:
                stored[attname] = self.seal(attname, stored[attname])
        return stored

    def flush_count(self) -> None:
        """Add this batch's encryptions to the key's count (NIST SP 800-38D, keys.py)."""
        count_encryptions(self.organization_id, self.version, self.sealed)
        self.sealed = 0


# --- COPY into staging, merge into the table ------------------------------------------------------


def _columns_of(model: type[Model]) -> dict[str, models.Field]:
    return {f.column: f for f in model._meta.concrete_fields}


def _needs_preparing(field: models.Field) -> bool:
    """Whether COPY needs the field's own database preparation (JSON must be adapted); text,
    numbers, booleans, dates, ids, ciphertexts and search columns go as they are."""
    return isinstance(field, models.JSONField) and not getattr(field, "encrypted", False)


def _db_value(field: models.Field, value: Any, db=None) -> Any:
    """`db`: the connection itself, looked up once per batch (django.db.connection is a
    proxy that finds this thread's connection on every attribute read)."""
    if value is None or not _needs_preparing(field):
        return value
    return field.get_db_prep_save(value, db or connections[DEFAULT_DB_ALIAS])


def _stage(cursor, model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A temporary table with `columns` typed as in the model's table, plus `bulk_n` (the row's
    position), loaded with COPY. Dropped by the caller (or at commit)."""
    table = _quote(model._meta.db_table)
    name = f"bulk_stage_{next(_stage_numbers)}"
    listed = ", ".join(_quote(c) for c in columns)
    cursor.execute(f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS SELECT {listed} FROM {table} WITH NO DATA")
    cursor.execute(f"ALTER TABLE {name} ADD COLUMN bulk_n integer")
    with cursor.copy(f"COPY {name} ({listed}, bulk_n) FROM STDIN") as copy:
        for n, row in enumerate(rows):
            copy.write_row((*row, n))
    return name


def _is_token_array(model: type[Model], attname: str) -> bool:
    return isinstance(model._meta.get_field(attname), PrefixTokensField)


@functools.cache
def _has_permuted_ids(model: type[Model]) -> bool:
    from logicnet.tenancy.ids import permuted_id_models

    return model in permuted_id_models()


class RowLayout:
    """How rows of a model with a given set of columns become COPY rows: every concrete field
    the rows leave out takes the model's default (computed once), the primary key the
    table's (the keyed id permutation); values are normalised, indexed and sealed by the
    encoder. Made once per batch (or per import, by a preparer that encodes rows ahead, in
    any thread: encoding touches no database)."""

    def __init__(self, model: type[Model], organization, given: Iterable[str], encoder: BatchEncoder) -> None:
        self.model, self.encoder = model, encoder
        self.organization_id = int(getattr(organization, "pk", organization))
        pk = model._meta.pk
        fields = [f for f in model._meta.concrete_fields if f is not pk]
        given = set(given)
        unknown = given - {f.attname for f in fields}
        if unknown:
            raise BulkWriteError(f"{model._meta.label} has no columns {sorted(unknown)}")
        derived = {f.attname for f in encoder.derived}
        self.defaults = {
            f.attname: f.get_default() for f in fields if f.attname not in given and f.attname not in derived
        }
        self.defaults["organization_id"] = self.organization_id
        self.plain = [f.attname for f in fields if not _needs_preparing(f)]
        self.prepared = [f for f in fields if _needs_preparing(f)]
        self.token_columns = [
            i for i, attname in enumerate(self.plain) if attname in derived and _is_token_array(model, attname)
        ]
        self.attnames = self.plain + [f.attname for f in self.prepared]
        self.columns = [f.column for f in fields if not _needs_preparing(f)] + [f.column for f in self.prepared]

    def position(self, attname: str) -> int:
        """Where a column's value sits in an encoded row (to set it after encoding)."""
        return self.attnames.index(attname)

    def encode(self, row: dict[str, Any], db=None) -> list[Any]:
        full = {**self.defaults, **row}
        if full["organization_id"] != self.organization_id:
            raise BulkWriteError("a row names another organization")
        stored = self.encoder.encode(full)
        values = [stored.get(attname) for attname in self.plain]
        for i in self.token_columns:
            # An array literal COPY reads as it is: psycopg's array dumper cost more per row
            # than the tokens' HMACs.
            tokens = values[i]
            if tokens is not None:
                values[i] = "{" + ",".join(map(str, tokens)) + "}"
        values += [_db_value(field, stored.get(field.attname), db) for field in self.prepared]
        return values


def insert_rows(
    model: type[Model],
    organization,
    rows: Sequence[dict[str, Any]],
    *,
    encoder: BatchEncoder | None = None,
    on_conflict_do_nothing: bool = False,
) -> list[int]:
    """Insert rows (dicts of attname -> plaintext value) and return their new ids, in order:
    encoded by a RowLayout, then `insert_encoded`. With `on_conflict_do_nothing` (link rows
    such as tags) rows already there are skipped and the ids returned are only those
    inserted (order then means nothing)."""
    require_tenant(organization)
    if not rows:
        return []
    encoder = encoder or BatchEncoder(model, organization)
    layout = RowLayout(model, organization, set().union(*(row.keys() for row in rows)), encoder)
    db = connections[DEFAULT_DB_ALIAS]
    encoded = [layout.encode(row, db) for row in rows]
    encoder.flush_count()
    return insert_encoded(layout, organization, encoded, on_conflict_do_nothing=on_conflict_do_nothing)


def insert_encoded(
    layout: RowLayout, organization, encoded: Sequence[list[Any]], *, on_conflict_do_nothing: bool = False
) -> list[int]:
    """Insert rows a RowLayout encoded (their encryptions already counted): COPY into a
    staging table, INSERT ... SELECT in staging order, RETURNING the ids."""
    require_tenant(organization)
    if not encoded:
        return []
    model, columns = layout.model, layout.columns
    pk = model._meta.pk
    table = _quote(model._meta.db_table)
    with connection.cursor() as cursor:
        stage = _stage(cursor, model, columns, encoded)
        listed = ", ".join(_quote(c) for c in columns)
        conflict = " ON CONFLICT DO NOTHING" if on_conflict_do_nothing else ""
        if _has_permuted_ids(model):
            # The batch's ids drawn in one call (logicnet_next_id_batch) rather than one call of
            # the column's default per row: the same keyed permutation of the same sequence.
            staged = ", ".join(f"s.{_quote(c)}" for c in columns)
            cursor.execute(
                f"INSERT INTO {table} ({_quote(pk.column)}, {listed}) SELECT i.id, {staged} FROM {stage} AS s"
                " JOIN unnest(logicnet_next_id_batch(pg_get_serial_sequence(%s, %s)::regclass, %s))"
                " WITH ORDINALITY AS i (id, n) ON i.n = s.bulk_n + 1"
                f" ORDER BY s.bulk_n{conflict} RETURNING {_quote(pk.column)}",
                [table, pk.column, len(encoded)],
            )
        else:
            cursor.execute(
                f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {stage} ORDER BY bulk_n"
                f"{conflict} RETURNING {_quote(pk.column)}"
            )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {stage}")
    return ids


def update_rows(model: type[Model], organization, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> int:
    """UPDATE the rows' `columns` (database column names) with values already as stored
    (ciphertexts sealed by a BatchEncoder, search columns computed), keyed by "id", in one
    statement from a staging table. Returns the number of rows changed."""
    organization_id = require_tenant(organization)
    if not rows:
        return 0
    pk = model._meta.pk.column
    known = _columns_of(model)
    unknown = set(columns) - set(known)
    if unknown or pk in columns:
        raise BulkWriteError(f"{model._meta.label}: cannot update columns {sorted(unknown) or [pk]}")
    staged = [pk, *columns]
    db = connections[DEFAULT_DB_ALIAS]
    values = [[row[pk], *(_db_value(known[c], row[c], db) for c in columns)] for row in rows]
    table = _quote(model._meta.db_table)
    assignments = ", ".join(f"{_quote(c)} = s.{_quote(c)}" for c in columns)
    with connection.cursor() as cursor:
        stage = _stage(cursor, model, staged, values)
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} FROM {stage} AS s "
            f"WHERE t.{_quote(pk)} = s.{_quote(pk)} AND t.organization_id = %s",
            [organization_id],
        )
        changed = cursor.rowcount
        cursor.execute(f"DROP TABLE {stage}")
    return changed


def bound_cursor() -> psycopg.Cursor:
    """A cursor on the default connection (the same transaction and tenant settings) that
    sends parameters apart from the SQL, a `%b` one in binary. Django binds on the client:
    a batch's thousands of digests in `= ANY(%s)` became one quoted literal that psycopg
    wrote and PostgreSQL parsed again, which cost more than the index probes themselves."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def stored_rows(model: type[Model], organization, ids: Sequence[int], columns: Sequence[str]) -> dict[int, dict]:
    """The rows' `columns` as stored (ciphertexts as text), by id: what a revert journal keeps."""
    organization_id = require_tenant(organization)
    if not ids:
        return {}
    pk = model._meta.pk.column
    listed = ", ".join(_quote(c) for c in (pk, *columns))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {listed} FROM {_quote(model._meta.db_table)} WHERE organization_id = %s AND {_quote(pk)} = ANY(%s)",
            [organization_id, list(ids)],
        )
        return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in cursor.fetchall()}
