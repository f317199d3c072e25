"""A real upload walked in the browser: file choice, the mapping page (recognised export,
columns mapped), the preview with its options, the progress bar filled by a real Celery
worker, the summary with its row report, and the revert.

It needs the bulk writer (imports/writers.py, built beside the imports app) and skips,
saying so, while that module is absent."""

from __future__ import annotations

import importlib.util

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, make_organization, make_user

# A marker, not a fixture: skipped before the live server's database fixtures are set up.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        importlib.util.find_spec("imports.writers") is None,
        reason="the bulk writer (imports/writers.py) is not on this branch yet",
    ),
]

CSV = (
    "First Name,Last Name,E-mail Address,Mobile Phone\n"
    "Ștefan,Țăranu,stefan@exemplu.ro,0721 234 567\n"
    "Ioana,Mureșan,ioana@exemplu.ro,\n"
    "Ana,Pop,ana@exemplu.ro,+40 722 000 111\n"
)


def test_upload_map_preview_progress_summary_and_revert(new_page, start_job_worker, tmp_path):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    make_organization("Alpha SRL", owner=owner)
    upload = tmp_path / "google-contacts.csv"
    upload.write_text(CSV, encoding="utf-8")

    page: Page = new_page("owner")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha SRL")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import contacts, companies, deals and transactions")).to_be_visible()
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and continue").click()

    # The mapping page: Outlook's headers are recognised and mapped; the first values show.
    expect(page.get_by_role("heading", name="Map the columns")).to_be_visible()
    expect(page.get_by_text("Recognised as: Outlook (CSV)")).to_be_visible()
    expect(page.get_by_label("E-mail Address")).to_have_value("email")
    expect(page.get_by_text("stefan@exemplu.ro")).to_be_visible()
    page.get_by_label("Save this mapping as").fill("Outlook export")
    page.get_by_role("button", name="Continue to the preview").click()

    # The preview and the options: the rows as they will be stored.
    expect(page.get_by_role("heading", name="Preview and options")).to_be_visible()
    page.get_by_label("Where the data came from").fill("Customers of the old shop")
    page.get_by_label("Lawful basis").fill("Existing customers — legitimate interest")
    page.get_by_role("button", name="Update the preview").click()
    expect(page.get_by_text("Țăranu")).to_be_visible()
    page.get_by_role("button", name="Import 3 rows").click()

    # The job waits for a worker; the page polls and follows it.
    progress = page.get_by_role("progressbar", name="Progress")
    expect(progress).to_be_visible()
    start_job_worker()
    expect(page.locator('[data-count="created"]')).to_have_text("3", timeout=30_000)
    expect(page.locator('[data-count="failed"]')).to_have_text("0")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the row report (CSV)").click()
    report = download_info.value.path().read_text(encoding="utf-8-sig")
    assert report.splitlines()[0] == "Row,Outcome,Reason"

    page.get_by_role("button", name="Revert this import").click()
    expect(page.get_by_text("Reverted: 3 deleted, 0 restored.")).to_be_visible(timeout=30_000)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    expect(page.get_by_text("Țăranu")).to_have_count(0)


DEALS_CSV = (
    "Deal Title,Pipeline,Stage,Value,Currency,Status,Owner\n"
    'Ofertă birouri,Sales,Proposal sent,"12.500,50",EUR,open,owner@alpha.example\n'
    "Mentenanță anuală,Sales,,1 200,RON,won,\n"
    "Greșit,Sales,Closed,abc,EUR,open,\n"
)


def test_a_deals_file_walks_the_same_flow(new_page, start_job_worker, tmp_path):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    make_organization("Alpha SRL", owner=owner)
    upload = tmp_path / "deals.csv"
    upload.write_text(DEALS_CSV, encoding="utf-8")

    page: Page = new_page("owner")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()

    # The user says what the file holds.
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_label("What it holds").select_option("deals")
    page.get_by_role("button", name="Upload and continue").click()

    expect(page.get_by_role("heading", name="Map the columns")).to_be_visible()
    expect(page.get_by_label("Deal Title")).to_have_value("title")
    expect(page.get_by_label("Stage", exact=True)).to_have_value("stage")
    page.get_by_role("button", name="Continue to the preview").click()

    # No source or lawful basis to give for deals; the preview shows the stage and the error.
    expect(page.get_by_role("heading", name="Preview and options")).to_be_visible()
    expect(page.get_by_label("Lawful basis")).to_have_count(0)
    expect(page.get_by_text("Proposal sent", exact=True)).to_be_visible()
    expect(page.get_by_text("The pipeline Sales has no stage Closed", exact=False)).to_be_visible()
    page.get_by_role("button", name="Import 3 rows").click()

    expect(page.get_by_role("progressbar", name="Progress")).to_be_visible()
    start_job_worker()
    expect(page.locator('[data-count="created"]')).to_have_text("2", timeout=30_000)
    expect(page.locator('[data-count="failed"]')).to_have_text("1")

    page.get_by_role("button", name="Revert this import").click()
    expect(page.get_by_text("Reverted: 2 deleted, 0 restored.")).to_be_visible(timeout=30_000)
