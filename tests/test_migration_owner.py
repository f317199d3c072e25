"""On a managed PostgreSQL the role that owns the tables and runs migrations is not a
superuser, so FORCE ROW LEVEL SECURITY applies to it too: without a policy of its own a data
migration would read and change nothing. sync_database_security gives the owner one."""

from __future__ import annotations

import uuid

from django.db import connection, transaction

from contacts.models import Tag
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.rls import database_statements
from tests.conftest import use_database_role


class _RollBack(Exception):
    pass


def _count_as(cursor, role: str, table: str) -> int:
    cursor.execute(f'SET LOCAL ROLE "{role}"')
    cursor.execute(f'SELECT count(*) FROM "{table}"')
    (count,) = cursor.fetchone()
    cursor.execute("RESET ROLE")
    return count


def test_a_data_migration_run_by_a_non_superuser_owner_sees_rows(committed_db, org_a):
    with tenant_context(org_a):
        Tag.objects.create(organization=org_a, name="Partner")
    table = Tag._meta.db_table
    migrator = f"logicnet_test_migrator_{uuid.uuid4().hex[:8]}"
    use_database_role("owner")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # A stand-in for a managed service's owner: neither superuser nor BYPASSRLS.
            # Everything here, the role included, is rolled back at the end.
            cursor.execute(f'CREATE ROLE "{migrator}" NOLOGIN NOSUPERUSER NOBYPASSRLS')
            cursor.execute(f'ALTER TABLE "{table}" OWNER TO "{migrator}"')
            cursor.execute(f'DROP POLICY IF EXISTS owner_access ON "{table}"')
            assert _count_as(cursor, migrator, table) == 0, "forced RLS hides the rows from a plain owner"

            for statement in database_statements():  # what migrate runs afterwards
                cursor.execute(statement)

            assert _count_as(cursor, migrator, table) == 1
            cursor.execute(f'SET LOCAL ROLE "{migrator}"')
            cursor.execute(f"UPDATE \"{table}\" SET name = name || ' (migrated)'")
            assert cursor.rowcount == 1
            cursor.execute("RESET ROLE")
            raise _RollBack
    except _RollBack:
        pass
    finally:
        use_database_role("app")
    with tenant_context(org_a):
        assert list(Tag.objects.values_list("name", flat=True)) == ["Partner"]
