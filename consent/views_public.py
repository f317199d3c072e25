"""Public consent pages of an organization (/p/<org_slug>/...), for people without an
account: the sign-up form (hosted, and the target of the form pasted into the
organization's website), its confirmation link, the one-click withdrawal from a mail, and
the preference centre. Links carry signed ids only; forms are POSTed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from billing.limits import PlanLimitReached
from consent import selectors
from consent.forms import SignupForm
from consent.models import ConsentRecord
from consent.services.ledger import give_consent, withdraw_consent
from consent.services.links import contact_for_preferences, preferences_token, unsubscribe_target
from consent.services.signup import (
    SIGNUP_VALID,
    confirm_signup,
    form_token,
    form_token_valid,
    signup_for_token,
    submit_signup,
)
from logicnet import normalize
from logicnet.client_ip import client_ip
from logicnet.ratelimit import consume, parse_rate
from logicnet.tenancy.public import public_page

Method = ConsentRecord.Method


def _user_agent(request) -> str:
    return request.headers.get("User-Agent", "")[:1000]


def _link_not_valid(request) -> TemplateResponse:
    """A forged, expired, used or another organization's link: one page for all (a 404)."""
    return TemplateResponse(
        request,
        "consent/public/link_invalid.html",
        {"organization": request.public_organization, "valid_days": SIGNUP_VALID.days},
        status=404,
    )


# --- the sign-up form --------------------------------------------------------------------------


def _signup_page(request, purpose, notice, form, *, status: int = 200) -> TemplateResponse:
    return TemplateResponse(
        request,
        "consent/public/signup.html",
        {"organization": request.public_organization, "purpose": purpose, "notice": notice, "form": form},
        status=status,
    )


def _over_signup_limits(request, email: str) -> int | None:
    """Each sign-up mails the address: counted per client address and per email address
    (a keyed digest in Redis, logicnet/ratelimit.py); the seconds to wait when over."""
    limits = settings.CONSENT_SIGNUP_RATE_LIMITS
    for scope, identity, rate in (
        ("consent-signup-client", client_ip(request) or "unknown", limits["client"]),
        ("consent-signup-email", normalize.email_match_form(email), limits["email"]),
    ):
        limit, period = parse_rate(rate)
        if not consume(scope=scope, identity=identity, limit=limit, period=period):
            return period
    return None


