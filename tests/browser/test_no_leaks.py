"""Personal values typed through the real pages end up encrypted, and nowhere else: not in
any table in plaintext (read as the owner), not in the data folder, not in Redis, not in
the application's logs, and not in any URL the browser requested (what an access log,
browser history or a Referer header would keep). Issue 7, "less leaks"."""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

import pytest
import redis
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.test_crm_day import (
    field,
    flash,
    log_interaction,
    main_nav,
    match_count,
    open_list_panels,
    search_box,
    sign_in,
)
from tests.leak_scan import scan_files, scan_log_lines, scan_tables

pytestmark = pytest.mark.browser

COMPANY = "Wexbrindle Logistica"
FIRST, LAST = "Quenbyra", "Marrowfeld"
EMAIL = "quenbyra.marrowfeld@zorvexquill.test"
PHONE_TYPED, PHONE_DIGITS = "0731 555 019", "731555019"
JOB_TITLE = "Thistlewright"
SOURCE_DETAIL = "Glimmerholt fair"
NOTE = ("Talked about Brindlethorpe", "Wants Saffrowick invoices monthly")
# Typed into search boxes and filters, so they would show in a URL if one carried them.
TYPED_QUERIES = ["quenby", "marrowf", "wexbrin"]
VALUES = [COMPANY, FIRST, LAST, EMAIL, PHONE_DIGITS, JOB_TITLE, SOURCE_DETAIL, *NOTE, *TYPED_QUERIES]


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)  # what the deployment logs (LOG_LEVEL=INFO)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            text = f"{record.msg} {record.args}"
        self.lines.append((record.name, text))


@pytest.fixture
def captured_logs():
    """Every log line of the run: the root logger and the loggers that do not propagate."""
    handler = Captured()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(), logging.getLogger("django.server"), logging.getLogger("django.request")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def scan_redis(values: list[str]) -> list[str]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    findings = []
    for key in client.scan_iter(count=500):
        kind = client.type(key).decode()
        if kind == "string":
            content = client.get(key) or b""
        elif kind == "list":
            content = b" ".join(client.lrange(key, 0, -1))
        elif kind == "hash":
            content = b" ".join(k + b" " + v for k, v in client.hgetall(key).items())
        elif kind in ("set", "zset"):
            content = b" ".join(client.smembers(key) if kind == "set" else client.zrange(key, 0, -1))
        else:
            continue
        found = [v for v in values if v.lower().encode() in (key + b" " + content).lower()]
        if found:
            findings.append(f"redis {key.decode(errors='replace')}: {found}")
    return findings


def test_typed_personal_values_are_stored_encrypted_and_logged_nowhere(new_page, alice, org_a, captured_logs):
    page = new_page("owner")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(f"{request.method} {request.url}"))
    sign_in(page, alice)

    # A company and a person at it, through their forms; the duplicate check runs while
    # the email address and the phone are typed.
    main_nav(page, "Companies")
    page.get_by_role("link", name="New company").click()
    field(page, "Name").fill(COMPANY)
    page.get_by_role("button", name="Create company").click()
    expect(flash(page)).to_contain_text("Company created.")

    main_nav(page, "Contacts")
    page.get_by_role("link", name="New contact").click()
    field(page, "First name").fill(FIRST)
    field(page, "Last name").fill(LAST)
    with page.expect_response(lambda response: "/contacts/duplicates/" in response.url):
        field(page, "Email address").fill(EMAIL)
        field(page, "Phone").fill(PHONE_TYPED)
        field(page, "Job title").fill(JOB_TITLE)  # leaving the phone field runs the check
    field(page, "Company").fill(COMPANY)
    field(page, "Source detail").fill(SOURCE_DETAIL)
    page.get_by_role("button", name="Create contact").click()
    expect(flash(page)).to_contain_text("Contact created.")
    log_interaction(page, f"{FIRST} {LAST}", "Note", *NOTE)
    expect(page.get_by_text(NOTE[0])).to_be_visible()

    # The header search by name, email and phone; Enter without a highlighted option opens
    # the results page (a POST, as without JavaScript).
    options = page.get_by_role("listbox", name="Search results").get_by_role("option")
    for query in ("quenby", EMAIL, PHONE_TYPED):
        search_box(page).fill(query)
        expect(options.first).to_contain_text(f"{FIRST} {LAST}")
    search_box(page).fill("marrowf")
    expect(options.first).to_contain_text(f"{FIRST} {LAST}")
    search_box(page).press("Enter")
    expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()
    expect(page.locator(".search-page-results")).to_contain_text(f"{FIRST} {LAST}")

    # The contacts list filtered by the company's first letters, saved as a view, reopened.
    main_nav(page, "Contacts")
    open_list_panels(page, "Filters", "Saved views")
    filters = page.get_by_role("form", name="Filters")
    field(filters, "Company name starts with").fill("wexbrin")
    filters.get_by_role("button", name="Apply").click()
    expect(match_count(page)).to_have_text("1 match")
    saved_views = page.get_by_role("navigation", name="Saved views")
    field(saved_views, "Save these filters as").fill("Logistics people")
    saved_views.get_by_role("button", name="Save view").click()
    expect(flash(page)).to_contain_text("saved.")
    filters.get_by_role("link", name="Clear filters").click()
    saved_views.get_by_role("link", name="Logistics people").click()
    expect(match_count(page)).to_have_text("1 match")
    expect(field(filters, "Company name starts with")).to_have_value("wexbrin")

    # --- Where the values must not be.
    in_urls = [*VALUES, PHONE_TYPED]
    findings = [f"URL {url}" for url in requested if any(v.lower() in unquote_plus(url).lower() for v in in_urls)]
    findings += scan_tables(VALUES)
    findings += scan_files(VALUES)
    findings += scan_redis(VALUES)
    findings += scan_log_lines(VALUES, captured_logs.lines)
    assert findings == [], "\n".join(findings)
    # The scans looked at something: the lookups did reach the server, and the table scan
    # reads every tenant's rows (the owner's view: alice's account email is plaintext).
    assert any("/search/" in url for url in requested) and any("/contacts/duplicates/" in u for u in requested)
    assert scan_tables([alice.email])
