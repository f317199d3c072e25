"""PostgreSQL's wall: roles, grants and row-level security, derived from the models.

`sync_database_security` runs after every migrate (see LogicnetConfig.ready). It is
idempotent, so a new tenant model gets its policy without anyone writing a migration for
it, and a test checks that every tenant table has one. It also numbers every table's new
rows through the keyed id permutation (logicnet/tenancy/ids.py).
"""

from __future__ import annotations

import hashlib
import time

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connections, models, transaction
from django.db.models import Model

from logicnet.tenancy.ids import id_statements
from logicnet.tenancy.organizations import membership_model, organization_model

# Models that have an organization but are read before any organization is active.
# Each exemption says why; the tenancy tests fail for any other model without a policy.
RLS_EXEMPT: dict[str, str] = {
    settings.TENANCY_MEMBERSHIP_MODEL: (
        "links a user to organizations; read to resolve the organization from the URL and to "
        "list the user's organizations in the switcher, before any organization is active"
    ),
}

# Tables the application may append to but never change (see logicnet/audit).
APPEND_ONLY_TABLES = [
    "audit_auditevent",
    "audit_auditcheckpoint",
    # The consent ledger and the notice texts consent was given to (consent/models.py).
    "consent_consentrecord",
    "consent_noticeversion",
]

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
    """The application's roles: cluster-wide, shared by every database on the server.

    Two login roles, neither superuser nor BYPASSRLS: the application role (web, worker,
    beat), whose policies show one organization, and the platform role (admin process,
    management commands), whose policies show every organization. The application role is
    a member of no other role: an injected `SET ROLE` has nowhere to go.
    """
    app = _quote(settings.DATABASE_APP_USER)
    platform = _quote(settings.DATABASE_PLATFORM_ROLE)
    password = settings.DATABASE_APP_PASSWORD.replace("'", "''")
    platform_password = settings.DATABASE_PLATFORM_PASSWORD.replace("'", "''")
    return [
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(settings.DATABASE_APP_USER)})
            THEN CREATE ROLE {app} LOGIN; END IF;
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(settings.DATABASE_PLATFORM_ROLE)})
            THEN CREATE ROLE {platform} LOGIN; END IF;
        END $$""",
        f"ALTER ROLE {app} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT"
        + (f" PASSWORD '{password}'" if password else ""),
        f"ALTER ROLE {platform} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT"
        + (f" PASSWORD '{platform_password}'" if platform_password else ""),
        # Earlier versions granted the platform role to the application role; take every
        # membership of the application role away (it must reach no other role).
        f"""DO $$ DECLARE granted record; BEGIN
            FOR granted IN SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
                WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = {_literal(settings.DATABASE_APP_USER)})
            LOOP EXECUTE format('REVOKE %I FROM %I', granted.rolname, {_literal(settings.DATABASE_APP_USER)});
            END LOOP;
        END $$""",
        # The schema owner hands the narrow SECURITY DEFINER functions to the platform role
        # (ALTER FUNCTION ... OWNER TO needs membership unless it is a superuser).
        f"""DO $$ BEGIN
            IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
            THEN EXECUTE format('GRANT %I TO %I', {_literal(settings.DATABASE_PLATFORM_ROLE)}, current_user);
            END IF;
        END $$""",
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
    statements += tenant_reference_statements()
    statements += access_table_statements()
    statements += id_statements()
    statements.append(_narrow_functions_statement())
    return statements


def _owner_policy(table: str) -> str:
    """A policy for whoever owns the table now (looked up when the statement runs)."""
    return f"""DO $$ BEGIN EXECUTE format(
        'CREATE POLICY owner_access ON %I TO %I USING (true) WITH CHECK (true)',
        {_literal(table)},
        (SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = {_literal(table)})
    ); END $$"""


# --- references between tenant tables ---------------------------------------------------------
# PostgreSQL checks a foreign key without row-level security: a reference to another
# organization's row passed, while a nonexistent id failed, so a tenant could probe which
# ids exist. A trigger (which runs under the writer's row-level security, so another
# organization's row is as invisible as a missing one) refuses both with one and the same
# foreign-key error, before the constraint's own check. Rows written by the database's own
# triggers (name tokens, from the row they index) are not checked again.
# An INSERT is checked once per statement, over its transition table (one index scan of the referenced key for a
# bulk merge of thousands of rows, where a row trigger planned one query per row and cost
# more than the insert itself); an UPDATE of the column is checked per row (PostgreSQL has
# no transition tables for column-specific UPDATE triggers), only where the value changes (a
# bulk update sets the column on every row it touches), by a function written for that
# reference (see REFERENCE_FUNCTION_PREFIX). The foreign keys are deferred, so
# the statement's check still fails before the constraint's own.

REFERENCE_TRIGGER_PREFIX = "tenant_ref_"

REFERENCE_CHECK_FUNCTION = """CREATE OR REPLACE FUNCTION logicnet_tenant_reference_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    value text;
    found boolean;
    constraint_name name;
