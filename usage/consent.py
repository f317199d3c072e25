"""The cookie choice as the browser carries it: `<notice version>.<a|n>.<visitor id>` in a
first-party, HttpOnly cookie (a necessary cookie: it only remembers the answer).

Nothing here trusts the cookie beyond the visitor's own choice: forging it can only give
consent on one's own behalf, which the banner offers anyway. A cookie of an older notice
version counts as no answer, so the banner asks again.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.conf import settings

_VALUE = re.compile(r"^(?P<version>[0-9A-Za-z-]{1,20})\.(?P<analytics>[an])\.(?P<visitor>[0-9a-f]{32})$")


@dataclass(frozen=True)
class CookieChoiceValue:
    version: str
    analytics: bool
    visitor_id: str

    @property
    def current(self) -> bool:
        return self.version == settings.COOKIE_NOTICE_VERSION

    def encode(self) -> str:
        return f"{self.version}.{'a' if self.analytics else 'n'}.{self.visitor_id}"


def new_visitor_id() -> str:
    return secrets.token_hex(16)


def parse_choice(raw: str | None) -> CookieChoiceValue | None:
    match = _VALUE.match(raw or "")
    if match is None:
        return None
    return CookieChoiceValue(match["version"], match["analytics"] == "a", match["visitor"])


def current_choice(request) -> CookieChoiceValue | None:
    """The visitor's answer to the current cookie notice, or None (the banner shows)."""
    choice = parse_choice(request.COOKIES.get(settings.COOKIE_CHOICE_COOKIE_NAME))
    return choice if choice is not None and choice.current else None


def analytics_allowed(request) -> bool:
    """The one server-side test every usage write passes (GDPR Art. 6(1)(a), ePrivacy Art. 5(3))."""
    # The middleware parsed the cookie once; a request it did not see is read here.
    choice = request.cookie_choice if hasattr(request, "cookie_choice") else current_choice(request)
    return choice is not None and choice.analytics


def set_choice_cookie(response, choice: CookieChoiceValue) -> None:
    response.set_cookie(
        settings.COOKIE_CHOICE_COOKIE_NAME,
        choice.encode(),
        max_age=settings.COOKIE_CHOICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
