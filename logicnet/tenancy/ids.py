"""Ids that tell one tenant nothing about another.

A sequential primary key shared by every organization is a counter anyone can read: two
contacts created a day apart show how many contacts all the other organizations created in
between, and a new organization's id counts the platform's customers. So every table whose
ids a tenant can see (in URLs, forms, API answers) takes its ids from a keyed pseudo-random
permutation of its sequence instead:

    id = 2^bits + feistel(key, nextval(sequence))

- `feistel` is a balanced Feistel network on `bits` bits (52 for bigint columns, 30 for
  integer ones), ROUNDS rounds, each round a secret-prefix SHA-256 of the key, the round
  number and the right half (the input has a fixed length, so SHA-256's length extension
  gives nothing; PostgreSQL's own `sha256()` is used, as pgcrypto may not be installed). A
  Feistel network is a permutation whatever its round function, so ids never collide.
- `2^bits +` puts every new id in [2^bits, 2^(bits+1)): above every sequential id issued
  before the switch (no collision with them), the same number of digits for every id, and
  below 2^53 for bigint columns, so JavaScript numbers keep them exact.
- The key is 32 random bytes made by the database (`gen_random_uuid()`, from
  `pg_strong_random`) the first time `sync_database_security` runs, once per database, and
  never changed: a new key would restart the permutation over positions already numbered.
  It lives in `logicnet_id_key`, which the application role can neither read nor write; only
  `logicnet_next_id`, a SECURITY DEFINER function owned by the platform role, reads it. That
  function only draws from the sequences listed next to the key (the ones below), and the
  application role has no privilege on those sequences themselves, so it can neither read
  a counter (`last_value`) nor run the permutation on a position of its choosing.

The columns are switched here, after every migrate, like the row-level security policies,
so a new model gets permuted ids without a migration, and the tests fail for any table of
these models still numbered sequentially. Django creates identity columns; an identity
column cannot take a default, so its identity is dropped and replaced by a sequence of the
same name, OWNED BY the column (TRUNCATE ... RESTART IDENTITY and Django's sequence resets
still find it), continuing where the identity stopped.

Nothing may read id order as creation order any more: lists order by a timestamp and use
the id only to break ties, keysets that page by id alone are fine (any stable order is).
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Model

# Ids these models keep sequential. Each says why; the tests fail for any other model with
# an auto-numbered key whose column default is not logicnet_next_id.
ID_EXEMPT: dict[str, str] = {
    "audit.AuditEvent": ("the sealer chains events in id order (logicnet/audit); no tenant sees an event id"),
    "audit.AuditCheckpoint": "a checkpoint of that chain, read by the platform only",
    "contacts.ContactNameToken": (
        "search tokens that the database's own triggers write, several per name, and that "
        "no page, form or export shows; numbering them through the permutation would cost "
        "every import one keyed hash chain per token for nothing"
    ),
    "contacts.CompanyNameToken": "search tokens of company names, as for contacts",
    "bulk.RevertEntry": (
        "the revert journal of bulk writes: one row per row an import writes, read only by the "
        "revert (by batch reference) and shown on no page; a keyed id per entry would double "
        "the id cost of every imported row"
    ),
}

ROUNDS = 8
if ROUNDS % 2:  # logicnet_permute_ids runs two rounds a step
    raise RuntimeError("the permutation's rounds must be even in number")

# Bits of the permuted domain by the key column's type. A smallint key (at most 32,767
# rows) is too narrow to hide anything and is left as it is.
DOMAIN_BITS = {"integer": 30, "bigint": 52}
_AUTO_FIELD_TYPES = {models.AutoField: "integer", models.BigAutoField: "bigint"}

KEY_TABLE = "logicnet_id_key"


def permuted_id_models() -> list[type[Model]]:
    """Every concrete table with an auto-numbered integer or bigint key, bar ID_EXEMPT."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.label in ID_EXEMPT:
            continue
        if type(meta.pk) in _AUTO_FIELD_TYPES:
            found.append(model)
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