BEGIN
    -- TG_ARGV: referencing column, referenced table, referenced column. The column's value
    -- through jsonb rather than a dynamic query (planned anew on every call).
    value := to_jsonb(NEW) ->> TG_ARGV[0];
    IF value IS NULL THEN
        RETURN NEW;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1::bigint)', TG_ARGV[1], TG_ARGV[2])
        USING value INTO found;
    IF NOT found THEN
        SELECT c.conname INTO constraint_name FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
            WHERE c.contype = 'f' AND c.conrelid = TG_RELID AND a.attname = TG_ARGV[0] LIMIT 1;
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('insert or update on table "%s" violates foreign key constraint "%s"',
                             TG_TABLE_NAME, constraint_name),
            DETAIL = format('Key (%s)=(%s) is not present in table "%s".', TG_ARGV[0], value, TG_ARGV[1]);
    END IF;
    RETURN NEW;
END $$"""

INSERTED_REFERENCES_CHECK_FUNCTION = """CREATE OR REPLACE FUNCTION logicnet_tenant_references_inserted()
RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    value text;
    missing bigint;
    constraint_name name;
BEGIN
    -- TG_ARGV: referencing column, referenced table, referenced column. Rows inserted by
    -- another trigger (name tokens) are not checked again, as with the row trigger.
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;
    END IF;
    -- A column dropped since the triggers were made (a migration run backwards) has nothing
    -- to check; the statement trigger, unlike a column's row trigger, is not dropped with it.
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = TG_RELID AND attname = TG_ARGV[0]
                   AND NOT attisdropped) THEN
        RETURN NULL;
    END IF;
    -- The distinct values referenced, counted among the rows the writer may see: one index
    -- scan of the referenced key for the statement. (Written as an anti-join, the planner,
    -- with no statistics on the transition table, compared every inserted row with every
    -- visible row of the referenced table: 740,000 comparisons for 4,500 contacts naming
    -- 360 companies, growing with both.) The referenced column is unique, so a count short
    -- of the distinct values means one of them is missing or another organization's.
    EXECUTE format('SELECT cardinality(w.ids) - (SELECT count(*) FROM %2$I t WHERE t.%3$I = ANY (w.ids))'
                   ' FROM (SELECT array_agg(DISTINCT n.%1$I) AS ids FROM inserted_rows n'
                   ' WHERE n.%1$I IS NOT NULL) w',
                   TG_ARGV[0], TG_ARGV[1], TG_ARGV[2]) INTO missing;
    IF coalesce(missing, 0) = 0 THEN
        RETURN NULL;
    END IF;
    -- Only to name one of the missing values in the error.
    EXECUTE format('SELECT n.%1$I::text FROM inserted_rows n WHERE n.%1$I IS NOT NULL'
                   ' AND NOT EXISTS (SELECT 1 FROM %2$I t WHERE t.%3$I = n.%1$I) LIMIT 1',
                   TG_ARGV[0], TG_ARGV[1], TG_ARGV[2]) INTO value;
    IF value IS NOT NULL THEN
        SELECT c.conname INTO constraint_name FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
            WHERE c.contype = 'f' AND c.conrelid = TG_RELID AND a.attname = TG_ARGV[0] LIMIT 1;
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('insert or update on table "%s" violates foreign key constraint "%s"',
                             TG_TABLE_NAME, constraint_name),
            DETAIL = format('Key (%s)=(%s) is not present in table "%s".', TG_ARGV[0], value, TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$"""


def tenant_references() -> list[tuple[type[Model], models.Field]]:
    """Every foreign key from a table under row-level security to another one."""
    walled = {m._meta.concrete_model for m in rls_models()}
    found = []
    for model in rls_models():
        for field in model._meta.concrete_fields:
            target = getattr(field, "related_model", None)
            if (
                (field.many_to_one or field.one_to_one)
                and target is not None
                and target._meta.concrete_model in walled
                and field.db_constraint
            ):
                found.append((model, field))
    return found


# The row check of an UPDATE, one function per reference with its query written out: the
# generic logicnet_tenant_reference_check (still what migrations name) reads the column
# through to_jsonb(NEW) and plans a dynamic query on every call, about 80 µs a changed row
# (most of a bulk update of contacts that sets their company); a static query is prepared
# once per session. No SET search_path on these (a function's SET clause costs a settings
# save and restore on every call): every name in them is schema-qualified, and they run
# as the writer, with no privilege of their own.
REFERENCE_FUNCTION_PREFIX = "tenant_ref_check_"

REFERENCE_REFUSED_FUNCTION = """CREATE OR REPLACE FUNCTION logicnet_tenant_reference_refused(
    relation oid, table_name name, column_name text, target text, value text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    constraint_name name;
BEGIN
    SELECT c.conname INTO constraint_name FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.contype = 'f' AND c.conrelid = relation AND a.attname = column_name LIMIT 1;
    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
        MESSAGE = format('insert or update on table "%s" violates foreign key constraint "%s"',
                         table_name, constraint_name),
        DETAIL = format('Key (%s)=(%s) is not present in table "%s".', column_name, value, target);
END $$"""


def _reference_function_name(table: str, column: str) -> str:
    digest = hashlib.sha256(f"{table}.{column}".encode()).hexdigest()[:8]
    return f"{REFERENCE_FUNCTION_PREFIX}{table}_{column}"[:54] + "_" + digest


def _reference_function(model: type[Model], field: models.Field) -> str:
    table, column = model._meta.db_table, field.column
    target = field.target_field
    target_table = target.model._meta.db_table
    value = f"NEW.{_quote(column)}"
    return f"""CREATE FUNCTION public.{_quote(_reference_function_name(table, column))}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Under the writer's row-level security: another organization's row is as missing as
    -- one that does not exist.
    IF {value} IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM public.{_quote(target_table)} t WHERE t.{_quote(target.column)} = {value}
    ) THEN
        PERFORM public.logicnet_tenant_reference_refused(
            TG_RELID, TG_TABLE_NAME, {_literal(column)}, {_literal(target_table)}, {value}::text);
    END IF;
    RETURN NEW;
END $$"""


def tenant_reference_statements() -> list[str]:
    statements = [REFERENCE_CHECK_FUNCTION, INSERTED_REFERENCES_CHECK_FUNCTION, REFERENCE_REFUSED_FUNCTION]
    for model in rls_models():
        table = model._meta.db_table
        statements.append(
            f"""DO $$ DECLARE t record; BEGIN
                FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = {_literal(_quote(table))}::regclass
                    AND tgname LIKE '{REFERENCE_TRIGGER_PREFIX.replace("_", chr(92) + "_")}%'
                LOOP EXECUTE format('DROP TRIGGER %I ON %I', t.tgname, {_literal(table)}); END LOOP;
            END $$"""
        )
    # The per-reference functions of the last sync go with their triggers (dropped above),
    # so a removed reference leaves none behind.
    statements.append(
        f"""DO $$ DECLARE f record; BEGIN
            FOR f IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'public' AND p.proname LIKE '{REFERENCE_FUNCTION_PREFIX.replace("_", chr(92) + "_")}%'
            LOOP EXECUTE format('DROP FUNCTION %s', f.signature); END LOOP;
        END $$"""
    )
    for model, field in tenant_references():
        table, column = model._meta.db_table, field.column
        target = field.target_field
        trigger = _quote(f"{REFERENCE_TRIGGER_PREFIX}{column}"[:63])
        inserted = _quote(f"{REFERENCE_TRIGGER_PREFIX}{column}"[:59] + "_ins")
        arguments = ", ".join(_literal(v) for v in (column, target.model._meta.db_table, target.column))
        statements += [
            _reference_function(model, field),
            # The arguments name the reference for anyone reading the catalog; the function
            # has it written in.
            f"CREATE TRIGGER {trigger} BEFORE UPDATE OF {_quote(column)} ON {_quote(table)} FOR EACH ROW"
            f" WHEN (pg_trigger_depth() = 0 AND NEW.{_quote(column)} IS DISTINCT FROM OLD.{_quote(column)})"
            f" EXECUTE FUNCTION public.{_quote(_reference_function_name(table, column))}({arguments})",
            f"CREATE TRIGGER {inserted} AFTER INSERT ON {_quote(table)} REFERENCING NEW TABLE AS inserted_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION logicnet_tenant_references_inserted({arguments})",
        ]
    return statements


# --- the tables that decide access -----------------------------------------------------------
# Organizations, memberships and users are read before any organization is active (the
# middleware resolves the organization from the URL and the user's membership; sign-in
# looks a user up by email), so reading them stays open to the application role. Writing
# them does not: with organization A active, the web role could insert an owner membership
# for another organization's user, change or delete other organizations' memberships,
# flip another organization's two-factor requirement and make a user superuser.

USER_POLICY_VALUE = "NULLIF(current_setting('app.user_id', true), '')::bigint"
ORGANIZATION_POLICY_VALUE = "NULLIF(current_setting('app.organization_id', true), '')::bigint"

# Tables holding one user's rows that carry no policy keyed by the acting user, each with
# its reason; the tenancy tests fail for any other table naming a user without one.
USER_TABLES_OUTSIDE_POLICIES: dict[str, str] = {
    "accounts_user": (
        "read before anyone acts: the session's user is loaded by id, and sign-in, sign-up and "
        "password reset find a person by the address allauth keeps in its email column (so no "
        "exception is needed on account_emailaddress); organization pages show teammates; writes "
        "are limited by column privileges"
    ),
    "accounts_membership": "the organization wall's own table: policies keyed by the active organization and user",
    "accounts_user_groups": "the web role may only delete these rows (with their user), never add one",
    "accounts_user_user_permissions": "the web role may only delete these rows (with their user), never add one",
    "usage_cookiechoice": (
        "proof of a cookie-banner answer, written for visitors who are not signed in (a random "
        "visitor id) as well as for users; holds the choice, a notice version and, for 90 days, "
        "the IP address and browser; read only by the admin process"
    ),
    "django_session": (
        "no user column: the row is found by its key (the cookie, itself the credential) before "
        "anyone is signed in, and names its user only inside the encoded session data; the "
        "session records that name a user (usersessions_usersession) are under a policy"
    ),
}

# Columns only the platform role may change (the web role gets UPDATE on every other one,
# so a new column needs no change here): who is platform staff, and which organizations
# are active (offboarding is the platform's).
PLATFORM_ONLY_COLUMNS = {
    settings.AUTH_USER_MODEL: {"id", "is_staff", "is_superuser"},
    settings.TENANCY_ORGANIZATION_MODEL: {"id", "is_active", "created_at"},
    settings.TENANCY_MEMBERSHIP_MODEL: {"id", "organization_id", "user_id", "created_at"},
}

# Platform permissions: the web role may not grant a user a group or an admin permission.
PERMISSION_TABLES_READ_ONLY = [
    "auth_group",
    "auth_permission",
    "auth_group_permissions",
]
# Rows the web role may delete with their user (Django deletes them with the user), but
# never add.
PERMISSION_LINKS_DELETE_ONLY = [(settings.AUTH_USER_MODEL, "groups"), (settings.AUTH_USER_MODEL, "user_permissions")]


def _policies(raw_table: str, app: str, platform: str, policies: dict[str, str]) -> list[str]:
    table = _quote(raw_table)
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
    ]
    existing = ["tenant_isolation", "platform_access", "access_read", "access_insert", "access_update"]
    existing += ["access_delete", "access_own"]
    statements += [f"DROP POLICY IF EXISTS {name} ON {table}" for name in existing]
    statements += [
        f"CREATE POLICY {name} ON {table} {clause}".replace("{app}", app) for name, clause in policies.items()
    ]
    statements.append(f"CREATE POLICY platform_access ON {table} TO {platform} USING (true) WITH CHECK (true)")
    # As for the tenant tables: a non-superuser owner's data migrations still see the rows.
    statements += [f"DROP POLICY IF EXISTS owner_access ON {table}", _owner_policy(raw_table)]
    return statements


def _column_grants(label: str, app: str) -> list[str]:
    model = apps.get_model(label)
    table = _quote(model._meta.db_table)
    allowed = [_quote(f.column) for f in model._meta.concrete_fields if f.column not in PLATFORM_ONLY_COLUMNS[label]]
    return [f"REVOKE UPDATE ON {table} FROM {app}", f"GRANT UPDATE ({', '.join(allowed)}) ON {table} TO {app}"]


def user_owner_field(model: type[Model]) -> models.Field:
    """The field that names a user-owned row's owner: its foreign key to the user model,
    or else its foreign key to another user-owned model (a backup code's device, an email
    confirmation's address), whose own policy then decides."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    owned = {apps.get_model(label)._meta.concrete_model for label in settings.TENANCY_USER_OWNED_MODELS}
    fields = [f for f in model._meta.concrete_fields if f.many_to_one or f.one_to_one]
    for field in fields:
        if field.related_model is user_model:
            return field
    for field in fields:
        if field.related_model._meta.concrete_model in owned and field.related_model is not model:
            return field
    raise ValueError(f"{model._meta.label} names no user and no user-owned row")


def user_owned_predicate(model: type[Model]) -> str:
    field = user_owner_field(model)
    if field.related_model is apps.get_model(settings.AUTH_USER_MODEL):
        return f"{_quote(field.column)} = {USER_POLICY_VALUE}"
    # The parent table's policy runs inside this subquery (as the same role): the row is
    # visible exactly when its parent is, that is when the parent is the acting user's.
    parent = field.related_model._meta
    return (
        f"EXISTS (SELECT 1 FROM {_quote(parent.db_table)} parent"
        f" WHERE parent.{_quote(field.target_field.column)} = {_quote(field.column)})"
    )


def access_table_statements() -> list[str]:
    app = _quote(settings.DATABASE_APP_USER)
    platform = _quote(settings.DATABASE_PLATFORM_ROLE)
    organization = organization_model()._meta.db_table
    membership = membership_model()._meta.db_table
    user = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
    org, me = ORGANIZATION_POLICY_VALUE, USER_POLICY_VALUE
    statements = _policies(
        membership,
        app,
        platform,
        {
            "access_read": "FOR SELECT TO {app} USING (true)",
            # Only the acting user joins, only the active organization: sign-up (its new
            # organization) and accepting an invitation (inside the inviting organization).
            "access_insert": f"FOR INSERT TO {{app}} WITH CHECK (organization_id = {org} AND user_id = {me})",
            "access_update": f"FOR UPDATE TO {{app}} USING (organization_id = {org}) WITH CHECK (organization_id = {org})",
            "access_delete": f"FOR DELETE TO {{app}} USING (organization_id = {org})",
        },
    )
    statements += _policies(
        organization,
        app,
        platform,
        {
            "access_read": "FOR SELECT TO {app} USING (true)",
            "access_insert": "FOR INSERT TO {app} WITH CHECK (is_active)",
            "access_update": f"FOR UPDATE TO {{app}} USING (id = {org}) WITH CHECK (id = {org})",
            "access_delete": f"FOR DELETE TO {{app}} USING (id = {org})",
        },
    )
    statements += _policies(
        user,
        app,
        platform,
        {
            "access_read": "FOR SELECT TO {app} USING (true)",
            # Sign-up creates people, never platform staff (createsuperuser runs on the
            # platform alias: `manage.py createsuperuser --database platform`).
            "access_insert": "FOR INSERT TO {app} WITH CHECK (NOT is_staff AND NOT is_superuser)",
            "access_update": "FOR UPDATE TO {app} USING (true) WITH CHECK (true)",
            "access_delete": "FOR DELETE TO {app} USING (true)",
        },
    )
    for label in settings.TENANCY_USER_OWNED_MODELS:
        # A user's own rows (data packages, email addresses, two-factor devices and backup
        # codes, session records): the web role reads and writes only the acting user's, so
        # a forgotten filter, a guessed id or an injected query shows nobody else's address,
        # device or session, and cannot remove another user's second factor. (As for the
        # organization setting, a statement that first sets app.user_id itself is not
        # stopped here: the setting is a key the application holds, not a credential.)
        predicate = user_owned_predicate(apps.get_model(label))
        statements += _policies(
            apps.get_model(label)._meta.db_table,
            app,
            platform,
            {"access_own": f"FOR ALL TO {{app}} USING ({predicate}) WITH CHECK ({predicate})"},
        )
    for label in PLATFORM_ONLY_COLUMNS:
        statements += _column_grants(label, app)
    for table in PERMISSION_TABLES_READ_ONLY:
        statements.append(f"REVOKE INSERT, UPDATE, DELETE ON {_quote(table)} FROM {app}")
    for label, field in PERMISSION_LINKS_DELETE_ONLY:
        through = apps.get_model(label)._meta.get_field(field).remote_field.through
        statements.append(f"REVOKE INSERT, UPDATE ON {_quote(through._meta.db_table)} FROM {app}")
    return statements


# Narrow SECURITY DEFINER functions: named logicnet_*, created by migrations of the app
# whose table they read (or below), owned by the platform role so they see every
# organization, callable by the application role. Each returns ids or one fixed answer,
# never rows, so the web role can ask "which tasks are due" but not read another tenant.
NARROW_FUNCTION_PREFIX = "logicnet\\_%"


def _narrow_functions_statement() -> str:
    app = settings.DATABASE_APP_USER
    platform = settings.DATABASE_PLATFORM_ROLE
    return f"""DO $$ DECLARE fn record; BEGIN
        FOR fn IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.prosecdef AND p.proname LIKE '{NARROW_FUNCTION_PREFIX}'
        LOOP
            EXECUTE format('ALTER FUNCTION %s OWNER TO %I', fn.signature, {_literal(platform)});
            EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public', fn.signature);
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn.signature);
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I, %I', fn.signature, {_literal(app)}, {_literal(platform)});
        END LOOP;
    END $$"""


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
