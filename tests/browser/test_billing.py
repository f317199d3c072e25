"""Billing in a real browser: an owner whose free plan has no seat left upgrades through a
Stripe Checkout session (the local fake Stripe API, tests/stripe_fake.py); the session's
completion event is then delivered to the webhook over HTTP, signed with Stripe's library;
a real Celery worker processes it; the plan changes and the seat limit lifts."""

from __future__ import annotations

import copy
import json
import re
import urllib.request

import pytest
import stripe
from playwright.sync_api import Page, expect

from billing.plans import ensure_plans
from tests.factories import PASSWORD, make_member, make_organization, make_user
from tests.stripe_fake import fake_stripe, fixture_event

pytestmark = pytest.mark.browser

SECRET = "whsec_browser_test"
PRO_PRICE = "price_browser_pro_monthly_eur"


def field(page: Page, label: str):
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def sign_in(page: Page, user) -> None:
    page.goto("/accounts/login/")
    field(page, "Email").fill(user.email)
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator(".usernav summary", has_text=user.full_name)).to_be_visible()


def invite(page: Page, organization, email: str) -> None:
    page.goto(f"/o/{organization.slug}/members/")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send invitation").click()


def deliver_signed(base_url: str, event: dict) -> int:
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    request = urllib.request.Request(
        f"{base_url}/billing/stripe/webhook/",
        data=body.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_upgrade_through_checkout_lifts_the_seat_limit(new_page, live_site, settings, start_job_worker):
    ensure_plans()  # migration data, gone if an earlier transactional test flushed the database
    owner = make_user("owner@alpha.example", "Owner Alpha")
    organization = make_organization("Alpha SRL", owner=owner)
    make_member(organization, make_user("member@alpha.example", "Member Alpha"), "member")
    start_job_worker()

    with fake_stripe() as fake:
        fake.complete_at_once = True
        settings.STRIPE_SECRET_KEY = "sk_test_browser"
        settings.STRIPE_WEBHOOK_SECRET = SECRET
        settings.BILLING_ENABLED = True
        settings.STRIPE_API_BASE = fake.base
        settings.STRIPE_PRICES = {**dict.fromkeys(settings.STRIPE_PRICES, ""), "pro:monthly:eur": PRO_PRICE}

        page: Page = new_page("owner")
        sign_in(page, owner)

        # Free: two seats, both taken. The invitation is refused with the way out.
        invite(page, organization, "new.colleague@alpha.example")
        expect(page.get_by_text("Upgrade your plan on the Billing page")).to_be_visible()

        page.get_by_role("link", name="Billing").click()
        expect(page.locator(".billing-plan-name")).to_have_text("Free")
        expect(page.locator(".billing-seats")).to_contain_text("2")
        page.locator('tr[data-plan="pro"]').get_by_role("button", name="Choose Pro").click()
        # Back from Checkout on the success URL.
        expect(page.get_by_text("Thank you. Stripe has your payment")).to_be_visible()
        session = fake.sessions[-1]
        assert session["client_reference_id"] == str(organization.pk)

        # Stripe's completion event for that session, from the real payload, signed.
        completed = copy.deepcopy(fixture_event("event_checkout.session.completed__stripe-ruby-mock.json"))
        completed["id"] = "evt_browser_checkout"
        completed["data"]["object"].update(
            id=session["id"],
            mode="subscription",
            status="complete",
            customer="cus_browser",
            subscription="sub_browser",
            client_reference_id=session["client_reference_id"],
            metadata=session["metadata"],
        )
        assert deliver_signed(live_site, completed) == 200

        for _attempt in range(30):
            page.reload()
            if page.locator(".billing-plan-name").inner_text() == "Pro":
                break
            page.wait_for_timeout(300)
        expect(page.locator(".billing-plan-name")).to_have_text("Pro")
        expect(page.get_by_role("button", name=re.compile("Change card"))).to_be_visible()

        # The limit is lifted: the same invitation now goes.
        invite(page, organization, "new.colleague@alpha.example")
        expect(page.get_by_text("Invitation sent to new.colleague@alpha.example.")).to_be_visible()
