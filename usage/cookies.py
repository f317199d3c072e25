"""Every cookie Logicnet sets, for the cookie settings page (the privacy policy's cookie
section names the same ones; a test holds the two together). All are first-party and
necessary: analytics consent adds no cookie, it lets the server record usage events."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str
    lifetime: str


def _days(seconds: int | None) -> str:
    if not seconds:
        return str(_("until the browser is closed"))
    days = round(seconds / 86400)
    return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}


def necessary_cookies() -> list[Cookie]:
    from accounts.sign_in_throttle import KNOWN_DEVICE_COOKIE, KNOWN_DEVICE_MAX_AGE

    return [
        Cookie(settings.SESSION_COOKIE_NAME, _("keeps you signed in"), _days(settings.SESSION_COOKIE_AGE)),
        Cookie(
            settings.CSRF_COOKIE_NAME,
            _("protects forms against cross-site request forgery"),
            _days(settings.CSRF_COOKIE_AGE),
        ),
        Cookie(
            settings.LANGUAGE_COOKIE_NAME, _("remembers the language you chose"), _days(settings.LANGUAGE_COOKIE_AGE)
        ),
        Cookie("messages", _("carries a one-time notice to the next page"), _days(None)),
        Cookie(
            KNOWN_DEVICE_COOKIE,
            _("recognises a browser you signed in from, against password guessing"),
            _days(KNOWN_DEVICE_MAX_AGE),
        ),
        Cookie(
            settings.COOKIE_CHOICE_COOKIE_NAME, _("remembers your cookie choice"), _days(settings.COOKIE_CHOICE_MAX_AGE)
        ),
    ]
