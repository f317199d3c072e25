"""Shared fixtures: the real PostgreSQL (as the least-privilege role), real Redis, and the
three actors every view test uses: alice (owner) and bob (member) in organization A,
charlie in organization B with look-alike data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from logicnet.encryption.keys import flush_encryption_counts, forget_pending_encryption_counts
from tests.factories import make_member, make_organization, make_user
from tests.smtp import Mailbox


def use_database_role(role: str) -> None:
    """Point the default connection at the owner (schema, flush) or the application role."""
    connection = connections["default"]
    if role == "app":
        user, password = settings.DATABASE_APP_USER, settings.DATABASE_APP_PASSWORD
    else:
        user, password = settings.DATABASE_OWNER["USER"], settings.DATABASE_OWNER["PASSWORD"]
    if connection.settings_dict["USER"] != user:
        connection.close()
        connection.settings_dict.update(USER=user, PASSWORD=password)
    # Other threads (an in-process Celery worker, a live server) open their own connection
    # from settings.DATABASES: make sure it names the same role.
    settings.DATABASES["default"].update(USER=user, PASSWORD=password)


def _point_platform_alias_at_the_test_database() -> None:
    """The platform alias is a test mirror of the default one (one test database), but
    Django's mirroring hands it the default connection's settings, role included: give it
    back its own login role, on the test database."""
    alias = settings.PLATFORM_DATABASE
    if alias is None:
        return
    platform = settings.DATABASES[alias]
    platform.update(
        NAME=connections["default"].settings_dict["NAME"],
        USER=settings.DATABASE_PLATFORM_ROLE,
        PASSWORD=settings.DATABASE_PLATFORM_PASSWORD,
    )
    connections[alias].close()
    connections[alias].settings_dict = platform


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django creates and migrates the test database as the owner; the tests then run
    as the application role, so row-level security is in force exactly as in production."""
    _point_platform_alias_at_the_test_database()
    yield
    with django_db_blocker.unblock():
        use_database_role("owner")  # dropping the test database is the owner's job


@pytest.fixture(autouse=True)
def _run_as_application_role(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        use_database_role("app")
    yield


@pytest.fixture
def committed_db(transactional_db, django_db_blocker):
    """Data other processes (Celery workers, a live server) can see. The flush after the
    test is the owner's: the application role may not TRUNCATE."""
    yield
    with django_db_blocker.unblock():
        use_database_role("owner")


@pytest.fixture
def platform_db(committed_db):
    """Committed data that the platform alias (its own connection, its own role) can see:
    for tests of the admin, platform_bypass and the cross-tenant management commands. The
    hook below allows the alias in these tests."""
    yield


def pytest_collection_modifyitems(items):
    for item in items:
        if "platform_db" in getattr(item, "fixturenames", ()):
            marker = pytest.mark.django_db(transaction=True, databases=["default", "platform"])
            item.add_marker(marker, append=False)


@pytest.fixture(autouse=True)
def _no_encryption_counts_from_other_tests():
    # Counts pending in this process belong to an earlier test's (rolled back) data.
    forget_pending_encryption_counts()
    yield


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rate-limit counters live in Redis; one test's failed sign-ins must not throttle the next.
    cache.clear()
    yield


@pytest.fixture
def alice(db):
    return make_user("alice@example.com", "Alice Alpha")


@pytest.fixture
def bob(db):
    return make_user("bob@example.com", "Bob Beta")


@pytest.fixture
def charlie(db):
    return make_user("charlie@example.org", "Charlie Gamma")


@pytest.fixture
def org_a(alice, bob):
    organization = make_organization("Alpha SRL", owner=alice)
    make_member(organization, bob, "member")
    return organization


@pytest.fixture
def org_b(charlie):
    return make_organization("Beta SRL", owner=charlie)


@pytest.fixture
def django_assert_max_num_queries(django_assert_max_num_queries):
    """pytest-django's query ceiling, with the encryption counts that the test's own setup
    left pending in this process written first: the next request would otherwise write them
    (logicnet/encryption/keys.py), counting the setup's writes against the page."""

    @contextmanager
    def counted(num: int, **kwargs):
        flush_encryption_counts()
        with django_assert_max_num_queries(num, **kwargs) as captured:
            yield captured

    return counted


@pytest.fixture
def eager_tasks(monkeypatch):
    """Celery runs each task where it is sent, and an error in it fails the test."""
    from logicnet.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


# --- a real SMTP server (aiosmtpd) for mail that matters ---------------------------------------


@pytest.fixture
def mailbox(settings) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = box.host, box.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield box
    controller.stop()
