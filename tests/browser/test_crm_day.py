"""A day in the CRM, clicked through in a real browser: a company and its people, a note, a
call and a task, the header search (diacritics, phone numbers, the keyboard), a saved
view, a bulk tag, a merge of two duplicates, and another organization's 404."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from contacts.services.contacts import create_contact
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

COMPANY = "Târgu Mureș Logistică SRL"
STEFAN = "Ștefan Popescu"
IOANA = "Ioana Bălănescu"
DUPLICATE = "Stefan Popescu"
TAG = "Târg Iași 2026"


def field(page_or_scope, label: str):
    """A form field by its label, as written on the page (Django adds a colon)."""
    return page_or_scope.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def flash(page: Page):
    return page.locator("ul.messages")


def open_list_panels(page: Page, *names: str) -> None:
    """Unfold the list toolbar's panels (Filters, Saved views, Export); an opened panel stays
    open on the list's next pages in this tab."""
    for name in names:
        summary = page.locator("details.list-panel > summary", has_text=name)
        if summary.locator("xpath=..").get_attribute("open") is None:
            summary.click()


def main_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def sign_in(page: Page, user) -> None:
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Sign In")).to_be_visible()
    field(page, "Email").fill(user.email)
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator(".usernav summary", has_text=user.full_name)).to_be_visible()


def timeline(page: Page):
    return page.get_by_role("region", name="Timeline").locator("ol.timeline")


def new_contact(page: Page, *, first: str, last: str, email: str, phone: str, choose: dict | None = None) -> None:
    """Open the contact form from the contacts list and fill it in (without saving);
    `choose` picks options of selects by their labels."""
    main_nav(page, "Contacts")
    page.get_by_role("link", name="New contact").click()
    expect(page.get_by_role("heading", name="New contact")).to_be_visible()
    field(page, "First name").fill(first)
    field(page, "Last name").fill(last)
    field(page, "Email address").fill(email)
    field(page, "Phone").fill(phone)
    for label, option in (choose or {}).items():
        field(page, label).select_option(label=option)


def log_interaction(page: Page, name: str, kind: str, subject: str, body: str) -> None:
    """From the page of the contact `name`, who is the participant."""
    page.get_by_role("link", name="Log an interaction").click()
    expect(page.get_by_role("heading", name="Log an interaction")).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile(re.escape(name)))).to_be_checked()
    field(page, "Type").select_option(label=kind)
    field(page, "Subject").fill(subject)
    field(page, "Details").fill(body)
    page.get_by_role("button", name="Save").click()


def match_count(page: Page):
    return page.locator(".list-count")


def search_box(page: Page):
    return page.get_by_role("combobox", name="Search people and companies")


def search_results(page: Page):
    return page.get_by_role("listbox", name="Search results").get_by_role("option")


