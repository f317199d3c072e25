"""Logicnet talking to its account holders, in a real browser: an announcement shows as a
banner until it is dismissed, and never again; a support request goes to Logicnet, staff
answer it in the admin (with their second factor), and the answer comes back by mail and in
the thread."""

from __future__ import annotations

import re
import time
from base64 import b32encode

import pyotp
import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from announcements import services as announcements
from announcements.models import Announcement
from logicnet.tenancy.context import platform_bypass
from tests.browser.test_crm_day import field, flash, sign_in
from tests.factories import make_organization, make_user
from tests.smtp import Mailbox, first_link
from tests.test_admin import _enable
from tests.test_support import png

pytestmark = pytest.mark.browser


def _user_menu(page: Page, user) -> None:
    page.locator(".usernav summary", has_text=user.full_name).click()


def test_an_announcement_shows_until_dismissed_and_then_never_again(new_page, platform_db):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    organization = make_organization("Alpha SRL", owner=owner)
    with platform_bypass(actor=None, reason="test: staff write an announcement"):
        announcement = Announcement.objects.create(
            title_en="Maintenance on Sunday",
            title_ro="Mentenanță duminică",
            body_en="The CRM is read-only from 02:00 to 03:00.",
            body_ro="CRM-ul este doar în citire între 02:00 și 03:00.",
            send_email=False,
        )
        announcements.publish_announcement(actor=None, announcement=announcement)

    page: Page = new_page("owner")
    sign_in(page, owner)
    banner = page.get_by_role("region", name="Maintenance on Sunday")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("read-only from 02:00 to 03:00")
    page.goto(f"/o/{organization.slug}/members/")
    expect(banner).to_be_visible()  # on every page until dismissed
    banner.get_by_role("button", name="Dismiss: Maintenance on Sunday").click()
    expect(page.get_by_role("region", name="Maintenance on Sunday")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Maintenance on Sunday")).to_have_count(0)
    page.goto("/account/sessions/")
    expect(page.get_by_role("region", name="Maintenance on Sunday")).to_have_count(0)

    # The same person in another browser (a second device): dismissed once is dismissed for good.
    other: Page = new_page("owner, phone")
    sign_in(other, owner)
    expect(other.locator(".usernav summary", has_text=owner.full_name)).to_be_visible()
    expect(other.get_by_role("region", name="Maintenance on Sunday")).to_have_count(0)


def test_a_support_request_goes_and_its_answer_comes_back(
    new_page, mailbox: Mailbox, start_job_worker, platform_db, tmp_path, settings
):
    settings.SUPPORT_FILES_DIR = tmp_path / "support"
    user = make_user("ioana@alpha.example", "Ioana Alpha")
    make_organization("Alpha SRL", owner=user)
    staff = make_user("support@logicnet.example", "Support Person")
    User.objects.using("platform").filter(pk=staff.pk).update(is_staff=True, is_superuser=True)
    device = _enable(staff)
    start_job_worker()

    # The user writes to support from the user menu, with a screenshot.
    page: Page = new_page("user")
    sign_in(page, user)
    _user_menu(page, user)
    page.get_by_role("link", name="Support").click()
    expect(page.get_by_role("heading", name="Support", level=1)).to_be_visible()
    field(page, "Subject").fill("The import stops at row 412")
    field(page, "Message").fill("My file customers.csv stops at row 412 without a message.")
    screenshot = tmp_path / "screen.png"
    screenshot.write_bytes(png(40, 30))
    field(page, "Screenshot (optional)").set_input_files(str(screenshot))
    page.get_by_role("button", name="Send to support").click()
    expect(flash(page)).to_contain_text("Your request was sent.")
    expect(page.get_by_role("heading", name="The import stops at row 412", level=1)).to_be_visible()
    expect(page.locator(".support-message")).to_have_count(1)
    expect(page.get_by_role("link", name="Screenshot")).to_be_visible()

    # Staff sign in with their second factor and answer from the admin.
    admin: Page = new_page("staff")
    admin.goto("/accounts/login/")
    field(admin, "Email").fill(staff.email)
    field(admin, "Password").fill("correct-horse-battery-9")
    admin.get_by_role("button", name="Sign In").click()
    expect(admin).to_have_url(re.compile(r"/account/two-factor/verify/"))
    code = pyotp.TOTP(b32encode(device.bin_key).decode()).at(int(time.time()) + device.step)
    admin.get_by_label(re.compile("6-digit code")).fill(code)
    admin.get_by_role("button", name="Verify and sign in").click()
    expect(admin.locator(".usernav summary", has_text=staff.full_name)).to_be_visible()
    admin.goto("/admin/support/supportrequest/")
    admin.get_by_role("link", name="Read and answer").click()
    expect(admin.get_by_role("heading", name="The import stops at row 412")).to_be_visible()
    expect(admin.get_by_text("stops at row 412 without a message")).to_be_visible()
    admin.get_by_label("Answer").fill("Row 412 has a date in the future. We have made the import say so.")
    admin.get_by_role("button", name="Send answer").click()
    expect(admin.get_by_text("Answer sent; the user is told by email.")).to_be_visible()

    # The user is told by mail, follows the link and reads the answer in the thread.
    mail = mailbox.wait_for(user.email, subject="Support answered your request", timeout=30)
    page.goto(first_link(mail))
    expect(page.locator(".support-message.from-staff")).to_contain_text("Row 412 has a date in the future.")
    expect(page.locator(".support-message")).to_have_count(2)
    field(page, "Your reply").fill("Thank you, it works now.")
    page.get_by_role("button", name="Send reply").click()
    expect(flash(page)).to_contain_text("Your reply was sent.")
    expect(page.locator(".support-message")).to_have_count(3)
