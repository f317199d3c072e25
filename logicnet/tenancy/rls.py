"""PostgreSQL's wall: roles, grants and row-level security, derived from the models.

`sync_database_security` runs after every migrate (see LogicnetConfig.ready). It is
idempotent, so a new tenant model gets its policy without anyone writing a migration for
it, and a test checks that every tenant table has one.
"""

from __future__ import annotations

import time

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import Model

from logicnet.tenancy.organizations import organization_model

# Models that have an organization but are read before any organization is active.
# Each exemption says why; the tenancy tests fail for any other model without a policy.
RLS_EXEMPT: dict[str, str] = {
    settings.TENANCY_MEMBERSHIP_MODEL: (
        "links a user to organizations; read to resolve the organization from the URL and to "
        "list the user's organizations in the switcher, before any organization is active"
    ),
}

# Tables the application may append to but never change (see logicnet/audit).
APPEND_ONLY_TABLES = ["audit_auditevent"]

POLICY_PREDICATE = "organization_id = NULLIF(current_setting('app.organization_id', true), '')::bigint"


def tenant_models() -> list[type[Model]]:
    """Every installed model with a foreign key named `organization` to Organization.

    Includes the through tables Django creates for a many-to-many to Organization (they
    are tables of their own) and proxies (the project check looks for their names in views).
    """
    organization = organization_model()
    found = []
    for model in apps.get_models(include_auto_created=True):
        field = next((f for f in model._meta.get_fields() if f.name == "organization"), None)
        if field is not None and getattr(field, "related_model", None) is organization:
            found.append(model)
    return found


def rls_models() -> list[type[Model]]:
    """The tenant models whose tables get row-level security (a proxy's table is its
    concrete model's, so proxies are left out)."""
    return [m for m in tenant_models() if m._meta.label not in RLS_EXEMPT and not m._meta.proxy]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def role_statements() -> list[str]:
    """The application's roles: cluster-wide, shared by every database on the server."""
    app = _quote(settings.DATABASE_APP_USER)
    platform = _quote(settings.DATABASE_PLATFORM_ROLE)
    password = settings.DATABASE_APP_PASSWORD.replace("'", "''")
    return [
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(settings.DATABASE_APP_USER)})
            THEN CREATE ROLE {app} LOGIN; END IF;
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(settings.DATABASE_PLATFORM_ROLE)})
            THEN CREATE ROLE {platform} NOLOGIN; END IF;
        END $$""",
        # NOINHERIT: membership in the platform role only lets the app SET ROLE to it
        # explicitly (platform_bypass); it does not quietly widen what the app sees.
        f"ALTER ROLE {app} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT"
        + (f" PASSWORD '{password}'" if password else ""),
        f"ALTER ROLE {platform} WITH NOLOGIN NOSUPERUSER NOBYPASSRLS",
        f"GRANT {platform} TO {app}",
    ]


def database_statements() -> list[str]:
    """Grants and row-level security in the current database."""
    app = _quote(settings.DATABASE_APP_USER)
    platform = _quote(settings.DATABASE_PLATFORM_ROLE)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {app}, {platform}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}, {platform}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}, {platform}",
    ]
    for table in APPEND_ONLY_TABLES:
        statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {_quote(table)} FROM {app}, {platform}")
    for model in rls_models():
        table = _quote(model._meta.db_table)
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
            f"CREATE POLICY tenant_isolation ON {table} TO {app} "
            f"USING ({POLICY_PREDICATE}) WITH CHECK ({POLICY_PREDICATE})",
            f"DROP POLICY IF EXISTS platform_access ON {table}",
            f"CREATE POLICY platform_access ON {table} TO {platform} USING (true) WITH CHECK (true)",
            # FORCE applies the policies to the table's owner too. Where the owner (the role
            # that migrates) is not a superuser, as on managed PostgreSQL services, a data
            # migration would see no row at all; the owner could lift FORCE anyway, so a
            # policy of its own gives away nothing. The web role never connects as it.
            f"DROP POLICY IF EXISTS owner_access ON {table}",
            _owner_policy(model._meta.db_table),
        ]
    return statements


def _owner_policy(table: str) -> str:
    """A policy for whoever owns the table now (looked up when the statement runs)."""
    return f"""DO $$ BEGIN EXECUTE format(
        'CREATE POLICY owner_access ON %I TO %I USING (true) WITH CHECK (true)',
        {_literal(table)},
        (SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = {_literal(table)})
    ); END $$"""


def security_statements() -> list[str]:
    return role_statements() + database_statements()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# Raised when another session changes the same role at the same moment (parallel test
# databases on one server, two deploys migrating at once): "tuple concurrently updated",
# or a duplicate role from a CREATE ROLE race. The statements are idempotent; run them again.
_ROLE_RACE_SQLSTATES = {"XX000", "23505", "42710"}


def sync_database_security(sender=None, using: str = "default", **kwargs) -> None:
    """Provision the roles, then the grants and policies. The roles are shared by every
    database on the server, so that part retries when a concurrent migrate races it."""
    for attempt in range(1, 6):
        try:
            with transaction.atomic(using=using), connections[using].cursor() as cursor:
                for statement in role_statements():
                    cursor.execute(statement)
            break
        except DatabaseError as exc:
            if attempt == 5 or getattr(exc.__cause__, "sqlstate", None) not in _ROLE_RACE_SQLSTATES:
                raise
            time.sleep(0.05 * attempt)
    # One transaction: between DROP POLICY and CREATE POLICY no other session sees a table
    # without its policy (and FORCE RLS without a policy would show nothing, not everything).
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for statement in database_statements():
            cursor.execute(statement)
