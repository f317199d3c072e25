"""The deals board in a real browser: an admin creates a pipeline and a lost reason, adds
deals, drags one to another stage with the mouse and moves another with the keyboard, marks
one won and one lost with a reason; two people move the same deal and the second is told,
the card snapping back to where the deal really is. Also at 390 px wide."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from deals.models import Deal
from logicnet.tenancy.context import tenant_context
from tests.factories import PASSWORD, make_member, make_organization, make_user

pytestmark = pytest.mark.browser

STAGES = ["Qualified", "Contact made", "Proposal sent", "Negotiation"]


def field(page_or_scope, label: str):
    return page_or_scope.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def sign_in(page: Page, user) -> None:
    page.goto("/accounts/login/")
    field(page, "Email").fill(user.email)
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.locator(".usernav summary", has_text=user.full_name)).to_be_visible()


def column(page: Page, stage: str):
    return page.locator("section.deal-column", has=page.get_by_role("heading", name=re.compile(rf"^{stage}\b")))


def card(page: Page, title: str):
    return page.locator(".deal-card", has=page.get_by_role("link", name=title, exact=True))


def new_deal(page: Page, title: str, value: str) -> None:
    page.get_by_role("link", name="New deal").click()
    field(page, "Title").fill(title)
    field(page, "Value").fill(value)
    page.get_by_role("button", name="Create deal").click()
    expect(page.get_by_role("heading", name=re.compile(title))).to_be_visible()
    page.get_by_role("link", name="Board", exact=True).first.click()


def drag(page: Page, source, target) -> None:
    """A mouse drag in small steps, as a person does (SortableJS follows pointer moves)."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    goal = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 5, box["y"] + 15, steps=3)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] - 10, steps=15)
    page.mouse.up()


def won_and_lost_this_month(page: Page):
    """The cells of this month's row in the table of "Deals won and lost per month"."""
    chart = page.locator("section.chart-card", has=page.get_by_role("heading", name="Deals won and lost per month"))
    chart.get_by_text("The numbers").click()
    return chart.locator("tbody tr").last.locator("td")


def stage_of(organization, title: str) -> str:
    with tenant_context(organization):
        for deal in Deal.objects.filter(organization=organization).select_related("stage"):
            if deal.title == title:
                return deal.stage.name
    raise AssertionError(title)


