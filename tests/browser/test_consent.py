"""Consent in a real browser: a person signs up on an organization's form, confirms from the
real mail (SMTP), unsubscribes from the welcome mail's link in one click, and changes their
choices in the preference centre; staff record consent on the contact page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from consent import selectors
from consent.models import ConsentRecord
from consent.services.ledger import create_purpose, give_consent
from consent.services.links import preferences_token
from contacts.services.contacts import create_contact
from tests.factories import PASSWORD, make_organization, make_user
from tests.smtp import Mailbox, first_link

pytestmark = pytest.mark.browser

PERSON = "ana.pop@client.example"
NOTICE = "The Alpha newsletter, once a month. You can withdraw at any time."


def field(page_or_scope, label: str):
    return page_or_scope.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def status(organization, contact_id: int, purpose) -> str | None:
    return selectors.status_of(organization, contact_id, purpose)


def test_sign_up_confirm_from_the_mail_and_unsubscribe_in_one_click(new_page, mailbox: Mailbox, start_job_worker):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    organization = make_organization("Alpha SRL", owner=owner)
    newsletter = create_purpose(
        organization=organization, actor=owner, key="newsletter", name="Newsletter", notice_text=NOTICE
    )
    start_job_worker()

    page: Page = new_page("person")
    page.goto(f"/p/{organization.slug}/consent/newsletter/")
    expect(page.get_by_role("heading", name="Newsletter from Alpha SRL", level=1)).to_be_visible()
    expect(page.get_by_text(NOTICE)).to_be_visible()
    # The honeypot is there for bots, not for people.
    expect(page.locator("input[name=website]")).not_to_be_in_viewport()
    page.get_by_label("Your email address").fill(PERSON)
    page.get_by_label("Your first name (optional)").fill("Ana")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    message = mailbox.wait_for(PERSON, subject="Confirm your subscription to Newsletter from Alpha SRL", timeout=30)
    page.goto(first_link(message))
    expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()

    # Confirmed: the preference centre, with the newsletter ticked.
    expect(page.get_by_text("Thank you: your subscription is confirmed.")).to_be_visible()
    expect(page.get_by_role("heading", name="Your choices with Alpha SRL")).to_be_visible()
    expect(page.get_by_label("Yes, send me Newsletter")).to_be_checked()
    (record,) = selectors.export_rows(organization)
    contact_id = int(record[2])
    assert status(organization, contact_id, newsletter) == ConsentRecord.Action.GIVEN

    # The welcome mail carries the one-click link (and RFC 8058 headers for mail clients).
    welcome = mailbox.wait_for(PERSON, subject="You are subscribed to Newsletter from Alpha SRL", timeout=30)
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    mail_client = new_page("mail client")
    mail_client.goto(first_link(welcome))
    expect(mail_client.get_by_role("heading", name="Unsubscribe")).to_be_visible()
    assert status(organization, contact_id, newsletter) == ConsentRecord.Action.GIVEN  # opening changes nothing
    mail_client.get_by_role("button", name="Unsubscribe").click()
    expect(mail_client.locator(".consent-done")).to_contain_text('you are unsubscribed from "Newsletter"')
    assert status(organization, contact_id, newsletter) == ConsentRecord.Action.WITHDRAWN
    assert [row[6:8] for row in selectors.export_rows(organization)] == [["given", "form"], ["withdrawn", "mail_link"]]


def test_the_preference_centre(new_page):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    organization = make_organization("Alpha SRL", owner=owner)
    newsletter = create_purpose(
        organization=organization, actor=owner, key="newsletter", name="Newsletter", notice_text=NOTICE
    )
    events = create_purpose(
        organization=organization, actor=owner, key="events", name="Event invitations", notice_text="Our events."
    )
    contact = create_contact(organization=organization, actor=owner, data={"first_name": "Ana", "email": PERSON})
    give_consent(organization=organization, contact=contact, purpose=newsletter, method=ConsentRecord.Method.IMPORT)

    page: Page = new_page("person")
    url = reverse("consent_preferences", kwargs={"org_slug": organization.slug, "token": preferences_token(contact)})
    page.goto(url)
    expect(page.get_by_role("heading", name="Your choices with Alpha SRL")).to_be_visible()
    newsletter_box = page.get_by_label("Yes, send me Newsletter")
    events_box = page.get_by_label("Yes, send me Event invitations")
    expect(newsletter_box).to_be_checked()
    expect(events_box).not_to_be_checked()
    page.get_by_role("group", name="Newsletter").get_by_text("What you agree to (version 1)").click()
    expect(page.get_by_text(NOTICE)).to_be_visible()

    newsletter_box.uncheck()
    events_box.check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    expect(page.get_by_label("Yes, send me Newsletter")).not_to_be_checked()
    expect(page.get_by_label("Yes, send me Event invitations")).to_be_checked()
    assert status(organization, contact.pk, newsletter) == ConsentRecord.Action.WITHDRAWN
    assert status(organization, contact.pk, events) == ConsentRecord.Action.GIVEN

    # Giving again is as easy as withdrawing.
    page.get_by_label("Yes, send me Newsletter").check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.get_by_text("Your choices are saved.")).to_be_visible()
    assert status(organization, contact.pk, newsletter) == ConsentRecord.Action.GIVEN


def test_staff_record_consent_on_the_contact_page(new_page):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    organization = make_organization("Alpha SRL", owner=owner)
    newsletter = create_purpose(
        organization=organization, actor=owner, key="newsletter", name="Newsletter", notice_text=NOTICE
    )
    contact = create_contact(organization=organization, actor=owner, data={"first_name": "Ana", "email": PERSON})

    page: Page = new_page("staff")
    page.goto("/accounts/login/")
    field(page, "Email").fill(owner.email)
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator(".usernav summary", has_text=owner.full_name)).to_be_visible()
    page.goto(reverse("contact_detail", kwargs={"org_slug": organization.slug, "contact_id": contact.pk}))

    panel = page.locator("#consent-panel")
    expect(panel.locator("tr[data-purpose=newsletter]")).to_contain_text("Never asked")
    panel.get_by_label("Given").check()
    panel.get_by_label("Note (how the person told you)").fill("Asked for it at the Cluj fair")
    panel.get_by_role("button", name="Record").click()
    expect(page.locator("#consent-panel tr[data-purpose=newsletter]")).to_contain_text("Given")
    page.locator("#consent-panel summary", has_text="History").click()
    expect(page.locator("#consent-panel .consent-history")).to_contain_text("Asked for it at the Cluj fair")
    assert status(organization, contact.pk, newsletter) == ConsentRecord.Action.GIVEN
