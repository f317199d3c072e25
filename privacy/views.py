"""Public privacy pages of an organization (/p/<org_slug>/privacy/...), for the people whose
data it keeps; no account needed (GDPR Art. 12(2): the controller facilitates the exercise of
the data subject's rights).

- the page: who the controller is, the six rights in plain words, the request form;
- the thank-you page after a submission (POST, then redirect, then GET);
- the confirmation link from the mail: a page with a "Confirm" button; only the POST
  confirms, so a mail scanner that prefetches links changes nothing;
- the status page behind the status link: where the request stands, its deadline, and the
  person's remedies when it was refused.

Personal data never travels in these URLs: the links carry signed ids only, the form is
POSTed, and the reference shown after submission is carried in the session.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from logicnet import normalize
from logicnet.client_ip import client_ip
from logicnet.forms import add_service_errors
from logicnet.ratelimit import consume, parse_rate
from logicnet.tenancy.public import public_page
from privacy import deadlines
from privacy.forms_public import ChildDataReportForm, ConfirmationCodeForm, PublicRequestForm
from privacy.models import PrivacyRequest, RequestEvent, new_reference
from privacy.services.objection import contact_for_token, object_to_marketing
from privacy.services.platform import is_platform_controller, platform_controller
from privacy.services.requests import (
    CODE_ATTEMPTS,
    CONFIRMATION_VALID,
    RequestError,
    clock,
    confirm_email,
    confirm_email_by_code,
    privacy_settings,
    request_from_confirmation_token,
    request_from_status_token,
    resend_confirmation,
    status_token,
    submit_request,
)

Status = PrivacyRequest.Status

# How long a page's submission nonce is remembered (longer than anyone keeps a form open
# and presses "send" again), and the session key carrying the reference to the thank-you page.
SUBMISSION_SECONDS = 6 * 3600
PENDING = "pending"
SUBMITTED_SESSION_KEY = "privacy_request_submitted"

STATUS_EXPLAINED = {
    Status.AWAITING_VERIFICATION: gettext_lazy(
        "We are waiting for you to confirm your email address: open the link in the email we sent you. "
        "Nothing is done with your request until then."
    ),
    Status.RECEIVED: gettext_lazy("Your request was received. It will be answered by the date below."),
    Status.VERIFIED: gettext_lazy("Your identity has been confirmed. Your request will be handled next."),
    Status.IN_PROGRESS: gettext_lazy("Your request is being handled."),
    Status.AWAITING_APPROVAL: gettext_lazy("Your request has been handled and the answer is being checked."),
    Status.COMPLETED: gettext_lazy("Your request has been answered."),
    Status.DENIED: gettext_lazy("Your request was refused. The reasons are below."),
    Status.EXPIRED: gettext_lazy(
        "Your email address was not confirmed within 7 days, so this request was closed. "
        "You can make it again at any time."
    ),
}


# --- the page and its form -------------------------------------------------------------------------


@public_page
def privacy_desk(request, org_slug: str):
    organization = request.public_organization
    if is_platform_controller(organization):
        # Logicnet's own form lives on its privacy policy page.
        return redirect("privacy_policy")
    if request.method != "POST":
        return _form_page(request, PublicRequestForm(organization=organization))
    form = PublicRequestForm(request.POST, organization=organization)
    return _submit_public_form(request, form, _form_page)


def platform_request_form(request, form_page):
    """The request form on Logicnet's own privacy page (/privacy/, accounts.privacy_views),
    for the account holders and visitors whose data Logicnet controls: the same form,
    honeypot, double-submit guard, limits and lifecycle as an organization's page, with
    Logicnet as the controller (privacy.services.platform). `form_page(request, form,
    status=)` renders the page; GET shows the empty form."""
    # No tenant block around the whole view: the services open their own, so the mail they
    # queue after commit runs after that block, in its own scope.
    organization = platform_controller()
    request.public_organization = organization
    if request.method != "POST":
        return form_page(request, PublicRequestForm(organization=organization))
    form = PublicRequestForm(request.POST, organization=organization)
    return _submit_public_form(request, form, form_page)


def _submit_public_form(request, form, form_page) -> TemplateResponse:
    """The POST of a public form that creates a request (the request form, the report of a
    child's data): the honeypot, the double-submit guard, the rate limits, then
    `submit_request` with the form's `service_data()`; `form_page(request, form, status=)`
    shows the form again."""
    organization = request.public_organization
    if form.is_from_a_bot:
        # Answered exactly as a real submission, so the bot learns nothing; nothing is stored.
        return _thank(request, new_reference())

    nonce = form.data.get("submission", "")
    earlier = _claim_submission(organization, nonce)
    if earlier == PENDING:
        form.is_valid()
        form.add_error(None, _("Your request is already being sent. Wait a moment, then reload the page."))
        return form_page(request, form, status=409)
    if earlier:
        return _thank(request, earlier)  # the same page sent twice (double click, retry)

    privacy_request = None
    status = 200
    retry_after = None
    try:
        if form.is_valid():
            retry_after = _over_request_limits(request, form.cleaned_data["email"])
            if retry_after:
                form.add_error(
                    None,
                    _(
                        "Too many requests were sent from your connection or for this email address. "
                        "Please try again in an hour, or write to the organization directly."
                    ),
                )
                status = 429
            else:
                try:
                    privacy_request = submit_request(
                        organization=organization,
                        language=translation.get_language() or settings.LANGUAGE_CODE,
                        **form.service_data(),
                    )
                except RequestError as exc:
                    add_service_errors(form, exc)
    finally:
        _finish_submission(organization, nonce, privacy_request.reference if privacy_request else None)
    if privacy_request is None:
        response = form_page(request, form, status=status)
        if status == 429:
            response["Retry-After"] = str(retry_after)
        return response
    return _thank(request, privacy_request.reference)


def _form_page(request, form: PublicRequestForm, *, status: int = 200) -> TemplateResponse:
    organization = request.public_organization
    return TemplateResponse(
        request,
        "privacy/public/request_form.html",
        {"organization": organization, "controller": privacy_settings(organization), "form": form},
        status=status,
    )


def _submission_key(organization, nonce: str) -> str:
    digest = hashlib.sha256(nonce.encode()).hexdigest()
    return f"privacy:submission:{organization.pk}:{digest}"


def _claim_submission(organization, nonce: str) -> str | None:
    """The double-submit guard. Each page load carries a random nonce; the first POST with
    it claims it in Redis with an atomic `add`, so a second POST (a double click, a browser
    retry, two tabs) finds the claim: "pending" while the first is being stored, then the
    first request's reference. Returns that, or None for a first submission.

    Redis rather than the session: a session is read and written whole, so two concurrent
    POSTs would both see the nonce unused. While Redis is down the cache falls back to this
    process's memory (logicnet/cache.py); a repeat reaching another process would then store
    a second request, which submit_request links to the first (duplicate_of) for staff."""
    if not nonce:
        return None
    key = _submission_key(organization, nonce)
    if cache.add(key, PENDING, SUBMISSION_SECONDS):
        return None
    return cache.get(key) or PENDING


def _finish_submission(organization, nonce: str, reference: str | None) -> None:
    if not nonce:
        return
    key = _submission_key(organization, nonce)
    if reference is None:
        cache.delete(key)  # not stored (invalid form, rate limit): the page may be sent again
    else:
        cache.set(key, reference, SUBMISSION_SECONDS)


def _over_request_limits(request, email: str) -> int | None:
    """Count a submission against the client address and the email address (a keyed digest
    in Redis, logicnet/ratelimit.py); the seconds to wait when either is over its limit.

    The email budget is across organizations: it guards the person's mailbox against
    being flooded with confirmation mails through many organizations' forms."""
    limits = settings.PRIVACY_REQUEST_RATE_LIMITS
    budgets = (
        ("privacy-request-client", client_ip(request) or "unknown", limits["client"]),
        ("privacy-request-email", normalize.email_match_form(email), limits["email"]),
    )
    for scope, identity, rate in budgets:
        limit, period = parse_rate(rate)
        if not consume(scope=scope, identity=identity, limit=limit, period=period):
            return period
    return None


def _thank(request, reference: str):
    organization = request.public_organization
    request.session[SUBMITTED_SESSION_KEY] = {"organization": organization.pk, "reference": reference}
    return redirect("public_privacy_thanks", org_slug=organization.slug)


@public_page
def thanks(request, org_slug: str):
    """The page after sending: the reference, and (POST) the code from the confirmation mail,
    which confirms the address as the mail's link does (for a person reading their mail on
    another device). Only this browser knows which request it sent; tries are limited per
    request and per client address."""
    organization = request.public_organization
    submitted = request.session.get(SUBMITTED_SESSION_KEY) or {}
    if submitted.get("organization") != organization.pk:
        return redirect("public_privacy", org_slug=organization.slug)
    reference = submitted["reference"]
    form = ConfirmationCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        budgets = (
            ("privacy-request-code", f"{organization.pk}:{reference}", CODE_ATTEMPTS),
            ("privacy-request-code-client", client_ip(request) or "unknown", CODE_ATTEMPTS * 4),
        )
        if not all(consume(scope=scope, identity=who, limit=limit, period=3600) for scope, who, limit in budgets):
            form.add_error("code", _("Too many tries. Open the link in the email, or try again in an hour."))
            status = 429
        else:
            confirmed = confirm_email_by_code(organization, reference=reference, code=form.cleaned_data["code"])
            if confirmed is not None:
                return redirect("privacy_request_status", org_slug=organization.slug, token=status_token(confirmed))
            form.add_error("code", _("This is not the code of your request, or it is no longer valid."))
            status = 400
    return TemplateResponse(
        request,
        "privacy/public/thanks.html",
        {
            "organization": organization,
            "reference": reference,
            "valid_days": CONFIRMATION_VALID.days,
            "code_form": form,
        },
        status=status,
    )


# --- the links in the mails -----------------------------------------------------------------------


def _link_not_valid(request) -> TemplateResponse:
    """A forged, expired or another organization's link: one page for all (a 404, so nothing
    says which), offering to make the request again."""
    return TemplateResponse(
        request,
        "privacy/public/link_invalid.html",
        {"organization": request.public_organization, "valid_days": CONFIRMATION_VALID.days},
        status=404,
    )


@public_page
def confirm(request, org_slug: str, token: str):
    """GET shows a "Confirm" button; only its POST confirms (services.confirm_email, which is
    idempotent), then the person is taken to the status page."""
    organization = request.public_organization
    if request.method == "POST":
        privacy_request = confirm_email(organization, token)
        if privacy_request is None:
            return _link_not_valid(request)
        return redirect("privacy_request_status", org_slug=organization.slug, token=status_token(privacy_request))
    privacy_request = request_from_confirmation_token(organization, token)
    if privacy_request is None:
        return _link_not_valid(request)
    return TemplateResponse(
        request,
        "privacy/public/confirm.html",
        {
            "organization": organization,
            "privacy_request": privacy_request,
            "awaiting": privacy_request.status == Status.AWAITING_VERIFICATION,
            "status_token": status_token(privacy_request),
        },
    )


@public_page
def request_status(request, org_slug: str, token: str):
    """What the person sees of their request. POST asks for the confirmation link again
    (only while it is awaited; limited per email address)."""
    organization = request.public_organization
    privacy_request = request_from_status_token(organization, token)
    if privacy_request is None:
        return _link_not_valid(request)
    resend_refused = False
    if request.method == "POST" and request.POST.get("show") == "recipients":
        # Art. 19: the person asks who their data was disclosed to and who was told.
        from privacy.services.fulfilment import tell_person_recipients

        told = tell_person_recipients(privacy_request)
        return _status_page(request, privacy_request, token, resend_refused=False, recipients=told)
    if request.method == "POST":
        if privacy_request.status != Status.AWAITING_VERIFICATION:
            return redirect(request.path)
        if _resend_allowed(privacy_request):
            resend_confirmation(privacy_request)
            request.session["privacy_link_resent"] = privacy_request.reference
            return redirect(request.path)
        resend_refused = True
    return _status_page(request, privacy_request, token, resend_refused=resend_refused)


def _resend_allowed(privacy_request: PrivacyRequest) -> bool:
    """Each resend is a mail to the address: the same per-email budget as submissions,
    counted separately so that asking again does not block a new request."""
    limit, period = parse_rate(settings.PRIVACY_REQUEST_RATE_LIMITS["email"])
    identity = normalize.email_match_form(privacy_request.email)
    return consume(scope="privacy-request-resend", identity=identity, limit=limit, period=period)


def _status_page(
    request, privacy_request: PrivacyRequest, token: str, *, resend_refused: bool, recipients=None
) -> TemplateResponse:
    organization = request.public_organization
    controller = privacy_settings(organization)
    time_zone = controller.time_zone
    resent = request.session.pop("privacy_link_resent", None) == privacy_request.reference
    return TemplateResponse(
        request,
        "privacy/public/status.html",
        {
            "organization": organization,
            "controller": controller,
            "privacy_request": privacy_request,
            "status_token": token,
            "status_explained": STATUS_EXPLAINED.get(privacy_request.status, ""),
            # Art. 17(3)(e): a legal hold keeps the data; the request stays open until released.
            "erasure_withheld": privacy_request.status == Status.AWAITING_APPROVAL
            and privacy_request.events.filter(kind=RequestEvent.Kind.ERASURE_WITHHELD).exists(),
            "received_on": deadlines.local_day(privacy_request.received_at, time_zone),
            "closed_on": (
                deadlines.local_day(privacy_request.closed_at, time_zone) if privacy_request.closed_at else None
            ),
            "clock": clock(privacy_request, time_zone),
            "awaiting": privacy_request.status == Status.AWAITING_VERIFICATION,
            "denied": privacy_request.status == Status.DENIED,
            "may_submit_again": privacy_request.status in (Status.EXPIRED, Status.DENIED, Status.COMPLETED),
            "supervisory_authority": settings.PRIVACY_SUPERVISORY_AUTHORITY,
            "resent": resent,
            "resend_refused": resend_refused,
            # Art. 19: offered once a correction, erasure or restriction was carried out.
            "may_ask_recipients": any(
                right in privacy_request.rights for right in ("rectification", "erasure", "restriction")
            )
            and privacy_request.events.filter(kind=RequestEvent.Kind.RECIPIENTS_NOTIFIED).exists(),
            "recipients": recipients,
        },
        status=429 if resend_refused else 200,
    )


@csrf_exempt  # RFC 8058: a mail client's one-click POST carries no CSRF token; it changes one flag
@public_page
def marketing_objection(request, org_slug: str, token: str):
    """The one-click objection to direct marketing from a marketing mail (Art. 21(3)).
    GET shows the button; POST (the button, or the mail client's one-click) records it."""
    organization = request.public_organization
    if request.method == "POST":
        recorded = object_to_marketing(organization, token)
        if recorded is None:
            return _link_not_valid(request)
        return TemplateResponse(
            request, "privacy/public/marketing_objection.html", {"organization": organization, "done": True}
        )
    if contact_for_token(organization, token) is None:
        return _link_not_valid(request)
    return TemplateResponse(
        request, "privacy/public/marketing_objection.html", {"organization": organization, "done": False}
    )


# --- a report of a child's data -------------------------------------------------------------------


@public_page
def child_report(request, org_slug: str):
    """Anyone may tell the organization it holds a child's data (GDPR Art. 8, 17(1)(f)): an
    erasure request flagged priority, confirmed by email like any other request."""
    organization = request.public_organization
    if request.method != "POST":
        return _child_form_page(request, ChildDataReportForm(organization=organization))
    return _submit_public_form(request, ChildDataReportForm(request.POST, organization=organization), _child_form_page)


def _child_form_page(request, form: ChildDataReportForm, *, status: int = 200) -> TemplateResponse:
    organization = request.public_organization
    return TemplateResponse(
        request,
        "privacy/public/child_report.html",
        {"organization": organization, "controller": privacy_settings(organization), "form": form},
        status=status,
    )
