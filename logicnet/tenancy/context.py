"""The active organization: one context manager raises both tenant walls.

Wall 1 is django-scopes: a scoped manager raises ScopeError when no organization is
active. Wall 2 is PostgreSQL row-level security, keyed by the transaction-local setting
`app.organization_id`. Both are set together here and only here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
# Inside a user block (user_context, which the request middleware opens for every request):
# the one-tuple holds the user id the block's transaction has set in `app.user_id`, so a
# nested block or an organization's block can put it back on the way out, and sign-in can
# switch it (act_as) once it has proved who the visitor is.
_user_block: ContextVar[tuple[int | None] | None] = ContextVar("user_block", default=None)
# An anonymous request's block opens its transaction only when sign-in proves a user: the
# exit stack to open it on, and how deep the atomic blocks were when the request began.
_pending_transaction: ContextVar[tuple[ExitStack, int] | None] = ContextVar("pending_transaction", default=None)


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
                _set_organization_setting(previous, user_id if previous is not None else _block_user())
    finally:
        _active_organization.reset(token)


@contextmanager
def user_context(user) -> Iterator[None]:
    """Run the block for one signed-in user (or None: nobody) with no organization active,
    inside a transaction: `app.user_id` is set transaction-local (as tenant_context does),
    so the tables keyed by the acting user (settings.TENANCY_USER_OWNED_MODELS) show and
    accept only this user's rows. Refused inside an organization's block: it would replace
    that block's settings for the rest of its transaction. Nested in another user block,
    the enclosing block's user is put back on the way out."""
    if _active_organization.get() is not None:
        raise RuntimeError("user_context() inside tenant_context(): use acting_user() there")
    user_id = getattr(user, "pk", user)
    user_id = int(user_id) if user_id is not None else None
    enclosing = _user_block.get()
    block = _user_block.set((user_id,))
    try:
        with acting_user(user_id), transaction.atomic():
            # Nobody acting and nothing set before: no round trip (an anonymous request).
            if user_id is not None or (enclosing is not None and enclosing[0] is not None):
                _set_organization_setting(None, user_id)
            yield
            restore = enclosing[0] if enclosing is not None else None
            if _block_user() != restore and not transaction.get_rollback() and not _transaction_failed():
                _set_organization_setting(None, restore)
    finally:
        _user_block.reset(block)


@contextmanager
def request_user_block(user) -> Iterator[None]:
    """The request's user block (ActingUserMiddleware): for a signed-in user, user_context;
    for nobody, a block that touches the database only if sign-in proves a user, when
    act_as opens the request's transaction (a page that reads nothing, such as the public
    privacy policy, still needs no connection)."""
    if user is not None:
        with user_context(user):
            yield
        return
    if _active_organization.get() is not None:
        raise RuntimeError("request_user_block() inside tenant_context()")
    with ExitStack() as stack:
        pending = _pending_transaction.set((stack, len(connection.atomic_blocks)))
        block = _user_block.set((None,))
        acting = _acting_user.set(None)
        try:
            yield
        finally:
            _acting_user.reset(acting)
            _user_block.reset(block)
            _pending_transaction.reset(pending)


def act_as(user) -> bool:
    """From here to the end of the enclosing user block (the request's, see
    ActingUserMiddleware), act for `user`: what sign-in does once the visitor has proved
    who they are (a password, a mailed code or signed link, a password-reset key), so that
    the rest of the flow reads and writes that user's own rows (email addresses, devices,
    sessions). Outside a user block, or with an organization active, nothing changes and
    False is returned: an organization's block keeps its own acting user."""
    if _user_block.get() is None or _active_organization.get() is not None:
        return False
    user_id = getattr(user, "pk", user)
    user_id = int(user_id) if user_id is not None else None
    if _block_user() == user_id:
        return True
    pending = _pending_transaction.get()
    if pending is not None:
        stack, depth = pending
        if len(connection.atomic_blocks) != depth:
            # A transaction opened during the request would close before the request's.
            raise RuntimeError("act_as() inside a transaction opened by the anonymous request")
        stack.enter_context(transaction.atomic())
        if depth:
            # Nested in a longer transaction (a test's): the setting would outlive the block.
            stack.callback(_forget_acting_user)
        _pending_transaction.set(None)
    if not connection.in_atomic_block or _transaction_failed():
        return False
    _set_organization_setting(None, user_id)
    # Plain set(): the enclosing user_context resets both variables to their values from
    # before it began, whatever was switched inside it.
    _user_block.set((user_id,))
    _acting_user.set(user_id)
    return True


def _forget_acting_user() -> None:
    if not transaction.get_rollback() and not _transaction_failed():
        _set_organization_setting(None, None)


def _block_user() -> int | None:
    block = _user_block.get()
    return block[0] if block is not None else None


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
# Set for the whole of an admin request (logicnet/admin_site.py): the platform role reads
# every organization's rows there, but no organization's data key is handed out, so a
# ciphertext column the admin happened to show stays a ciphertext. Only a block inside
# that organization's own tenant_context (support access the organization granted) decrypts.
_tenant_keys_withheld: ContextVar[bool] = ContextVar("tenant_keys_withheld", default=False)


def tenant_keys_withheld() -> bool:
    return _tenant_keys_withheld.get()


@contextmanager
def withhold_tenant_keys() -> Iterator[None]:
    """Inside the block, an organization's data key is available only inside that
    organization's tenant_context, even under platform_bypass or platform_reads."""
    token = _tenant_keys_withheld.set(True)
    try:
        yield
    finally:
        _tenant_keys_withheld.reset(token)


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
