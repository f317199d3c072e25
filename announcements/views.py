"""The banner's dismissal, the account holder's product-news setting, and the one-click
unsubscribe from a product-news mail (RFC 8058)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from announcements.models import MarketingConsent
from announcements.services import (
    dismiss_announcement,
    set_product_news,
    user_for_unsubscribe_token,
    wants_product_news,
)
from logicnet.audit.services import client_ip


@login_required
@require_POST
def announcement_dismiss(request, announcement_id):
    if not dismiss_announcement(user=request.user, announcement_id=announcement_id):
        raise Http404
    if request.htmx:
        return HttpResponse("")  # htmx swaps the banner out
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "home"
    return redirect(target)


@login_required
def product_news(request):
    if request.method == "POST":
        given = request.POST.get("product_news") == "on"
        set_product_news(
            user=request.user, given=given, method=MarketingConsent.Method.SETTINGS, ip_address=client_ip(request)
        )
        messages.success(
            request,
            _("You will receive news about new features.")
            if given
            else _("You will no longer receive news about new features."),
        )
        return redirect("product_news")
    return render(
        request,
        "announcements/product_news.html",
        {"subscribed": wants_product_news(request.user), "may_receive": request.user.may_receive_marketing},
    )


@csrf_exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" without a cookie
def product_news_unsubscribe(request, token):
    """GET shows a button (link scanners that follow links must not unsubscribe anyone);
    POST, from the button or a mail client's one-click, withdraws at once."""
    user = user_for_unsubscribe_token(token)
    if user is None:
        raise Http404
    if request.method == "POST":
        set_product_news(
            user=user, given=False, method=MarketingConsent.Method.ONE_CLICK, ip_address=client_ip(request)
        )
        return render(request, "announcements/unsubscribed.html")
    return render(request, "announcements/unsubscribe.html", {"token": token})
