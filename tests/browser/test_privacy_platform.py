"""Someone asks Logicnet itself about their data, in a real browser: the form on Logicnet's
privacy page (/privacy/), the confirmation link from the real mail (SMTP), the status page;
then a platform administrator finds the request in the admin."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from logicnet.tenancy.context import tenant_context
from privacy.models import PrivacyRequest
from privacy.services.platform import platform_controller
from tests.smtp import Mailbox, first_link

pytestmark = pytest.mark.browser

PERSON = "visitor@site.example"


def test_a_visitor_asks_logicnet_from_its_privacy_page_and_confirms_from_the_mail(
    new_page, mailbox: Mailbox, start_job_worker
):
    start_job_worker()
    page: Page = new_page("visitor")
    page.goto("/privacy/")
    expect(page.get_by_role("heading", name="Logicnet privacy policy", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Make a request")).to_be_visible()

    # The objection question shows only once that right is ticked.
    scope = page.get_by_label("Direct marketing (it stops as soon as you confirm your email)")
    expect(scope).to_be_hidden()
    page.get_by_label("Objection: stop processing my data").check()
    expect(scope).to_be_visible()
    page.get_by_label("Objection: stop processing my data").uncheck()

    # Sent without an address: the page comes back with the error, nothing is stored.
    page.get_by_label("Access: a copy of my data").check()
    page.get_by_label("Erasure: delete my data").check()
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("alert")).to_contain_text("Your email address: This field is required.")
    expect(page.get_by_role("heading", name="Logicnet privacy policy", level=1)).to_be_visible()
    controller = platform_controller()
    with tenant_context(controller):
        assert not PrivacyRequest.objects.filter(organization=controller).exists()

    page.get_by_label("Your email address").fill(PERSON)
    page.get_by_label("Anything you want to add (optional)").fill("I once signed up for the newsletter.")
    page.get_by_role("button", name="Send the request").click()

    expect(page.get_by_role("heading", name="Thank you: your request was sent")).to_be_visible()
    reference = page.locator("strong.reference").inner_text()
    assert re.fullmatch(r"PR-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)

    message = mailbox.wait_for(PERSON, subject="Confirm your privacy request to Logicnet", timeout=30)
    assert reference in message["Subject"]
    page.goto(first_link(message))
    expect(page.get_by_role("heading", name="Confirm your request")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Your privacy request to Logicnet")).to_be_visible()
    expect(page.locator(".request-status")).to_have_text("Received")
    with tenant_context(controller):
        stored = PrivacyRequest.objects.get(organization=controller)
        assert (stored.reference, stored.email) == (reference, PERSON)
        assert stored.rights == ["access", "erasure"]
    assert stored.status == PrivacyRequest.Status.RECEIVED
    expect(page.locator(".request-deadline")).to_have_text(f"{stored.deadline.day} {stored.deadline:%B %Y}")
