"""Hold a session that signed in with the password but has not yet given its second factor."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts.two_factor import has_two_factor

# Paths a half-signed-in session may still reach: signing out, the language switcher,
# the load balancer's probe and the static files the verify page itself needs.
EXEMPT_PREFIXES = ("/healthz", "/i18n/")
SAFE_METHODS = {"GET", "HEAD"}


def redirect_preserving_htmx(request, url: str):
    """An htmx request would swap a followed redirect's whole page into its target; ask
    htmx to navigate the window instead."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def url_with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def return_path(request) -> str:
    """Where to come back to afterwards: a page is reopened, a form post is not replayed."""
    return request.get_full_path() if request.method in SAFE_METHODS else reverse("home")


class TwoFactorMiddleware:
    """Send an authenticated user who has a confirmed device, in a session not yet
    OTP-verified, to the verify page. django-otp's OTPMiddleware (earlier in MIDDLEWARE)
    installs request.user.is_verified()."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        # Cheapest test first: has_two_factor() may query the devices.
        held = user.is_authenticated and not user.is_verified() and not self._is_exempt(request)
        if held and has_two_factor(user):
            return redirect_preserving_htmx(request, url_with_next("two_factor_verify", return_path(request)))
        return self.get_response(request)

    @staticmethod
    def _is_exempt(request) -> bool:
        if request.path in (reverse("two_factor_verify"), reverse("account_logout")):
            return True
        static_path = urlsplit(settings.STATIC_URL).path
        return request.path_info.startswith(EXEMPT_PREFIXES) or request.path.startswith(static_path)
