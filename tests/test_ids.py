"""Ids tell one tenant nothing about another (logicnet/tenancy/ids.py): every table a
tenant sees ids of is numbered by a keyed permutation of its sequence, the key out of the
application role's reach."""

from __future__ import annotations

import itertools

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.db import DataError, ProgrammingError, connection, transaction

from contacts.models import Contact, Tag
from contacts.services.contacts import create_contact
from logicnet.tenancy.context import tenant_context, user_context
from logicnet.tenancy.ids import ID_EXEMPT, KEY_TABLE, permuted_id_models
from logicnet.tenancy.rls import database_statements
from tests.conftest import use_database_role

BIGINT_FLOOR, BIGINT_CEILING = 2**52, 2**53  # JavaScript keeps integers below 2^53 exact


def _fetch(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _refused(sql: str, params=None, match: str = "permission denied", error=ProgrammingError) -> None:
    with pytest.raises(error, match=match), transaction.atomic():
        _fetch(sql, params)


def _new_contacts(organization, actor, count: int, stem: str) -> list[int]:
    with tenant_context(organization):
        return [
            create_contact(organization=organization, actor=actor, data={"first_name": f"{stem}{i}"}).pk
            for i in range(count)
        ]


def test_consecutive_ids_are_neither_increasing_nor_close(org_a, alice):
    ids = _new_contacts(org_a, alice, 12, "Ion")
    assert len(set(ids)) == len(ids)
    assert all(BIGINT_FLOOR <= pk < BIGINT_CEILING for pk in ids)
    assert ids != sorted(ids), "ids in creation order would be increasing"
    # A sequence numbers consecutive rows 1 apart; the permutation scatters them over 2^52.
    gaps = [abs(b - a) for a, b in itertools.pairwise(ids)]
    assert min(gaps) > 2**20, gaps


def test_another_organizations_rows_leave_no_trace_in_the_gaps(org_a, org_b, alice, charlie):
    """Sequential ids: A's two contacts created around B's ten are 11 apart, telling A that
    somebody made ten rows meanwhile. Permuted: the gap is noise either way."""
    first = _new_contacts(org_a, alice, 1, "Ana")[0]
    _new_contacts(org_b, charlie, 10, "Beta")
    second = _new_contacts(org_a, alice, 1, "Ana")[0]
    assert abs(second - first) > 2**20
    also_first, second_again = _new_contacts(org_a, alice, 2, "Ana")
    # Without anything in between the gap is just as large: it carries no count.
    assert abs(second_again - also_first) > 2**20
    # Organizations and users are numbered the same way (their ids show in URLs and forms).
    assert BIGINT_FLOOR <= org_a.pk < BIGINT_CEILING and BIGINT_FLOOR <= org_b.pk < BIGINT_CEILING
    assert BIGINT_FLOOR <= alice.pk < BIGINT_CEILING and BIGINT_FLOOR <= charlie.pk < BIGINT_CEILING
    # allauth's email addresses (their ids are in the e-mail management form) have integer
    # keys: the same permutation on 30 bits, in [2^30, 2^31).
    addresses = []
    for user in (alice, charlie):  # each address is its user's own row (a user-keyed policy)
        with user_context(user):
            addresses += EmailAddress.objects.filter(user=user).values_list("pk", flat=True)
    assert len(addresses) == 2 and all(2**30 <= pk < 2**31 for pk in addresses)


def test_bulk_create_still_returns_the_new_ids(org_a):
    with tenant_context(org_a):
        tags = Tag.objects.bulk_create([Tag(organization=org_a, name=f"Tag {i}") for i in range(50)])
        assert all(tag.pk is not None for tag in tags)
        stored = dict(Tag.objects.filter(pk__in=[t.pk for t in tags]).values_list("pk", "name"))
    assert stored == {tag.pk: tag.name for tag in tags}
    assert all(BIGINT_FLOOR <= tag.pk < BIGINT_CEILING for tag in tags)


def test_the_application_role_cannot_read_the_key(db):
    assert _fetch("SELECT current_user") == [(settings.DATABASE_APP_USER,)]
    _refused(f"SELECT key FROM {KEY_TABLE}")
    _refused(f"UPDATE {KEY_TABLE} SET key = key")
    _refused(f"DELETE FROM {KEY_TABLE}")
    assert _fetch(
        "SELECT has_table_privilege(%s, %s, 'SELECT'), has_table_privilege(%s, %s, 'SELECT')",
        [settings.DATABASE_APP_USER, KEY_TABLE, settings.DATABASE_PLATFORM_ROLE, KEY_TABLE],
    ) == [(False, True)]


def test_the_application_role_cannot_read_or_move_a_counter(db):
    """The sequences behind the ids count every organization's rows: the web role inserts
    through the default (a SECURITY DEFINER function) and has nothing on them."""
    sequence = _fetch("SELECT pg_get_serial_sequence('contacts_contact', 'id')")[0][0]
    _refused(f"SELECT last_value FROM {sequence}")
    _refused("SELECT nextval(%s::regclass)", [sequence])
    _refused("SELECT setval(%s::regclass, 1)", [sequence])
    # (this one answers NULL to a role without privileges on the sequence)
    assert _fetch("SELECT pg_sequence_last_value(%s::regclass)", [sequence]) == [(None,)]


def test_the_id_function_is_no_oracle_for_the_permutation(db):
    """logicnet_next_id draws only from the id sequences: a temporary sequence of the
    caller's, set to any position, would let it map positions to ids and back."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY SEQUENCE probe_positions")
    _refused("SELECT logicnet_next_id('probe_positions'::regclass)", match="not an id sequence")
    # The audit log's sequence is readable by the application role (it numbers its events):
    # pairing its nextval with the permuted one would be the same oracle.
    _refused("SELECT logicnet_next_id(pg_get_serial_sequence('audit_auditevent', 'id')::regclass)", match="not an id")
    # The permutation itself is a pure function of the key, which the caller does not have.
    _refused(f"SELECT logicnet_permute_id(1, 52, (SELECT key FROM {KEY_TABLE}))")


def test_the_permutation_is_a_permutation_in_range(db):
    """100,000 consecutive positions, 100,000 distinct ids, all inside [2^bits, 2^(bits+1))."""
    key = bytes(range(32))
    for bits in (52, 30):
        ((distinct, low, high, increasing),) = _fetch(
            "WITH ids AS (SELECT g, logicnet_permute_id(g, %s, %s) AS id FROM generate_series(0, 99999) g),"
            " steps AS (SELECT id, lead(id) OVER (ORDER BY g) AS next FROM ids)"
            " SELECT count(DISTINCT id), min(id), max(id), count(*) FILTER (WHERE next > id) FROM steps",
            [bits, key],
        )
        assert distinct == 100_000
        assert 2**bits <= low and high < 2 ** (bits + 1)
        # Half the neighbours go up, half go down, as for random numbers.
        assert 45_000 < increasing < 55_000
    # Another key, another permutation.
    a = _fetch("SELECT array_agg(logicnet_permute_id(g, 52, %s) ORDER BY g) FROM generate_series(0, 99) g", [key])
    b = _fetch("SELECT array_agg(logicnet_permute_id(g, 52, %s) ORDER BY g) FROM generate_series(0, 99) g", [key[::-1]])
    assert not set(a[0][0]) & set(b[0][0])
    _refused("SELECT logicnet_permute_id(%s, 52, %s)", [2**52, key], match="outside", error=DataError)


def test_the_batch_permutation_gives_the_same_ids_as_the_single_one(db):
    """logicnet_permute_ids (what logicnet_next_id_batch numbers a bulk write with) is the
    same permutation as logicnet_permute_id, position by position, at both widths, at the
    bottom, in the middle and at the top of the domain."""
    key = bytes(range(32))
    for bits in (52, 30):
        for first in (0, 12_345_678, 2**bits - 20_000):
            ((single, batch),) = _fetch(
                "SELECT array_agg(logicnet_permute_id(g, %(bits)s, %(key)s) ORDER BY g),"
                " logicnet_permute_ids(array_agg(g ORDER BY g), %(bits)s, %(key)s)"
                " FROM generate_series(%(first)s::bigint, %(first)s::bigint + 19999) g",
                {"bits": bits, "key": key, "first": first},
            )
            assert len(batch) == 20_000 and batch == single, (bits, first)
    # Positions in any order, and the same refusals.
    ((shuffled,),) = _fetch("SELECT logicnet_permute_ids(ARRAY[7, 3, 7, 0]::bigint[], 52, %s)", [key])
    assert shuffled == [_fetch("SELECT logicnet_permute_id(%s, 52, %s)", [n, key])[0][0] for n in (7, 3, 7, 0)]
    assert _fetch("SELECT logicnet_permute_ids('{}'::bigint[], 52, %s)", [key]) == [([],)]
    _refused("SELECT logicnet_permute_ids(ARRAY[%s]::bigint[], 52, %s)", [2**52, key], match="outside", error=DataError)
    _refused("SELECT logicnet_permute_ids(ARRAY[-1]::bigint[], 30, %s)", [key], match="outside", error=DataError)


def test_a_bulk_batch_of_ids_is_the_permutation_of_the_next_positions(committed_db):
    """logicnet_next_id_batch draws the next positions of the table's sequence and numbers
    them with the database's key exactly as logicnet_next_id does one at a time."""
    sequence = "contacts_contact_id_seq"
    use_database_role("owner")
    try:
        ((key,),) = _fetch(f"SELECT key FROM {KEY_TABLE}")
        ((last, called),) = _fetch(f"SELECT last_value, is_called FROM {sequence}")
        ((ids,),) = _fetch("SELECT logicnet_next_id_batch(%s::regclass, 5000)", [sequence])
        first = last + 1 if called else last
        ((expected,),) = _fetch(
            "SELECT array_agg(logicnet_permute_id(g, 52, %s) ORDER BY g) FROM generate_series(%s::bigint, %s::bigint) g",
            [key, first, first + 4999],
        )
        ((single,),) = _fetch("SELECT logicnet_next_id(%s::regclass)", [sequence])
        ((after,),) = _fetch("SELECT logicnet_permute_id(%s, 52, %s)", [first + 5000, key])
    finally:
        use_database_role("app")
    assert ids == expected
    assert single == after  # the single-row default continues the same numbering


ID_DEFAULTS = """
    SELECT c.relname, a.attidentity, pg_get_expr(d.adbin, d.adrelid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id'
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE n.nspname = 'public' AND c.relkind = 'r'
"""


def test_every_numbered_table_but_the_exempt_ones_has_permuted_ids(db):
    columns = {table: (identity, default) for table, identity, default in _fetch(ID_DEFAULTS)}
    permuted = {m._meta.db_table for m in permuted_id_models()}
    assert {"contacts_contact", "accounts_organization", "accounts_user", "accounts_membership"} <= permuted
    assert {"accounts_invitation", "jobs_job", "privacy_privacyrequest", "account_emailaddress"} <= permuted
    for table in permuted:
        identity, default = columns[table]
        assert identity == "" and (default or "").startswith("logicnet_next_id("), (table, identity, default)
    # Whatever else numbers its rows (an identity, nextval) is exempt, with a reason.
    exempt = {apps.get_model(label)._meta.db_table for label in ID_EXEMPT}
    exempt.add("django_migrations")  # Django's ledger of applied migrations, not a model
    sequential = {t for t, (identity, default) in columns.items() if identity or "nextval(" in (default or "")}
    assert sequential <= exempt, sequential - exempt
    for label, reason in ID_EXEMPT.items():
        assert reason.strip(), label


def test_sequences_stay_owned_by_their_column(db):
    """TRUNCATE ... RESTART IDENTITY and Django's sequence resets find the sequence."""
    for model in permuted_id_models():
        table = model._meta.db_table
        ((sequence,),) = _fetch("SELECT pg_get_serial_sequence(%s, %s)", [f'"{table}"', model._meta.pk.column])
        assert sequence, table


def test_syncing_again_keeps_the_key_and_the_numbering(committed_db, org_a, alice):
    before = _new_contacts(org_a, alice, 3, "Ion")
    use_database_role("owner")
    try:
        ((key, sequences),) = _fetch(f"SELECT key, sequences FROM {KEY_TABLE}")
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in database_statements():  # what every migrate runs afterwards
                cursor.execute(statement)
        assert _fetch(f"SELECT key, sequences FROM {KEY_TABLE}") == [(key, sequences)]
        ((default,),) = _fetch(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a"
            " ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
            " WHERE d.adrelid = 'contacts_contact'::regclass AND a.attname = 'id'"
        )
        assert default.startswith("logicnet_next_id(")
    finally:
        use_database_role("app")
    after = _new_contacts(org_a, alice, 3, "Ion")
    assert len(set(before + after)) == 6
    with tenant_context(org_a):
        assert Contact.objects.filter(pk__in=before + after).count() == 6
