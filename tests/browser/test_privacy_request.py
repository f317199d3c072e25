"""A person with no account asks an organization for their data, in a real browser: the
public form, the confirmation link from the real mail (SMTP), the status page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from logicnet.tenancy.context import tenant_context
from privacy.models import PrivacyRequest
from tests.factories import make_organization, make_user
from tests.smtp import Mailbox, first_link

pytestmark = pytest.mark.browser

PERSON = "ana.pop@client.example"


def test_a_person_submits_confirms_from_the_mail_and_sees_the_deadline(new_page, mailbox: Mailbox, start_job_worker):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    organization = make_organization("Alpha SRL", owner=owner)
    start_job_worker()

    page: Page = new_page("person")
    page.goto(f"/p/{organization.slug}/privacy/")
    expect(page.get_by_role("heading", name="Privacy at Alpha SRL", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Your rights")).to_be_visible()

    # The rectification question shows only once that right is ticked.
    correction = page.get_by_label("For rectification: what is wrong, and what should it say?")
    expect(correction).to_be_hidden()
    page.get_by_label("Rectification: correct my data").check()
    expect(correction).to_be_visible()
    page.get_by_label("Rectification: correct my data").uncheck()
    expect(correction).to_be_hidden()

    # Sent without an address: the error names the field, and nothing is stored.
    page.get_by_label("Access: a copy of my data").check()
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("alert")).to_contain_text("Your email address: This field is required.")
    with tenant_context(organization):
        assert not PrivacyRequest.objects.exists()

    expect(page.get_by_label("Access: a copy of my data")).to_be_checked()
    page.get_by_label("Your email address").fill(PERSON)
    page.get_by_role("button", name="Send the request").click()

    expect(page.get_by_role("heading", name="Thank you: your request was sent")).to_be_visible()
    reference = page.locator("strong.reference").inner_text()
    assert re.fullmatch(r"PR-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    expect(page.get_by_text("Please check your email now")).to_be_visible()

    message = mailbox.wait_for(PERSON, subject="Confirm your privacy request to Alpha SRL", timeout=30)
    assert reference in message["Subject"]
    page.goto(first_link(message))
    expect(page.get_by_role("heading", name="Confirm your request")).to_be_visible()
    expect(page.get_by_text(reference)).to_be_visible()
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Your privacy request to Alpha SRL")).to_be_visible()
    expect(page.locator(".request-status")).to_have_text("Received")
    with tenant_context(organization):
        stored = PrivacyRequest.objects.get()
    assert stored.reference == reference
    assert stored.status == PrivacyRequest.Status.RECEIVED
    expect(page.locator(".request-deadline")).to_have_text(f"{stored.deadline.day} {stored.deadline:%B %Y}")
    expect(page.get_by_role("button", name="Send the confirmation link again")).to_have_count(0)
