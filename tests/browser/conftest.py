"""Real-browser tests: Playwright drives Debian's Chromium against pytest-django's live
server; outgoing mail goes over real SMTP to a local aiosmtpd server; background jobs run
on a real Celery worker.

The browser is the distribution's Chromium at /usr/bin/chromium (.ci/run installs it), not
one downloaded by `playwright install`. Without it the browser tests are skipped with a
loud notice, and fail the run when REQUIRE_BROWSER=1 (as CI sets it).

On a failure every open page is saved (screenshot and HTML) under test-results/. A test also
fails when a page reports a Content-Security-Policy violation or an uncaught script error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.smtp import Mailbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"
TIMEOUT_MS = 15_000
CSP_MARKERS = ("Content Security Policy", "Refused to")

PHASE_REPORTS = pytest.StashKey[dict]()
BROWSER_PROBLEMS = pytest.StashKey[list]()
_missing_browser: list[str] = []


# --- Reports: screenshots on failure, CSP violations fail the test ---------------------------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    problems = item.stash.get(BROWSER_PROBLEMS, [])
    if problems:
        pytest.fail("The browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)
    return result


def pytest_terminal_summary(terminalreporter):
    if _missing_browser:
        terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(_missing_browser[0], red=True, bold=True)


def _failed(item) -> bool:
    return any(report.failed for report in item.stash.get(PHASE_REPORTS, {}).values())


# --- The browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """Debian's Chromium under Playwright, shared by the tests of one module."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = (
            f"{CHROMIUM} is missing, so the browser tests did not run. "
            "Install it with `apt-get install chromium` (.ci/run does)."
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message} REQUIRE_BROWSER=1 makes this a failure.", pytrace=False)
        if not _missing_browser:
            _missing_browser.append(message)
        pytest.skip(message)

    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the main thread, so Django's
    # guard against ORM calls from async code would refuse the test's own queries (and
    # pytest-django's flush) while the browser is up. Only for that span.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(request, chromium, live_site) -> Iterator[Callable[..., object]]:
    """`new_page(label)` opens a page in a fresh browser context: a separate person or
    device with its own cookies. Relative URLs resolve against the live server."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    problems = request.node.stash.setdefault(BROWSER_PROBLEMS, [])
    contexts: list[tuple[str, object]] = []

    def open_page(label: str = "page", **options):
        """`options` go to the browser context, e.g. `viewport={"width": 390, "height": 844}`."""
        context = chromium.new_context(base_url=live_site, locale="en-GB", timezone_id="Europe/Bucharest", **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append((label, context))
        page = context.new_page()

        def on_console(message, label=label):
            if message.type == "error" and any(marker in message.text for marker in CSP_MARKERS):
                problems.append(f"[{label}] {page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error, label=label: problems.append(f"[{label}] uncaught error: {error}"))
        return page

    yield open_page

    if _failed(request.node):
        _save_pages(request.node, contexts)
    for _label, context in contexts:
        context.close()
    _wait_for_requests_to_end()


def _wait_for_requests_to_end(seconds: float = 10.0) -> None:
    """A request the live server is still answering when the pages close (a click's page
    load, a poll) could hold its locks while pytest-django's flush truncates every table,
    and the two deadlock. Waits, at most `seconds`, until no other client connection to the
    test database is in a statement or a transaction."""
    import time

    from django.db import connection

    deadline = time.monotonic() + seconds
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                " AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')"
            )
            (busy,) = cursor.fetchone()
        if not busy or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def _save_pages(item, contexts) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
    for label, context in contexts:
        for number, page in enumerate(context.pages):
            path = RESULTS_DIR / f"{stem}--{label}-{number}.png"
            try:
                page.screenshot(path=path, full_page=True)
                path.with_suffix(".html").write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # a crashed page must not hide the test's own failure
                print(f"could not save {path.name}: {exc}")
            else:
                print(f"saved {path} ({page.url})")


# --- The site: live server, real SMTP ---------------------------------------------------------


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1 and a free port."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def live_site(live_server, committed_db, mailbox, settings) -> str:
    """The live server's base URL. It sends mail over SMTP to `mailbox`, and its links
    (invitations use SITE_URL) point back at itself."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = mailbox.host
    settings.EMAIL_PORT = mailbox.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.SITE_URL = live_server.url
    return live_server.url


# --- Background work ---------------------------------------------------------------------------


def _close_worker_connections(**kwargs) -> None:
    # The worker thread's connection would otherwise outlive the test (CONN_MAX_AGE) and
    # hold the test database open (as in tests/test_jobs.py).
    from django.db import connections

    connections.close_all()


@pytest.fixture
def start_job_worker(committed_db) -> Iterator[Callable[[], None]]:
    """Starts a real Celery worker (a thread, solo pool, consuming from the test Redis) when
    called, so a test can show a job waiting in the queue first; stopped after the test,
    before the database is flushed."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    from logicnet.celery import app

    with ExitStack() as stack:

        def start() -> None:
            task_postrun.connect(_close_worker_connections, weak=False)
            stack.callback(task_postrun.disconnect, _close_worker_connections)
            stack.enter_context(start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30))

        yield start
