"""A long job's progress bar, updated by htmx from the job row a real Celery worker fills."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, make_member, make_organization, make_user

pytestmark = pytest.mark.browser


def test_member_export_shows_progress_and_a_download(new_page, start_job_worker):
    admin = make_user("admin@alpha.example", "Admin Alpha")
    organization = make_organization("Alpha SRL", owner=admin)
    make_member(organization, make_user("colleague@alpha.example", "Colleague Alpha"), "member")

    page: Page = new_page("admin")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha SRL")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    page.get_by_role("button", name="Export the member list (CSV)").click()

    expect(page.get_by_role("heading", name="Export")).to_be_visible()
    progress = page.get_by_role("progressbar", name="Progress")
    expect(progress).to_have_attribute("value", "0")
    expect(page.get_by_text("Queued — 0%")).to_be_visible()
    expect(page.get_by_role("link", name="Download")).to_have_count(0)

    # The job waits in the queue until a worker runs; the page polls and follows it.
    start_job_worker()
    expect(progress).to_have_attribute("value", "100", timeout=30_000)
    expect(page.get_by_text("Done — 100% (2 / 2)")).to_be_visible()
    download_link = page.get_by_role("link", name="Download")
    expect(download_link).to_be_visible()

    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert download.suggested_filename == f"members-{organization.slug}.csv"
    content = download.path().read_text(encoding="utf-8-sig")
    assert content.splitlines()[0] == "name,email,role,member_since"
    assert "colleague@alpha.example" in content
    assert "admin@alpha.example" in content
