"""Hold a session that signed in with the password but has not yet given its second factor;
record each session's activity for the sessions page."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode, urlsplit

from allauth.account.adapter import get_adapter
from allauth.usersessions import app_settings as usersessions_settings
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from accounts.two_factor import has_two_factor, two_factor_setup_required

# Paths a half-signed-in session may still reach: signing out, the language switcher, the
# cookie banner's choice, the load balancer's probe and the static files the verify page needs.
EXEMPT_PREFIXES = ("/healthz", "/i18n/", "/cookies/")
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


def organization_two_factor_gate(request, organization):
    """An organization that requires two-factor authentication sends a member without it
    to the setup page (a TENANCY_ACCESS_GATES entry, run by the tenancy middleware)."""
    if not two_factor_setup_required(user=request.user, organization=organization):
        return None
    message = _("%(name)s requires two-factor authentication. Set it up to continue.")
    messages.warning(request, message % {"name": organization.name})
    return redirect_preserving_htmx(request, url_with_next("two_factor_setup", return_path(request)))


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


class SessionActivityMiddleware:
    """What allauth's UserSessionsMiddleware does (last activity, IP address and browser on
    the user's session record), at most once a minute per session instead of on every
    request: allauth's version runs a transaction with a SELECT and an UPDATE for each page,
    which cost more than the database work of a list page. A new IP address or browser is
    recorded at once, so allauth's session_client_changed signal still fires for it.

    The cache holds digests only: the session key is a credential and the IP address
    personal data, and Redis is not encrypted."""

    INTERVAL_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        tracked = usersessions_settings.TRACK_ACTIVITY and session is not None and session.session_key
        if tracked and user is not None and user.is_authenticated:
            self._record(request, session.session_key)
        return self.get_response(request)

    def _record(self, request, session_key: str) -> None:
        user_agent = request.META.get("HTTP_USER_AGENT", "")
        client = f"{get_adapter().get_client_ip(request)}|{user_agent}"
        key = "session-activity:" + hashlib.sha256(session_key.encode()).hexdigest()
        fingerprint = hashlib.sha256(client.encode()).hexdigest()
        if cache.get(key) == fingerprint:
            return
        UserSession.objects.create_from_request(request)
        cache.set(key, fingerprint, self.INTERVAL_SECONDS)
