"""The cookie banner in a real browser: refusing records nothing and sets no analytics
cookie; accepting records the features used; the footer's Cookie settings link opens the
banner again and a withdrawal takes effect at once (issue 10, Logicnet's own cookies)."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from logicnet.tenancy.context import tenant_context
from tests.browser.test_crm_day import main_nav, sign_in
from usage.models import CookieChoice, UsageEvent

pytestmark = pytest.mark.browser

# Every cookie Logicnet may set (usage/cookies.py); none of them is an analytics cookie.
NECESSARY = {"sessionid", "csrftoken", "django_language", "messages", "logicnet_device", "logicnet_cookies"}


def banner(page: Page):
    return page.get_by_role("region", name="Cookies on Logicnet CRM")


def cookie_names(page: Page) -> set[str]:
    return {cookie["name"] for cookie in page.context.cookies()}


def choice_cookie(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == settings.COOKIE_CHOICE_COOKIE_NAME)


def usage(organization) -> list[str]:
    with tenant_context(organization):
        return list(UsageEvent.objects.order_by("occurred_at", "id").values_list("feature", flat=True))


def visit_contacts_and_companies(page: Page) -> None:
    main_nav(page, "Contacts")
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    main_nav(page, "Companies")
    expect(page.get_by_role("heading", name="Companies", level=1)).to_be_visible()


def test_refusing_analytics_records_nothing_and_sets_no_analytics_cookie(new_page, alice, org_a):
    page = new_page("visitor")
    page.goto("/accounts/login/")
    expect(banner(page)).to_be_visible()
    # Keyboard only: the banner's buttons come right after the skip link and the policy link.
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # "Read more in the privacy policy"
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Accept analytics")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Necessary only")).to_be_focused()
    page.keyboard.press("Enter")
    expect(banner(page)).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="necessary cookies only")).to_have_count(1)
    assert ".n." in choice_cookie(page)
    record = CookieChoice.objects.get()
    assert (record.user_id, record.analytics) == (None, False)

    sign_in(page, alice)
    expect(banner(page)).to_be_hidden()  # the answer holds after signing in
    visit_contacts_and_companies(page)
    page.goto(f"/o/{org_a.slug}/")
    expect(page.get_by_role("heading", name="Recently used")).to_be_visible()
    expect(page.get_by_text("Nothing is recorded about your use")).to_be_visible()

    assert usage(org_a) == []
    assert cookie_names(page) <= NECESSARY


def test_accepting_records_usage_and_the_footer_withdraws_it(new_page, alice, org_a):
    page = new_page("owner")
    sign_in(page, alice)  # the banner waits at the top and covers nothing meanwhile
    expect(banner(page)).to_be_visible()
    main_nav(page, "Contacts")
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    assert usage(org_a) == []  # no usage event before consent

    page.get_by_role("button", name="Accept analytics").click()
    expect(banner(page)).to_be_hidden()
    assert ".a." in choice_cookie(page)
    assert CookieChoice.objects.get().user_id == alice.pk

    visit_contacts_and_companies(page)
    assert usage(org_a) == ["contacts.list", "companies.list"]
    assert cookie_names(page) <= NECESSARY  # analytics itself sets no cookie

    page.goto(f"/o/{org_a.slug}/")
    recent = page.get_by_role("region", name="Recently used")
    expect(recent.get_by_role("link", name="Companies")).to_be_visible()
    expect(recent.get_by_role("link", name="Contacts")).to_be_visible()
    expect(page.get_by_role("region", name="You may also want").get_by_role("link")).not_to_have_count(0)

    # Change of mind, from the footer, without leaving the page.
    settings_link = page.get_by_role("link", name="Cookie settings")
    settings_link.click()
    expect(banner(page)).to_be_visible()
    expect(banner(page)).to_be_focused()
    banner(page).get_by_role("button", name="Necessary only").click()
    expect(banner(page)).to_be_hidden()
    expect(settings_link).to_be_focused()
    assert ".n." in choice_cookie(page)
    assert list(CookieChoice.objects.order_by("recorded_at", "id").values_list("analytics", flat=True)) == [True, False]
    assert usage(org_a) == []  # withdrawn: what was recorded is gone

    visit_contacts_and_companies(page)
    assert usage(org_a) == []


def test_cookie_settings_work_without_javascript(new_page):
    page = new_page("no-script", java_script_enabled=False)
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Cookie settings").click()
    expect(page.get_by_role("heading", name="Cookie settings", level=1)).to_be_visible()
    page.get_by_role("main").get_by_role("button", name="Accept analytics").click()
    expect(page.locator("ul.messages")).to_contain_text("analytics allowed")
    assert ".a." in choice_cookie(page)
