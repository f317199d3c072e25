"""A customer's first day, clicked through in a real browser with real mail."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.smtp import Mailbox, first_link

pytestmark = pytest.mark.browser

COMPANY = "Firma Exemplu SRL"
OWNER = {"name": "Test Owner", "email": "owner@firma.example", "password": "owner-password-2026"}
MEMBER = {"name": "Test Member", "email": "member@firma.example", "password": "member-password-2026"}


def flash(page: Page):
    return page.locator("ul.messages")


def organization_switcher(page: Page):
    return page.locator(".usernav details").first


def field(page: Page, label: str):
    """A form field by its label, as written on the page (Django adds a colon)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def open_user_menu(page: Page, person: dict) -> None:
    page.locator(".usernav summary", has_text=person["name"]).click()


def sign_up(page: Page, person: dict, *, company: str, invited: bool = False) -> None:
    expect(page.get_by_role("heading", name="Sign Up")).to_be_visible()
    field(page, "Your name").fill(person["name"])
    if invited:  # the address the invitation was sent to, shown and fixed
        expect(field(page, "Email")).to_be_disabled()
        expect(field(page, "Email")).to_have_value(person["email"])
    else:
        field(page, "Email").fill(person["email"])
    field(page, "Password").fill(person["password"])
    field(page, "Password (again)").fill(person["password"])
    field(page, "Company name").fill(company)
    field(page, "Phone").fill("0721 234 567")
    field(page, "I am at least 16 years old and accept the privacy policy.").check()
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()


def verify_email(page: Page, mailbox: Mailbox, person: dict) -> None:
    """Open the verification link from the real mail and confirm."""
    message = mailbox.wait_for(person["email"], subject="Confirm")
    page.goto(first_link(message))
    expect(page.get_by_role("heading", name="Confirm Email Address")).to_be_visible()
    expect(page.get_by_text(person["email"]).first).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(flash(page)).to_contain_text(f"You have confirmed {person['email']}")


def sign_in(page: Page, person: dict) -> None:
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    field(page, "Email").fill(person["email"])
    field(page, "Password").fill(person["password"])
    page.get_by_role("button", name="Sign In").click()


class AuthenticatorApp:
    """The phone app: TOTP codes from the key typed in from the setup page.

    django-otp refuses a code from a time step it already accepted (replay protection)
    and allows one step of clock drift. A person signing in again within the same 30
    seconds would wait for the next code; the app here gives that next code at once, as a
    phone whose clock runs a little ahead would."""

    def __init__(self, key: str) -> None:
        self.totp = pyotp.TOTP("".join(key.split()))
        self.last_counter = -1

    def code(self) -> str:
        counter = max(self.totp.timecode(time.time()), self.last_counter + 1)
        self.last_counter = counter
        return self.totp.generate_otp(counter)


def enrol_authenticator(page: Page, person: dict) -> AuthenticatorApp:
    open_user_menu(page, person)
    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()
    page.get_by_text("Cannot scan? Type this key into the app instead.").click()
    app = AuthenticatorApp(page.locator("code.secret").inner_text())
    field(page, "6-digit code from the app").fill(app.code())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(flash(page)).to_contain_text("Two-factor authentication is on.")
    expect(page.get_by_role("heading", name="Backup codes")).to_be_visible()
    listed = page.get_by_role("list", name="Your backup codes").get_by_role("listitem")
    expect(listed).to_have_count(10)
    codes = [code.strip() for code in listed.all_inner_texts()]
    # Saved as a text file, and copied to the clipboard, each with every code.
    with page.expect_download() as downloaded:
        page.get_by_role("link", name="Download as .txt").click()
    assert downloaded.value.suggested_filename == "logicnet-backup-codes.txt"
    saved = Path(downloaded.value.path()).read_text(encoding="utf-8")
    assert all(code in saved.splitlines() for code in codes)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy to clipboard").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert all(code in copied.splitlines() for code in codes)
    page.get_by_role("link", name="I have saved my codes").click()
    return app


def sign_out(page: Page, person: dict) -> None:
    open_user_menu(page, person)
    page.get_by_role("button", name="Sign out").click()
    expect(flash(page)).to_contain_text("You have signed out.")
    expect(page.get_by_role("heading", name="Sign In")).to_be_visible()