PERMUTE_FUNCTION = f"""CREATE OR REPLACE FUNCTION logicnet_permute_id(n bigint, bits integer, key bytea)
RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    half integer := bits / 2;
    mask bigint := (1::bigint << (bits / 2)) - 1;
    l bigint;
    r bigint;
    f bigint;
    t bigint;
BEGIN
    -- A pure function of its arguments: without the key it tells nothing.
    IF bits NOT IN (30, 52) OR n < 0 OR n >= (1::bigint << bits) THEN
        RAISE EXCEPTION USING ERRCODE = 'numeric_value_out_of_range',
            MESSAGE = format('position %s is outside the %s-bit id domain', n, bits);
    END IF;
    l := n >> half;
    r := n & mask;
    FOR i IN 0..{ROUNDS - 1} LOOP
        -- The round function: the first `half` bits of SHA-256(key || round || bits || r).
        f := ('x' || left(encode(sha256(key || set_byte(set_byte('\\x0000'::bytea, 0, i), 1, bits)
                                         || int8send(r)), 'hex'), 8))::bit(32)::bigint >> (32 - half);
        t := r;
        r := l # f;
        l := t;
    END LOOP;
    RETURN (1::bigint << bits) + ((l << half) | r);
END $$"""

NEXT_ID_FUNCTION = f"""CREATE OR REPLACE FUNCTION logicnet_next_id(id_sequence regclass) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    secret bytea;
    bigint_ids oid[];
    integer_ids oid[];
    width integer;
BEGIN
    SELECT k.key, k.sequences, k.integer_sequences INTO secret, bigint_ids, integer_ids
        FROM public.{KEY_TABLE} k WHERE k.id = 1;
    -- Only the id sequences: a sequence of the caller's own (a temporary one, set to any
    -- value) would turn this function into an oracle for the permutation. The lists say
    -- the width too (a catalog lookup per id cost more than the permutation itself).
    IF id_sequence::oid = ANY (bigint_ids) THEN
        width := 52;
    ELSIF id_sequence::oid = ANY (integer_ids) THEN
        width := 30;
    END IF;
    IF secret IS NULL OR width IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s is not an id sequence', id_sequence);
    END IF;
    RETURN public.logicnet_permute_id(nextval(id_sequence), width, secret);
END $$"""

# The same permutation for a whole array of positions, as logicnet_permute_id computes it one
# at a time: the loop inlined (no function call per id) and each round's prefix (key, round,
# width) built once for the array instead of once per round of every id, which leaves the
# eight SHA-256 of each id as most of its cost (6.0 -> 4.5 µs an id measured). The tests
# compare it with logicnet_permute_id position by position.
PERMUTE_MANY_FUNCTION = f"""CREATE OR REPLACE FUNCTION logicnet_permute_ids(positions bigint[], bits integer, key bytea)
RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    half integer := bits / 2;
    mask bigint := (1::bigint << (bits / 2)) - 1;
    shift integer := 32 - bits / 2;
    top bigint := 1::bigint << bits;
    prefixes bytea[];
    ids bigint[] := '{{}}';
    n bigint;
    l bigint;
    r bigint;
BEGIN
    IF bits NOT IN (30, 52) THEN
        RAISE EXCEPTION USING ERRCODE = 'numeric_value_out_of_range',
            MESSAGE = format('%s is not an id width', bits);
    END IF;
    prefixes := ARRAY(SELECT key || set_byte(set_byte('\\x0000'::bytea, 0, i), 1, bits)
                      FROM generate_series(0, {ROUNDS - 1}) AS i ORDER BY i);
    FOR j IN 1..coalesce(array_length(positions, 1), 0) LOOP
        n := positions[j];
        IF n IS NULL OR n < 0 OR n >= top THEN
            RAISE EXCEPTION USING ERRCODE = 'numeric_value_out_of_range',
                MESSAGE = format('position %s is outside the %s-bit id domain', n, bits);
        END IF;
        l := n >> half;
        r := n & mask;
        -- Two rounds a step, in place: (l, r) -> (r, l # f(r)) -> (l # f(r), r # f(l # f(r))).
        -- The round function is logicnet_permute_id's: the first `half` bits of
        -- SHA-256(key || round || bits || r), read from the digest's first 4 bytes.
        FOR i IN 1..{ROUNDS} BY 2 LOOP
            l := l # (('x' || encode(substr(sha256(prefixes[i] || int8send(r)), 1, 4), 'hex'))::bit(32)::bigint
                      >> shift);
            r := r # (('x' || encode(substr(sha256(prefixes[i + 1] || int8send(l)), 1, 4), 'hex'))::bit(32)::bigint
                      >> shift);
        END LOOP;
        ids[j] := top + ((l << half) | r);
    END LOOP;
    RETURN ids;
END $$"""

