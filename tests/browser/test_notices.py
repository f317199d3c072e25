"""Records and notices in a real browser: a parent reports a child's data on the public page,
confirms from the real mail, and the owner finds the report first in the privacy desk; then
a new privacy policy version shows its banner until the owner accepts it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from notices.services import policy
from tests.browser.test_crm_day import sign_in
from tests.factories import make_organization, make_user
from tests.smtp import Mailbox, first_link

pytestmark = pytest.mark.browser

PARENT = "parent@family.example"


def test_a_childs_data_is_reported_handled_first_and_a_new_policy_is_accepted(
    new_page, mailbox: Mailbox, start_job_worker
):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    organization = make_organization("Alpha SRL", owner=owner)
    policy.accept_current(user=owner)  # as sign-up does
    start_job_worker()

    person: Page = new_page("parent")
    person.goto(f"/p/{organization.slug}/privacy/")
    person.get_by_role("link", name="Report that we hold a child's data").click()
    expect(person.get_by_role("heading", name="Report a child's data to Alpha SRL", level=1)).to_be_visible()
    person.get_by_label("I am the child's parent or guardian").check()
    person.get_by_label("About the child's data").fill("My daughter Ioana, 13, is on your mailing list.")
    person.get_by_label("Your email address").fill(PARENT)
    person.get_by_role("button", name="Send the report").click()
    expect(person.get_by_role("heading", name="Thank you: your request was sent")).to_be_visible()
    message = mailbox.wait_for(PARENT, subject="Confirm your privacy request to Alpha SRL", timeout=30)
    person.goto(first_link(message))
    person.get_by_role("button", name="Confirm").click()
    expect(person.locator(".request-status")).to_have_text("Received")

    staff: Page = new_page("owner")
    sign_in(staff, owner)
    staff.goto(f"/o/{organization.slug}/privacy/")
    first_row = staff.locator("table.privacy-queue tbody tr").first
    expect(first_row.locator(".badge.priority")).to_have_text("Priority: a child's data")

    policy.publish_version(
        actor=None,
        text_en="Sessions are kept 7 days.",
        text_ro="Sesiunile se păstrează 7 zile.",
        changes_en="Shorter sessions.",
        changes_ro="Sesiuni mai scurte.",
    )
    staff.reload()
    banner = staff.get_by_role("region", name="Our privacy policy has changed")
    expect(banner).to_be_visible()
    banner.get_by_role("button", name="I accept the privacy policy").click()
    expect(staff.get_by_text("Thank you: you accepted the privacy policy.")).to_be_visible()
    expect(staff.get_by_role("region", name="Our privacy policy has changed")).to_have_count(0)
    mailbox.wait_for(owner.email, subject="version 2", timeout=60)
