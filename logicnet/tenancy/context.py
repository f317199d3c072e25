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
_platform_bypass_active: ContextVar[bool] = ContextVar("platform_bypass_active", default=False)


def active_organization_id() -> int | None:
    return _active_organization.get()


def platform_bypass_active() -> bool:
    """True inside `platform_bypass`: the audited cross-tenant work (the key cache asks)."""
    return _platform_bypass_active.get()


def _set_organization_setting(organization_id: int | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.organization_id', %s, true)",
            ["" if organization_id is None else str(organization_id)],
        )


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
                _set_organization_setting(organization_id)
            yield
            if enclosing_transaction and not again and not transaction.get_rollback() and not _transaction_failed():
                _set_organization_setting(previous)
    finally:
        _active_organization.reset(token)


def _scoped_to(organization_id: int) -> bool:
    current = get_scope()
    return bool(current.get("_enabled")) and current.get("organization") == organization_id


def _transaction_failed() -> bool:
    """True when PostgreSQL refuses every command until a rollback: sending one more
    would replace the error that caused it with "current transaction is aborted"."""
    raw = connection.connection
    return raw is not None and raw.info.transaction_status == TransactionStatus.INERROR


@contextmanager
def as_platform_role() -> Iterator[None]:
    """Switch the current transaction to the platform role, whose policies see every row.

    Internal building block of `platform_bypass` and of the audit log's own writes (which
    must not audit themselves). Callers must already be inside `transaction.atomic()`.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("as_platform_role() needs an open transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (previous_role,) = cursor.fetchone()
        switch = previous_role == settings.DATABASE_APP_USER
        if switch:
            cursor.execute(f'SET LOCAL ROLE "{settings.DATABASE_PLATFORM_ROLE}"')
    try:
        yield
    finally:
        # After a failed statement the enclosing atomic block must roll back, and that
        # rollback undoes SET LOCAL ROLE too; sending the reset would only hide the error.
        if switch and not transaction.get_rollback() and not _transaction_failed():
            with connection.cursor() as cursor:
                cursor.execute(f'SET LOCAL ROLE "{previous_role}"')


@contextmanager
def platform_bypass(*, actor, reason: str, organization=None, ip_address: str | None = None) -> Iterator[None]:
    """Cross-tenant work (platform admin, retention sweeps): explicit and audited.

    Disables django-scopes and switches the transaction to the platform role. The bypass
    itself is written to the audit log first, with who asked and why.
    """
    from logicnet.audit.services import record_event

    with transaction.atomic():
        record_event(
            action="platform.bypass",
            actor=actor,
            organization=organization,
            ip_address=ip_address,
            details={"reason": reason},
        )
        token = _platform_bypass_active.set(True)
        try:
            with scopes_disabled(), as_platform_role():
                yield
        finally:
            _platform_bypass_active.reset(token)