# A cross-site POST from the organization's own website carries no CSRF cookie: the form
# carries a signed per-purpose token instead, and the POST only sends a confirmation mail.
@csrf_exempt
@public_page
def signup(request, org_slug: str, purpose_key: str):
    organization = request.public_organization
    purpose = selectors.purpose_by_key(organization, purpose_key)
    if purpose is None:
        return _link_not_valid(request)
    notices = {notice.version: notice for notice in selectors.notice_versions(purpose)}
    current = notices[max(notices)]
    if request.method != "POST":
        form = SignupForm(initial={"form_token": form_token(purpose), "notice": current.version})
        return _signup_page(request, purpose, current, form)
    form = SignupForm(request.POST)
    if form.is_from_a_bot:
        # Answered exactly as a real sign-up, so the bot learns nothing; nothing is stored.
        return redirect("consent_signup_sent", org_slug=org_slug, purpose_key=purpose.key)
    if not form.is_valid():
        return _signup_page(request, purpose, current, form, status=400)
    if not form_token_valid(purpose, form.cleaned_data["form_token"]):
        form.add_error(None, _("This form is out of date. Please use the form below."))
        form = SignupForm(initial={"form_token": form_token(purpose), "notice": current.version})
        return _signup_page(request, purpose, current, form, status=400)
    # The version the form showed (a pasted form may show an older text than the newest).
    notice = notices.get(form.cleaned_data.get("notice") or current.version, current)
    retry_after = _over_signup_limits(request, form.cleaned_data["email"])
    if retry_after:
        form.add_error(
            None, _("Too many sign-ups were sent from your connection or for this address. Please try again later.")
        )
        response = _signup_page(request, purpose, current, form, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    submit_signup(
        organization=organization,
        purpose=purpose,
        notice=notice,
        email=form.cleaned_data["email"],
        first_name=form.cleaned_data.get("first_name") or "",
        ip_address=client_ip(request) or "",
        user_agent=_user_agent(request),
        page=request.headers.get("Referer", "") or request.headers.get("Origin", ""),
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    return redirect("consent_signup_sent", org_slug=org_slug, purpose_key=purpose.key)


@public_page
def signup_sent(request, org_slug: str, purpose_key: str):
    organization = request.public_organization
    purpose = selectors.purpose_by_key(organization, purpose_key)
    if purpose is None:
        return _link_not_valid(request)
    return TemplateResponse(
        request,
        "consent/public/signup_sent.html",
        {"organization": organization, "purpose": purpose, "valid_days": SIGNUP_VALID.days},
    )


@public_page
def signup_confirm(request, org_slug: str, token: str):
    """GET shows a "Confirm" button; only its POST confirms (a mail scanner that opens the
    link changes nothing)."""
    organization = request.public_organization
    if request.method == "POST":
        try:
            record = confirm_signup(
                organization, token, ip_address=client_ip(request) or "", user_agent=_user_agent(request)
            )
        except PlanLimitReached:
            # The organization's plan has no room for a new contact: nothing is recorded and
            # the link keeps working, so the person can confirm once there is room.
            messages.error(
                request,
                _("%(organization)s cannot take new subscriptions at the moment. Please use the link again later.")
                % {"organization": organization.name},
            )
            return redirect("consent_signup_confirm", org_slug=org_slug, token=token)
        if record is None:
            return _link_not_valid(request)
        messages.success(request, _("Thank you: your subscription is confirmed."))
        return redirect(
            "consent_preferences",
            org_slug=org_slug,
            token=preferences_token(record.contact),
        )
    signup = signup_for_token(organization, token)
    if signup is None:
        return _link_not_valid(request)
    return TemplateResponse(
        request,
        "consent/public/signup_confirm.html",
        {"organization": organization, "purpose": signup.purpose, "notice": signup.notice},
    )


# --- withdrawing: one click from a mail ---------------------------------------------------------------


@csrf_exempt  # RFC 8058: a mail client's one-click POST carries no CSRF token; it only withdraws
@public_page
def unsubscribe(request, org_slug: str, token: str):
    """GET shows the button; POST (the button, or the mail client's `List-Unsubscribe=One-Click`)
    withdraws the consent at once. Idempotent."""
    organization = request.public_organization
    target = unsubscribe_target(organization, token)
    if target is None:
        return _link_not_valid(request)
    contact, purpose = target
    done = False
    if request.method == "POST":
        withdraw_consent(
            organization=organization,
            contact=contact,
            purpose=purpose,
            method=Method.MAIL_LINK,
            ip_address=client_ip(request) or "",
            user_agent=_user_agent(request),
            when_changed=True,
        )
        done = True
    return TemplateResponse(
        request,
        "consent/public/unsubscribe.html",
        {
            "organization": organization,
            "purpose": purpose,
            "done": done,
            "preferences_token": preferences_token(contact),
        },
    )


# --- the preference centre ---------------------------------------------------------------------------


@public_page
def preferences(request, org_slug: str, token: str):
    """Every purpose offered, with the person's current choice and the notice text; saving
    gives or withdraws what changed (method: preference centre)."""
    organization = request.public_organization
    contact = contact_for_preferences(organization, token)
    if contact is None:
        return _link_not_valid(request)
    statuses = [
        status for status in selectors.statuses(organization, contact.pk) if status.purpose.is_active or status.given
    ]
    if request.method == "POST":
        chosen = set(request.POST.getlist("purposes"))
        changed = 0
        for status in statuses:
            wanted = str(status.purpose.pk) in chosen
            if wanted == status.given:
                continue
            record = (give_consent if wanted else withdraw_consent)(
                organization=organization,
                contact=contact,
                purpose=status.purpose,
                method=Method.PREFERENCE_CENTRE,
                notice=status.notice if wanted else None,
                ip_address=client_ip(request) or "",
                user_agent=_user_agent(request),
                when_changed=True,
            )
            changed += record is not None
        messages.success(request, _("Your choices are saved.") if changed else _("Nothing changed."))
        return redirect(request.path)
    return TemplateResponse(
        request,
        "consent/public/preferences.html",
        {"organization": organization, "statuses": statuses},
    )