# The same ids, `how_many` at once, for the bulk write path (logicnet/bulk/writes.py): one
# key lookup and one call for a whole batch instead of one each per row (the per-row call
# cost as much as the permutation itself). The same checks: only the id sequences, and
# only fresh positions (nextval), so it is no more an oracle than logicnet_next_id.
NEXT_IDS_FUNCTION = f"""CREATE OR REPLACE FUNCTION logicnet_next_id_batch(id_sequence regclass, how_many integer)
RETURNS bigint[] LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    secret bytea;
    bigint_ids oid[];
    integer_ids oid[];
    width integer;
BEGIN
    SELECT k.key, k.sequences, k.integer_sequences INTO secret, bigint_ids, integer_ids
        FROM public.{KEY_TABLE} k WHERE k.id = 1;
    IF id_sequence::oid = ANY (bigint_ids) THEN
        width := 52;
    ELSIF id_sequence::oid = ANY (integer_ids) THEN
        width := 30;
    END IF;
    IF secret IS NULL OR width IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s is not an id sequence', id_sequence);
    END IF;
    IF how_many < 0 OR how_many > 100000 THEN
        RAISE EXCEPTION USING ERRCODE = 'numeric_value_out_of_range',
            MESSAGE = format('%s ids at once: between 0 and 100000', how_many);
    END IF;
    RETURN public.logicnet_permute_ids(
        ARRAY(SELECT nextval(id_sequence) FROM generate_series(1, how_many) AS g ORDER BY g), width, secret);
END $$"""


def _key_table_statements(app: str, platform: str) -> list[str]:
    table = _quote(KEY_TABLE)
    return [
        f"""CREATE TABLE IF NOT EXISTS {table} (
            id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
            key bytea NOT NULL CHECK (length(key) = 32),
            sequences oid[] NOT NULL DEFAULT '{{}}',
            integer_sequences oid[] NOT NULL DEFAULT '{{}}'
        )""",
        # Made once per database, by the database (pg_strong_random behind gen_random_uuid;
        # 2 x 122 random bits), so it never passes through a log or the application.
        f"""INSERT INTO {table} (id, key)
            VALUES (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'))
            ON CONFLICT (id) DO NOTHING""",
        # The blanket grants of database_statements() reach this table too: take them back.
        f"REVOKE ALL ON {table} FROM PUBLIC, {app}, {platform}",
        # logicnet_next_id runs as the platform role (see _narrow_functions_statement).
        f"GRANT SELECT ON {table} TO {platform}",
    ]


