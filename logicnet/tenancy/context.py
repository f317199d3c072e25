"""The active organization: one context manager raises both tenant walls.

Wall 1 is django-scopes: a scoped manager raises ScopeError when no organization is
active. Wall 2 is PostgreSQL row-level security, keyed by the transaction-local setting
`app.organization_id`. Both are set together here and only here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connection, transaction
from django_scopes import get_scope, scope, scopes_disabled
from psycopg.pq import TransactionStatus

_active_organization: ContextVar[int | None] = ContextVar("active_organization", default=None)
# The signed-in person on whose behalf the code runs (the request's user, the user a
# service acts for). The tables that decide access (memberships) let the application role
# add a membership only for this user in the active organization: a bug that names
# another organization's user cannot make them an owner here.
_acting_user: ContextVar[int | None] = ContextVar("acting_user", default=None)


def active_organization_id() -> int | None:
    return _active_organization.get()


def acting_user_id() -> int | None:
    return _acting_user.get()


def _set_organization_setting(organization_id: int | None, user_id: int | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.organization_id', %s, true), set_config('app.user_id', %s, true)",
            ["" if organization_id is None else str(organization_id), "" if user_id is None else str(user_id)],
        )


@contextmanager
def acting_user(user) -> Iterator[None]:
    """Run the block on behalf of `user` (a User, an id, or None for nobody): every
    tenant_context opened inside it sets `app.user_id` with the organization. The
    organization middleware wraps each view in it; services that add a membership (sign-up,
    accepting an invitation) name the user who joins."""
    user_id = getattr(user, "pk", user)
    user_id = int(user_id) if user_id is not None else None
    previous_user = _acting_user.get()
    token = _acting_user.set(user_id)
    try:
        if connection.in_atomic_block and _active_organization.get() is not None and not _transaction_failed():
            # Already inside an organization's transaction: apply it now, and put the
            # enclosing block's user back on the way out.
            with transaction.atomic():
                _set_organization_setting(_active_organization.get(), user_id)
                yield
                if not transaction.get_rollback() and not _transaction_failed():
                    _set_organization_setting(_active_organization.get(), previous_user)
        else:
            yield
    finally:
        _acting_user.reset(token)


@contextmanager
def tenant_context(organization) -> Iterator[None]:
    """Run the block for one organization, inside a transaction.

    1. activate the django-scopes scope (application wall);
    2. open a transaction (or a savepoint when one is open already);
    3. set `app.organization_id` with set_config(..., true): transaction-local, so it can
       never leak into the next transaction on a pooled connection (a session-level
       setting was seen to do exactly that);
    4. inside an enclosing transaction, put back the enclosing block's organization (or
       none) on the way out: a transaction-local setting outlives the savepoint, so without
       this the rest of the enclosing transaction would still see this organization's rows.
       On an exception nothing is sent: rolling back the savepoint restores the setting.
    """
    organization_id = int(getattr(organization, "pk", organization))
    user_id = _acting_user.get()
    previous = _active_organization.get()
    enclosing_transaction = connection.in_atomic_block
    # Nested in a block of the same organization (a view calling a selector that enters
    # the context again): the setting already holds this organization, so only the
    # savepoint is opened, not two more round trips to set and restore it.
    again = enclosing_transaction and previous == organization_id and _scoped_to(organization_id)
    token = _active_organization.set(organization_id)
    try:
        with scope(organization=organization_id), transaction.atomic():
            if not again:
                _set_organization_setting(organization_id, user_id)
            yield
            if enclosing_transaction and not again and not transaction.get_rollback() and not _transaction_failed():
                _set_organization_setting(previous, user_id if previous is not None else None)
    finally:
        _active_organization.reset(token)


@contextmanager
def user_context(user) -> Iterator[None]:
    """Run the block for one signed-in user with no organization active, inside a
    transaction: `app.user_id` is set transaction-local (as tenant_context does), so the
    tables keyed by the acting user (settings.TENANCY_USER_OWNED_MODELS) show and accept
    only this user's rows. Refused inside an organization's block: it would replace that
    block's settings for the rest of its transaction."""
    if _active_organization.get() is not None:
        raise RuntimeError("user_context() inside tenant_context(): use acting_user() there")
    user_id = int(getattr(user, "pk", user))
    with acting_user(user_id), transaction.atomic():
        _set_organization_setting(None, user_id)
        yield
        if not transaction.get_rollback() and not _transaction_failed():
            _set_organization_setting(None, None)


