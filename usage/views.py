"""The cookie banner's answer and the cookie settings page (no sign-in needed)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from logicnet.client_ip import client_ip
from logicnet.ratelimit import consume, parse_rate
from usage.consent import parse_choice, set_choice_cookie
from usage.cookies import necessary_cookies
from usage.forms import CookieChoiceForm
from usage.middleware import SESSION_KEY
from usage.services import record_cookie_choice


@require_http_methods(["GET", "POST"])
def cookie_settings(request):
    """GET: the choice, explained, with the same two buttons as the banner (the footer's
    Cookie settings link, without JavaScript). POST: record the choice, remember it in the
    choice cookie, and go back; the banner's script asks for JSON and stays on the page."""
    if request.method == "GET":
        context = {"cookie_banner_open": False, "necessary_cookies": necessary_cookies()}
        return render(request, "usage/cookie_settings.html", context)
    form = CookieChoiceForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest()
    address = client_ip(request)
    limit, period = parse_rate(settings.COOKIE_CHOICE_RATE_LIMIT)
    if not consume(scope="cookie-choice", identity=address or "unknown", limit=limit, period=period):
        # Every answer is a row: a script posting in a loop must not fill the table.
        response = render(request, "429.html", status=429)
        response["Retry-After"] = str(period)
        return response
    analytics = form.cleaned_data["analytics"] == "yes"
    # The browser keeps its visitor id across answers (and notice versions).
    earlier = parse_choice(request.COOKIES.get(settings.COOKIE_CHOICE_COOKIE_NAME))
    value = record_cookie_choice(
        analytics=analytics,
        user=request.user,
        visitor_id=earlier.visitor_id if earlier else None,
        ip_address=address,
        user_agent=request.headers.get("user-agent", ""),
    )
    saved = (
        _("Your cookie choice was saved: analytics allowed.")
        if analytics
        else _("Your cookie choice was saved: necessary cookies only.")
    )
    if "application/json" in request.headers.get("accept", ""):
        response = JsonResponse({"analytics": analytics, "message": saved})
    else:
        messages.success(request, saved)
        next_url = form.cleaned_data["next"]
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("cookie_settings")
        response = HttpResponseRedirect(next_url)
    set_choice_cookie(response, value)
    if request.user.is_authenticated:
        request.session[SESSION_KEY] = value.encode()  # recorded against the user just now
    return response