def test_first_day(new_page, mailbox: Mailbox):
    # --- The owner signs up, verifies the address from the mail, lands in the dashboard.
    owner = new_page("owner")
    owner.goto("/accounts/signup/")
    sign_up(owner, OWNER, company=COMPANY)
    verify_email(owner, mailbox, OWNER)
    expect(owner.get_by_role("heading", level=1)).to_have_text(COMPANY)
    expect(organization_switcher(owner).locator("summary")).to_have_text(COMPANY)
    expect(owner.locator(".stat", has_text="Your role")).to_contain_text("Owner")

    # --- Two-factor authentication with an authenticator app, keyed from the setup page.
    authenticator = enrol_authenticator(owner, OWNER)
    expect(owner.get_by_role("heading", level=1)).to_have_text(COMPANY)

    # --- Sign out; signing in takes the password, then a code from the app.
    sign_out(owner, OWNER)
    sign_in(owner, OWNER)
    expect(owner.get_by_role("heading", name="Finish signing in")).to_be_visible()
    expect(owner).to_have_url(re.compile(r"/account/two-factor/verify/"))
    field(owner, "6-digit code from your authenticator app").fill(authenticator.code())
    owner.get_by_role("button", name="Verify and sign in").click()
    expect(owner.get_by_role("heading", level=1)).to_have_text(COMPANY)
    expect(organization_switcher(owner).locator("summary")).to_have_text(COMPANY)

    # --- The owner invites a member from the Members page.
    owner.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(owner.get_by_role("heading", name="Members", level=1)).to_be_visible()
    field(owner, "Email address").fill(MEMBER["email"])
    expect(field(owner, "Role").last).to_have_value("member")
    owner.get_by_role("button", name="Send invitation").click()
    expect(flash(owner)).to_contain_text(f"Invitation sent to {MEMBER['email']}.")
    pending = owner.locator("table", has=owner.get_by_role("columnheader", name="Sent"))
    expect(pending.get_by_role("row", name=re.compile(re.escape(MEMBER["email"])))).to_be_visible()

    # --- The member opens the invitation from the mail, signs up and verifies the address.
    invitation_mail = mailbox.wait_for(MEMBER["email"], subject=COMPANY)
    invitation_link = first_link(invitation_mail)
    member = new_page("member")
    member.goto(invitation_link)
    expect(member.get_by_role("heading", name=f"Join {COMPANY}")).to_be_visible()
    member.get_by_role("link", name="Create an account").click()
    sign_up(member, MEMBER, company="Member's Own Business SRL", invited=True)
    verify_email(member, mailbox, MEMBER)

    # --- ...accepts the invitation and sees the organization.
    expect(member.get_by_role("heading", name=f"Join {COMPANY}")).to_be_visible()
    expect(member.get_by_text("You were invited as Member.")).to_be_visible()
    member.get_by_role("button", name="Accept the invitation").click()
    expect(flash(member)).to_contain_text(f"Welcome to {COMPANY}.")
    expect(member.get_by_role("heading", level=1)).to_have_text(COMPANY)
    expect(organization_switcher(member).locator("summary")).to_have_text(COMPANY)
    expect(member.locator(".stat", has_text="Your role")).to_contain_text("Member")

    # The owner sees the newcomer among the members, who accepted the invitation, and no
    # invitation left pending.
    owner.reload()
    members = owner.locator("table", has=owner.get_by_role("columnheader", name="Member since"))
    expect(members.get_by_role("row", name=re.compile(re.escape(MEMBER["email"])))).to_be_visible()
    accepted = owner.locator("table", has=owner.get_by_role("columnheader", name="Accepted by"))
    expect(accepted.get_by_role("row", name=re.compile(re.escape(MEMBER["name"])))).to_be_visible()
    expect(owner.get_by_text("No pending invitations.")).to_be_visible()

    # --- The member signs in on a second device, then signs that session out from the first.
    second_device = new_page("member-second-device")
    sign_in(second_device, MEMBER)
    expect(second_device.locator(".usernav summary", has_text=MEMBER["name"])).to_be_visible()

    open_user_menu(member, MEMBER)
    member.get_by_role("link", name="Sessions").click()
    expect(member.get_by_role("heading", name="Your sessions")).to_be_visible()
    sessions = member.locator("tbody tr")
    expect(sessions).to_have_count(2)
    expect(sessions.filter(has_text="this session")).to_have_count(1)
    sessions.filter(has_not_text="this session").get_by_role("button", name="Sign out").click()
    expect(flash(member)).to_contain_text("The session was signed out.")
    expect(member.locator("tbody tr")).to_have_count(1)
    expect(member.locator("tbody tr")).to_contain_text("this session")

    # The revoked device is signed out on its next page load; the first one is not.
    second_device.reload()
    expect(second_device.get_by_role("heading", name="Sign In")).to_be_visible()
    expect(second_device.locator(".usernav")).to_have_count(0)
    member.reload()
    expect(member.get_by_role("heading", name="Your sessions")).to_be_visible()