def _scoped_to(organization_id: int) -> bool:
    current = get_scope()
    return bool(current.get("_enabled")) and current.get("organization") == organization_id


def _transaction_failed() -> bool:
    """True when PostgreSQL refuses every command until a rollback: sending one more
    would replace the error that caused it with "current transaction is aborted"."""
    raw = connection.connection
    return raw is not None and raw.info.transaction_status == TransactionStatus.INERROR


class PlatformAccessUnavailable(RuntimeError):
    """This process has no platform database alias (the customer-facing web process):
    cross-tenant work belongs in the admin process, the worker, beat or a command."""


_platform_bypass_active: ContextVar[bool] = ContextVar("platform_bypass_active", default=False)


def platform_bypass_active() -> bool:
    """True inside `platform_bypass` (or `platform_reads`): the ORM goes to the platform
    alias (logicnet.tenancy.routers) and the key cache serves any organization's key."""
    return _platform_bypass_active.get()


def active_alias() -> str:
    """The database alias the ORM uses here (logicnet.tenancy.routers): the platform one
    inside `platform_bypass` or `platform_reads`, the default one otherwise. Raw SQL and
    transaction hooks that belong with the ORM's work use it, or they would run on another
    connection, as another role, in another transaction."""
    return settings.PLATFORM_DATABASE if _platform_bypass_active.get() and settings.PLATFORM_DATABASE else "default"


def platform_database() -> str:
    """The platform alias of this process, or a clear refusal where it has none."""
    alias = settings.PLATFORM_DATABASE
    if alias is None:
        raise PlatformAccessUnavailable(
            f"cross-tenant work needs the platform database alias, which the {settings.LOGICNET_PROCESS!r} "
            "process does not have; run it in the admin process, a Celery task or a management command "
            "(LOGICNET_PROCESS=admin, worker, beat or command)"
        )
    return alias


@contextmanager
def platform_reads() -> Iterator[None]:
    """Route the block's ORM queries to the platform alias, without an audit event: only
    for the admin's pages that change nothing (a change is audited, see admin_site).
    Everything else uses `platform_bypass`."""
    alias = platform_database()
    token = _platform_bypass_active.set(True)
    try:
        with transaction.atomic(using=alias), scopes_disabled():
            yield
    finally:
        _platform_bypass_active.reset(token)


@contextmanager
def platform_bypass(*, actor, reason: str, organization=None, ip_address: str | None = None) -> Iterator[None]:
    """Cross-tenant work (platform admin, key rotation, data-subject lookups): explicit and
    audited.

    1. refuse in a process without the platform alias (settings.PLATFORM_DATABASE): the
       web role itself can reach no role that sees every organization;
    2. open a transaction on the platform alias, whose login role's policies see every
       row, and route every ORM query of the block to it (logicnet.tenancy.routers);
    3. disable django-scopes and write one audit event naming who asked and why. A bypass
       nested in another is the same deliberate act: no second event.
    """
    from logicnet.audit.services import record_event

    alias = platform_database()
    if _platform_bypass_active.get():
        with transaction.atomic(using=alias), scopes_disabled():
            yield
        return
    with platform_reads():
        record_event(
            action="platform.bypass",
            actor=actor,
            organization=organization,
            ip_address=ip_address,
            details={"reason": reason},
        )
        yield
