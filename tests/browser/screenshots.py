"""`make screenshots`: one picture per main page, role and width, so a person can look at the
whole product in a minute. Not a test (the file name keeps it out of the suite): it seeds the
demo organization, signs in as each of its four people (owner, admin, member, read-only) and
saves what each sees at a laptop width (1366 px) and a phone width (390 px) under
`screenshots/<width>/<role>-<page>.png`, full page."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management import call_command
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Page

from accounts.models import Organization
from contacts.models import Company, Contact
from demo.management.commands.seed_demo import DEMO_PASSWORD, TEAM
from logicnet.tenancy.context import tenant_context

OUT = Path(__file__).resolve().parents[2] / "screenshots"
WIDTHS = {"laptop": (1366, 800), "phone": (390, 844)}
PAGES = [
    # (file name, URL name, needs an object: None, "contact" or "company")
    ("dashboard", "dashboard", None),
    ("contacts", "contact_list", None),
    ("contact", "contact_detail", "contact"),
    ("companies", "company_list", None),
    ("company", "company_detail", "company"),
    ("tasks", "my_tasks", None),
    ("deals-board", "deal_board", None),
    ("deals-list", "deal_list", None),
    ("imports", "import_list", None),
    ("exports", "export_list", None),
    ("privacy-desk", "privacy_desk", None),
    ("consent", "consent_purposes", None),
    ("members", "members", None),
    ("settings", "organization_settings", None),
    ("billing", "billing", None),
]


def _urls(organization) -> list[tuple[str, str]]:
    with tenant_context(organization):
        objects = {
            "contact": Contact.objects.filter(organization=organization).order_by("created_at").first(),
            "company": Company.objects.filter(organization=organization).order_by("created_at").first(),
        }
    urls = []
    for name, url_name, needs in PAGES:
        kwargs = {"org_slug": organization.slug}
        if needs:
            kwargs[f"{needs}_id"] = objects[needs].pk
        try:
            urls.append((name, reverse(url_name, kwargs=kwargs)))
        except NoReverseMatch:
            continue  # a page this build does not have
    return urls


def _sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label(re.compile(r"^Email:?$")).fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state("networkidle")


def test_screenshots(chromium, platform_db, live_site):
    call_command("seed_demo")
    organization = Organization.objects.get(slug="demo-srl")
    urls = _urls(organization)
    saved = 0
    for email, _name, role in TEAM:
        for width_name, (width, height) in WIDTHS.items():
            context = chromium.new_context(
                base_url=live_site,
                viewport={"width": width, "height": height},
                locale="en-GB",
                timezone_id="Europe/Bucharest",
            )
            page = context.new_page()
            _sign_in(page, email)
            folder = OUT / width_name
            folder.mkdir(parents=True, exist_ok=True)
            for name, url in urls:
                page.goto(url)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(folder / f"{role}-{name}.png"), full_page=True)
                saved += 1
            context.close()
    print(f"\n{saved} screenshots in {OUT}")
    assert saved == len(urls) * len(TEAM) * len(WIDTHS)
