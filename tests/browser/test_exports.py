"""Export from the contacts list in a real browser: the Export action with the list's filter,
the progress bar a real Celery worker fills, the download, and the exports page."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from contacts.services.contacts import create_contact
from tests.browser.test_crm_day import main_nav, open_list_panels, sign_in
from tests.factories import make_organization, make_user

pytestmark = pytest.mark.browser


def test_export_the_contact_list_and_download_it(new_page, start_job_worker, settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path
    owner = make_user("owner@alpha.example", "Owner Alpha")
    organization = make_organization("Alpha SRL", owner=owner)
    for first, last in (("Ștefan", "Popescu"), ("Ioana", "Bălănescu"), ("=cmd", "Injecție")):
        create_contact(organization=organization, actor=owner, data={"first_name": first, "last_name": last})

    page: Page = new_page("owner")
    sign_in(page, owner)
    main_nav(page, "Contacts")
    open_list_panels(page, "Export")
    export = page.locator("form.export-form")
    export.get_by_label("CSV for Excel (UTF-8 with byte-order mark)").check()
    export.get_by_role("button", name="Export", exact=True).click()

    expect(page.get_by_role("heading", name="Export of Contacts")).to_be_visible()
    progress = page.get_by_role("progressbar", name="Progress")
    expect(page.get_by_text("Queued — 0%")).to_be_visible()
    expect(page.get_by_role("link", name="Download")).to_have_count(0)

    start_job_worker()
    expect(progress).to_have_attribute("value", "100", timeout=30_000)
    expect(page.get_by_text("Done — 100% (3 / 3)")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"contacts-{organization.slug}-")
    raw = download.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["ID", "First name", "Last name"]
    names = sorted((row[1], row[2]) for row in rows[1:])
    assert names == [("'=cmd", "Injecție"), ("Ioana", "Bălănescu"), ("Ștefan", "Popescu")]

    main_nav(page, "Exports")
    expect(page.get_by_role("heading", name="Your exports")).to_be_visible()
    expect(page.get_by_role("cell", name="Contacts")).to_be_visible()
    expect(page.get_by_role("cell", name="Done")).to_be_visible()
