"""Each demo role's view of every main page, at a laptop's width (1366 px) and a phone's
(390 px), in a real browser: nothing wider than the screen (element boxes measured, not only
the page's width; a wide table scrolls inside its own box), the header on one line, the
navigation reaching every section it offers (the menu button on a phone), every section it
offers opening for that role, a page the role may not open refused in the product's layout,
and no script or console error anywhere.

The pages and roles are those of `make screenshots` (tests/browser/screenshots.py)."""

from __future__ import annotations

from django.core.management import call_command
from playwright.sync_api import Page, expect

from accounts.models import Organization
from demo.management.commands.seed_demo import TEAM
from tests.browser.screenshots import WIDTHS, _sign_in, _urls

# Boxes measured in the page: the page's own overflow; the header's visible items, which
# must share one line and stay on screen (on a phone the search box has the line below to
# itself, by design); any element of the page that reaches past the screen's right edge
# without a scrolling (or clipping) box around it. The content of a closed <details> is laid
# out by Chromium but not shown, so it does not count.
MEASURE = """
(phone) => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const overflow = document.documentElement.scrollWidth - width;
  if (overflow > 0) problems.push(`the page is ${overflow}px wider than the screen`);
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.display !== "none" && style.visibility !== "hidden" && box.width > 0 && box.height > 0;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const header = document.querySelector("header.topbar");
  if (header) {
    const ownLine = (el) => phone && el.classList.contains("headersearch");
    const all = [...header.children].filter((el) => visible(el) && !el.classList.contains("skip-link"));
    const items = all.filter((el) => !ownLine(el));
    const firstBottom = Math.min(...items.map((el) => el.getBoundingClientRect().bottom));
    for (const el of all) {
      const box = el.getBoundingClientRect();
      if (!ownLine(el) && box.top >= firstBottom - 1) problems.push(`the header wraps: ${name(el)} is on a second line`);
      if (box.right > width + 1 || box.left < -1) problems.push(`${name(el)} in the header is off screen`);
    }
  }
  const scrolls = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  let reported = 0;
  for (const el of document.querySelectorAll("main *, header *")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    if (!visible(el) || scrolls(el) || el.closest(".visually-hidden, [hidden]")) continue;
    const closed = el.closest("details:not([open])");
    if (closed && !el.closest("summary")) continue;
    problems.push(`${name(el)} reaches ${Math.round(box.right - width)}px past the screen's edge`);
    if (++reported >= 3) break;
  }
  return problems;
}
"""


def _watch_console(page: Page, problems: list[str], label: str, expected_status: dict) -> None:
    """Every console error is a problem, but the browser's own note of a refused page that
    the test expects (a 403 for a role without the right)."""

    def on_console(message) -> None:
        if message.type != "error":
            return
        if "Failed to load resource" in message.text and expected_status.get("refused"):
            return
        problems.append(f"[{label}] console error on {page.url}: {message.text}")

    page.on("console", on_console)


def _check_navigation(page: Page, problems: list[str], label: str, phone: bool) -> list[str]:
    """The navigation's links, after checking each can be reached and is on screen."""
    nav = page.locator("#app-nav")
    toggle = page.locator("[data-menu-toggle]")
    if phone:
        expect(nav).to_be_hidden()
        expect(toggle).to_be_visible()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    else:
        expect(toggle).to_be_hidden()
    expect(nav).to_be_visible()
    width = page.viewport_size["width"]
    hrefs = []
    for link in nav.get_by_role("link").all():
        link.scroll_into_view_if_needed()
        box = link.bounding_box()
        if box is None or box["x"] < 0 or box["x"] + box["width"] > width + 1:
            problems.append(f"[{label}] the menu link {link.inner_text()!r} is off screen")
        hrefs.append(link.get_attribute("href"))
    if phone:
        page.keyboard.press("Escape")
        expect(nav).to_be_hidden()
    return hrefs


def test_every_page_fits_and_works_for_every_role_at_both_widths(new_page, platform_db, live_site):
    call_command("seed_demo")
    organization = Organization.objects.get(slug="demo-srl")
    urls = _urls(organization)
    problems: list[str] = []
    visited = 0
    for email, _name, role in TEAM:
        for width_name, (width, height) in WIDTHS.items():
            phone = width_name == "phone"
            label = f"{role}@{width}px"
            options = {"viewport": {"width": width, "height": height}}
            if phone:
                options.update(is_mobile=True, has_touch=True)
            page = new_page(label, **options)
            expected: dict = {}
            _watch_console(page, problems, label, expected)
            _sign_in(page, email)
            necessary_only = page.get_by_role("button", name="Necessary only")
            if necessary_only.is_visible():
                necessary_only.click()
            page.goto(urls[0][1])
            offered = set(_check_navigation(page, problems, label, phone))
            known = {url for _name, url in urls}
            pages = urls + [(href, href) for href in sorted(offered - known)]
            for name, url in pages:
                expected["refused"] = url not in offered
                response = page.goto(url)
                page.wait_for_load_state("networkidle")
                visited += 1
                if url in offered and response.status != 200:
                    problems.append(f"[{label}] {name}: the menu offers it, and it answers {response.status}")
                if response.status == 403:
                    # Refused in the product's layout, not a bare "403 Forbidden".
                    if not page.locator("header.topbar").is_visible() or not page.locator("main h1").is_visible():
                        problems.append(f"[{label}] {name}: a refusal outside the product's layout")
                elif response.status != 200:
                    problems.append(f"[{label}] {name}: answers {response.status}")
                problems += [f"[{label}] {name}: {problem}" for problem in page.evaluate(MEASURE, phone)]
    assert visited >= len(urls) * len(TEAM) * len(WIDTHS)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