def test_pipeline_deals_drag_keyboard_won_lost_and_a_stale_move(new_page):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    teammate = make_user("bob@alpha.example", "Bob Beta")
    organization = make_organization("Alpha SRL", owner=owner)
    make_member(organization, teammate, "member")

    page: Page = new_page("owner")
    sign_in(page, owner)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deals", exact=True).click()
    page.get_by_role("link", name="Pipelines and settings").click()
    # A pipeline of its own, made the default, and a reason to lose deals for.
    pipelines = page.get_by_role("region", name="Pipelines")
    field(pipelines, "Name").fill("Renovations")
    field(pipelines, "Default pipeline").check()
    page.get_by_role("button", name="Add pipeline").click()
    expect(page.get_by_role("heading", name="Renovations")).to_be_visible()
    page.get_by_role("link", name="Pipelines and settings").click()
    field(page, "Reason").fill("Too expensive")
    page.get_by_role("button", name="Add reason").click()
    expect(page.locator("ul.messages")).to_contain_text("Reason added.")

    page.get_by_role("link", name="Board", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Renovations"))).to_be_visible()
    for title, value in (("Roof", "12000"), ("Fence", "800"), ("Gate", "450.50"), ("Shed", "99.99")):
        new_deal(page, title, value)
    first = column(page, "Qualified")
    expect(first.locator(".deal-card")).to_have_count(4)
    expect(first.locator("[data-count]")).to_have_text("4")

    # The mouse: Roof to "Contact made".
    drag(page, card(page, "Roof"), column(page, "Contact made").locator(".deal-column-list"))
    expect(page.locator("#board-status")).to_have_text("Moved to Contact made.")
    expect(column(page, "Contact made").locator(".deal-card")).to_have_count(1)
    assert stage_of(organization, "Roof") == "Contact made"
    # Both columns' totals come back with the move (out-of-band swaps of their headers).
    expect(column(page, "Contact made").locator("[data-count]")).to_have_text("1")
    expect(column(page, "Contact made").locator("[data-total]")).to_have_text(re.compile(r"^12,000\.00 "))
    expect(first.locator("[data-count]")).to_have_text("3")
    expect(first.locator("[data-total]")).to_have_text(re.compile(r"^1,350\.49 "))

    # The keyboard: Fence to "Proposal sent" through its menu; the focus stays on the card.
    menu = card(page, "Fence").locator("summary")
    menu.focus()
    page.keyboard.press("Enter")
    target = card(page, "Fence").get_by_role("button", name="Proposal sent")
    target.focus()
    page.keyboard.press("Enter")
    expect(column(page, "Proposal sent").get_by_role("link", name="Fence")).to_be_focused()
    assert stage_of(organization, "Fence") == "Proposal sent"
    expect(column(page, "Proposal sent").locator("[data-count]")).to_have_text("1")
    expect(first.locator("[data-count]")).to_have_text("2")

    # The dashboard before: nothing won or lost this month.
    board_url = page.url
    page.goto(board_url.split("/deals/")[0] + "/")
    this_month = won_and_lost_this_month(page)
    expect(this_month).to_have_text(["0", "0"])
    page.goto(board_url)

    # Won and lost (a reason is required).
    page.get_by_role("link", name="Gate", exact=True).click()
    page.get_by_role("button", name="Mark won").click()
    expect(page.locator("ul.messages")).to_contain_text("Marked won.")
    page.get_by_role("link", name="Board", exact=True).first.click()
    page.get_by_role("link", name="Shed", exact=True).click()
    page.get_by_role("button", name="Mark lost").click()
    expect(page.locator("ul.messages")).to_contain_text("Choose why the deal was lost.")
    field(page, "Why was it lost?").select_option(label="Too expensive")
    page.get_by_role("button", name="Mark lost").click()
    expect(page.locator("ul.messages")).to_contain_text("Marked lost.")
    expect(page.get_by_text("Too expensive")).to_be_visible()
    # The dashboard after: one won and one lost this month.
    page.goto(board_url.split("/deals/")[0] + "/")
    expect(won_and_lost_this_month(page)).to_have_text(["1", "1"])

    # Two people, one deal: the teammate's board was opened before the owner's move.
    other: Page = new_page("teammate")
    sign_in(other, teammate)
    other.goto(board_url)
    expect(card(other, "Roof")).to_be_visible()
    page.goto(board_url)
    card(page, "Roof").locator("summary").click()
    card(page, "Roof").get_by_role("button", name="Negotiation").click()
    expect(column(page, "Negotiation").get_by_role("link", name="Roof")).to_be_visible()

    drag(other, card(other, "Roof"), column(other, "Qualified").locator(".deal-column-list"))
    expect(other.locator("#board-status")).to_contain_text("Someone else changed this deal")
    # The card snaps to where the deal really is.
    expect(column(other, "Negotiation").get_by_role("link", name="Roof")).to_be_visible()
    expect(column(other, "Qualified").get_by_role("link", name="Roof")).to_have_count(0)
    assert stage_of(organization, "Roof") == "Negotiation"
    # The refused move still brought the columns' totals as they are.
    expect(column(other, "Negotiation").locator("[data-count]")).to_have_text("1")
    expect(column(other, "Contact made").locator("[data-count]")).to_have_text("0")  # the column it left here


def test_the_board_scrolls_by_column_at_390_px(new_page):
    owner = make_user("owner@alpha.example", "Owner Alpha")
    make_organization("Alpha SRL", owner=owner)
    page: Page = new_page("phone", viewport={"width": 390, "height": 844})
    sign_in(page, owner)
    # On a phone the navigation opens from the Menu button.
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deals", exact=True).click()
    board = page.locator(".board")
    expect(board).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"
    assert page.evaluate("document.querySelector('.board').scrollWidth") > 390