def test_a_day_in_the_crm(new_page, alice, bob, org_a, charlie, org_b):
    # The outsider's organization has a look-alike: same name, same phone.
    create_contact(
        organization=org_b,
        actor=charlie,
        data={"first_name": "Ștefan", "last_name": "Popescu", "phone": "+40 721 234 567"},
    )

    owner = new_page("owner")
    sign_in(owner, alice)

    # --- A company, through its form.
    main_nav(owner, "Companies")
    owner.get_by_role("link", name="New company").click()
    expect(owner.get_by_role("heading", name="New company")).to_be_visible()
    field(owner, "Name").fill(COMPANY)
    field(owner, "Tags").fill(TAG)
    owner.get_by_role("button", name="Create company").click()
    expect(flash(owner)).to_contain_text("Company created.")
    expect(owner.get_by_role("heading", level=1)).to_have_text(COMPANY)

    # --- Two people at it: the company is typed by name, the phone in international format.
    new_contact(
        owner,
        first="Ștefan",
        last="Popescu",
        email="stefan.popescu@tmlogistica.ro",
        phone="+40 721 234 567",
        choose={"Lifecycle status": "Customer"},
    )
    field(owner, "Company").fill(COMPANY)
    owner.get_by_role("button", name="Create contact").click()
    expect(flash(owner)).to_contain_text("Contact created.")
    expect(owner.get_by_role("heading", level=1)).to_contain_text(STEFAN)
    expect(owner.locator(".contact-role").get_by_role("link", name=COMPANY)).to_be_visible()
    stefan_url = owner.url

    new_contact(
        owner,
        first="Ioana",
        last="Bălănescu",
        email="ioana@tmlogistica.ro",
        phone="0744 123 456",
        choose={"Lifecycle status": "Lead", "Owner": bob.full_name},
    )
    field(owner, "Company").fill(COMPANY)
    owner.get_by_role("button", name="Create contact").click()
    expect(flash(owner)).to_contain_text("Contact created.")
    expect(owner.get_by_role("heading", level=1)).to_contain_text(IOANA)
    expect(owner.get_by_text("+40 744 123 456")).to_be_visible()
    expect(owner.get_by_role("region", name="Details")).to_contain_text(bob.full_name)

    # --- A note, a call and a task on Ștefan's page; the timeline loads by htmx.
    owner.goto(stefan_url)
    expect(timeline(owner)).to_contain_text("No interactions or tasks with this contact yet.")
    expect(timeline(owner)).not_to_have_attribute("aria-busy", "true")

    for kind, subject, body in (
        ("Note", "Prefers e-mail in the morning", "Asked for the Q3 price list."),
        ("Call", "Call about the Cluj depot", "Wants a quote for 12 pallets a week."),
    ):
        log_interaction(owner, STEFAN, kind, subject, body)
        expect(owner).to_have_url(stefan_url)
        entry = timeline(owner).locator(".timeline-interaction", has_text=subject)
        expect(entry.locator(".badge")).to_have_text(kind)
        expect(entry).to_contain_text(body)

    owner.get_by_role("link", name="Add a task").click()
    expect(owner.get_by_role("heading", name="New task")).to_be_visible()
    field(owner, "Title").fill("Send the quote for the Cluj depot")
    owner.get_by_role("button", name="Save").click()
    expect(owner).to_have_url(stefan_url)
    task = timeline(owner).locator(".timeline-task", has_text="Send the quote for the Cluj depot")
    expect(task).to_contain_text(alice.full_name)
    expect(timeline(owner).locator(".timeline-entry")).to_have_count(3)

    # --- The header search: "stef" finds Ștefan (and not the outsider's look-alike);
    # the keyboard opens him.
    main_nav(owner, "Contacts")
    search_box(owner).fill("stef")
    expect(search_results(owner)).to_have_count(1)
    expect(search_results(owner).first).to_contain_text(STEFAN)
    expect(search_box(owner)).to_have_attribute("aria-expanded", "true")
    search_box(owner).press("ArrowDown")
    expect(search_results(owner).first).to_have_attribute("aria-selected", "true")
    option_id = search_results(owner).first.get_attribute("id")
    expect(search_box(owner)).to_have_attribute("aria-activedescendant", option_id)
    search_box(owner).press("Enter")
    expect(owner).to_have_url(stefan_url)
    expect(owner.get_by_role("heading", level=1)).to_contain_text(STEFAN)

    # Typed with its diacritics, a name is found too.
    search_box(owner).fill("bălă")
    expect(search_results(owner)).to_have_count(1)
    expect(search_results(owner).first).to_contain_text(IOANA)

    # ...and Ștefan by his phone number, typed the national way with spaces.
    search_box(owner).fill("0721 234 567")
    expect(search_results(owner).first).to_contain_text(STEFAN)  # once the names' results are replaced
    expect(search_results(owner)).to_have_count(1)
    search_results(owner).first.click()
    expect(owner).to_have_url(stefan_url)

    # --- The contacts list: filter by status, save it as a view, open it again.
    main_nav(owner, "Contacts")
    expect(match_count(owner)).to_have_text("2 matches")
    open_list_panels(owner, "Filters", "Saved views")
    filters = owner.get_by_role("form", name="Filters")
    field(filters, "Status").select_option(label="Customer")
    filters.get_by_role("button", name="Apply").click()
    expect(match_count(owner)).to_have_text("1 match")
    rows = owner.locator("#list-results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(STEFAN)

    saved_views = owner.get_by_role("navigation", name="Saved views")
    field(saved_views, "Save these filters as").fill("Clienți activi")
    saved_views.get_by_role("button", name="Save view").click()
    expect(flash(owner)).to_contain_text("View “Clienți activi” saved.")
    expect(saved_views.get_by_role("link", name="Clienți activi")).to_have_attribute("aria-current", "page")

    filters.get_by_role("link", name="Clear filters").click()
    expect(match_count(owner)).to_have_text("2 matches")
    expect(saved_views.get_by_role("link", name="Clienți activi")).not_to_have_attribute("aria-current", "page")
    saved_views.get_by_role("link", name="Clienți activi").click()
    expect(match_count(owner)).to_have_text("1 match")
    expect(field(filters, "Status")).to_have_value("customer")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(STEFAN)

    # --- Bulk tag: tick both people, add the tag.
    filters.get_by_role("link", name="Clear filters").click()
    expect(rows).to_have_count(2)
    owner.get_by_role("checkbox", name=f"Select {STEFAN}").check()
    owner.get_by_role("checkbox", name=f"Select {IOANA}").check()
    expect(owner.get_by_role("checkbox", name="Select all on this page")).to_be_checked()
    bulk = owner.get_by_role("group", name="Bulk actions on the ticked contacts")
    field(bulk, "Action").select_option(label="Add tag")
    field(bulk, "Tag").select_option(label=TAG)
    bulk.get_by_role("button", name="Apply to selection").click()
    expect(flash(owner)).to_contain_text("Tag added to 2 contacts.")
    for name in (STEFAN, IOANA):
        expect(rows.filter(has_text=name).locator(".badge", has_text=TAG)).to_be_visible()

    # --- A duplicate of Ștefan. With his email address (written in capitals): the form warns
    # while typing, with a link to him, and refuses it on saving, without offering "Save
    # anyway" (an organization keeps each email address once).
    new_contact(owner, first="Stefan", last="Popescu", email="Stefan.Popescu@TMLogistica.ro", phone="0721 234 567")
    field(owner, "Job title").fill("Director vânzări")  # leaving the phone field runs the check
    warning = owner.locator("#duplicates")
    expect(warning).to_contain_text("Possible duplicate:")
    expect(warning.get_by_role("link", name=STEFAN)).to_have_attribute("href", urlsplit(stefan_url).path)
    owner.get_by_role("button", name="Create contact").click()
    errors = owner.get_by_role("alert")
    expect(errors.get_by_role("link", name="Email address")).to_be_visible()
    expect(errors).to_contain_text("A contact with this email address already exists.")
    expect(field(owner, "Save anyway")).to_have_count(0)

    # Another address but his phone, written the national way: a warning "Save anyway" passes.
    field(owner, "Email address").fill("s.popescu@gmail.com")
    field(owner, "Tags").fill("VIP")
    expect(warning.get_by_role("link", name=STEFAN)).to_be_visible()
    owner.get_by_role("button", name="Create contact").click()
    expect(errors).to_contain_text("Contacts with the same email address or phone already exist.")
    field(owner, "Save anyway").check()
    owner.get_by_role("button", name="Create contact").click()
    expect(flash(owner)).to_contain_text("Contact created.")
    expect(owner.get_by_role("heading", level=1)).to_contain_text(DUPLICATE)
    duplicate_url = owner.url
    log_interaction(owner, DUPLICATE, "Meeting", "Met at the Iași fair", "Brought samples.")
    expect(owner).to_have_url(duplicate_url)
    expect(timeline(owner).locator(".timeline-interaction", has_text="Met at the Iași fair")).to_be_visible()

    # --- Merge the duplicate into Ștefan, taking its job title; its tag and its meeting come along.
    owner.goto(stefan_url)
    duplicates = owner.get_by_role("status").filter(has=owner.get_by_role("heading", name="Possible duplicates"))
    expect(duplicates.get_by_role("link", name=DUPLICATE)).to_be_visible()
    duplicates.get_by_role("link", name="Merge into this contact").click()
    expect(owner.get_by_role("heading", name="Merge contacts")).to_be_visible()
    job_title = owner.get_by_role("row", name=re.compile("^Job title"))
    job_title.get_by_role("radio", name="Director vânzări").check()
    owner.once("dialog", lambda dialog: dialog.accept())
    owner.get_by_role("button", name="Merge").click()
    expect(flash(owner)).to_contain_text("Contacts merged.")
    expect(owner).to_have_url(stefan_url)
    expect(owner.get_by_role("heading", level=1)).to_contain_text(STEFAN)
    expect(owner.locator(".contact-role")).to_contain_text("Director vânzări")
    details = owner.get_by_role("region", name="Details")
    expect(details.locator(".badge", has_text=TAG)).to_be_visible()
    expect(details.locator(".badge", has_text="VIP")).to_be_visible()
    expect(details).to_contain_text("s.popescu@gmail.com")
    expect(owner.get_by_role("heading", name="Possible duplicates")).to_have_count(0)
    expect(timeline(owner).locator(".timeline-entry")).to_have_count(4)
    for subject in ("Prefers e-mail in the morning", "Call about the Cluj depot", "Met at the Iași fair"):
        expect(timeline(owner).locator(".timeline-interaction", has_text=subject)).to_be_visible()

    response = owner.goto(duplicate_url)
    assert response.status == 404
    expect(owner.get_by_role("heading", name="Not Found")).to_be_visible()

    # --- The outsider, signed in to their own organization, gets a 404 for that contact:
    # under its organization's URL, and under their own.
    outsider = new_page("outsider")
    sign_in(outsider, charlie)
    response = outsider.goto(stefan_url)
    assert response.status == 404
    expect(outsider.get_by_role("heading", name="Not Found")).to_be_visible()
    expect(outsider.get_by_text(STEFAN)).to_have_count(0)
    own_org_url = re.sub(r"/o/[^/]+/", f"/o/{org_b.slug}/", stefan_url)
    response = outsider.goto(own_org_url)
    assert response.status == 404
    expect(outsider.get_by_role("heading", name="Not Found")).to_be_visible()
    expect(outsider.get_by_text(STEFAN)).to_have_count(0)


PHONE = {"width": 390, "height": 844}


def test_the_crm_fits_a_phone_screen(new_page, alice, org_a):
    """The pages people use on the road, at a phone's width: nothing wider than the screen
    (a wide table scrolls inside its own box), and the search box and menus still usable."""
    contact = create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Ștefan", "last_name": "Popescu-Rădulescu", "email": "stefan@tmlogistica.ro"},
    )
    page = new_page("phone", viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, alice)
    slug = {"org_slug": org_a.slug}
    for path in (
        reverse("contact_list", kwargs=slug),
        reverse("contact_detail", kwargs={**slug, "contact_id": contact.pk}),
        reverse("contact_create", kwargs=slug),
        reverse("company_list", kwargs=slug),
        reverse("my_tasks", kwargs=slug),
    ):
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a {PHONE['width']}px screen"
    page.goto(reverse("contact_list", kwargs=slug))
    search_box(page).fill("stef")
    expect(search_results(page)).to_have_count(1)
    search_results(page).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ștefan")