def _column_statement(model: type[Model], app: str, platform: str) -> str:
    """Switch one key column to `logicnet_next_id(its sequence)`, idempotently."""
    table = model._meta.db_table
    column = model._meta.pk.column
    kind = _AUTO_FIELD_TYPES[type(model._meta.pk)]
    bits = DOMAIN_BITS[kind]
    return f"""DO $$ DECLARE
        tbl regclass := {_literal(_quote(table))}::regclass;
        col text := {_literal(column)};
        seq regclass := pg_get_serial_sequence({_literal(_quote(table))}, {_literal(column)})::regclass;
        seq_name text;
        seq_schema text;
        identity_kind "char";
        current_default text;
        last bigint;
        called boolean;
    BEGIN
        SELECT a.attidentity, pg_get_expr(d.adbin, d.adrelid) INTO identity_kind, current_default
            FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = tbl AND a.attname = col;
        IF identity_kind <> '' THEN
            -- An identity column takes no default: swap its identity for a sequence of the
            -- same name that continues where the identity stopped.
            SELECT c.relname, n.nspname INTO seq_name, seq_schema
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = seq;
            EXECUTE format('SELECT last_value, is_called FROM %s', seq) INTO last, called;
            EXECUTE format('ALTER TABLE %s ALTER COLUMN %I DROP IDENTITY', tbl, col);
            EXECUTE format('CREATE SEQUENCE %I.%I AS {kind} OWNED BY %s.%I', seq_schema, seq_name, tbl, col);
            seq := format('%I.%I', seq_schema, seq_name)::regclass;
            PERFORM setval(seq, last, called);
        ELSIF seq IS NULL THEN
            RAISE EXCEPTION 'no sequence owned by %.%', tbl, col;
        END IF;
        -- Positions stay inside the permuted domain: past it, nextval fails rather than
        -- an id repeat or leave the column's range.
        IF NOT EXISTS (SELECT FROM pg_sequence s WHERE s.seqrelid = seq
                       AND s.seqtypid = '{kind}'::regtype AND s.seqmax = {(1 << bits) - 1}) THEN
            EXECUTE format('ALTER SEQUENCE %s AS {kind} MAXVALUE {(1 << bits) - 1}', seq);
        END IF;
        -- Only when it is not set yet: this runs after every migrate and every test flush,
        -- and ALTER TABLE waits for (and deadlocks with) sessions still using the table.
        IF current_default IS NULL OR current_default NOT LIKE 'logicnet\\_next\\_id(%' THEN
            EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT logicnet_next_id(%L::regclass)',
                           tbl, col, seq::text);
        END IF;
        -- The application role inserts through the default (a SECURITY DEFINER function),
        -- so it needs nothing on the sequence; reading it would show the counter.
        EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM %I', seq, {_literal(app)});
        -- logicnet_next_id runs as the platform role.
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', seq, {_literal(platform)});
    END $$"""


def id_statements() -> list[str]:
    """The key, the two functions and every permuted key column's default. Run by
    database_statements() after the blanket grants and before the narrow functions are
    handed to the platform role (which logicnet_next_id is one of)."""
    app = _quote(settings.DATABASE_APP_USER)
    platform = _quote(settings.DATABASE_PLATFORM_ROLE)
    permuted = permuted_id_models()
    statements = _key_table_statements(app, platform)
    statements += [PERMUTE_FUNCTION, PERMUTE_MANY_FUNCTION, NEXT_ID_FUNCTION, NEXT_IDS_FUNCTION]
    statements += [
        _column_statement(model, settings.DATABASE_APP_USER, settings.DATABASE_PLATFORM_ROLE) for model in permuted
    ]
    for column, kind in (("sequences", "bigint"), ("integer_sequences", "integer")):
        listed = ", ".join(
            f"pg_get_serial_sequence({_literal(_quote(m._meta.db_table))}, {_literal(m._meta.pk.column)})::regclass::oid"
            for m in permuted
            if _AUTO_FIELD_TYPES[type(m._meta.pk)] == kind
        )
        statements.append(
            f"UPDATE {_quote(KEY_TABLE)} SET {column} = ARRAY[{listed}]::oid[]"
            f" WHERE id = 1 AND {column} IS DISTINCT FROM ARRAY[{listed}]::oid[]"
        )
    return statements
