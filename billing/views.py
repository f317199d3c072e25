"""The organization's billing page (/o/<org_slug>/billing/) and Stripe's webhook.

The billing pages are for owners and admins, and stay open to them in read-only mode
(`beyond_role_limits`): that is where a payment overdue is paid. The webhook has no login
and no CSRF token: Stripe's signature is its authentication."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import selectors, services
from billing.forms import BillingDetailsForm, CheckoutForm
from billing.limits import billing_enabled
from logicnet.client_ip import client_ip
from logicnet.forms import add_service_errors
from logicnet.tenancy.roles import Role, beyond_role_limits, requires_role

logger = logging.getLogger(__name__)

owners_and_admins = requires_role(read=Role.ADMIN, write=Role.ADMIN)


def _page(request, *, details_form=None, status=200):
    organization = request.organization
    context = selectors.billing_overview(organization)
    context["details_form"] = details_form or BillingDetailsForm(
        initial=BillingDetailsForm.initial_from(services.billing_details_for(organization))
    )
    context["checkout_done"] = request.GET.get("checkout") == "success"
    return render(request, "billing/billing.html", context, status=status)


@beyond_role_limits
@owners_and_admins
def billing_page(request, org_slug):
    if request.method != "POST":
        return _page(request)
    form = BillingDetailsForm(request.POST)
    if form.is_valid():
        try:
            services.update_billing_details(
                organization=request.organization, actor=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Billing details saved."))
            return redirect("billing", org_slug=org_slug)
    return _page(request, details_form=form, status=400)


@beyond_role_limits
@owners_and_admins
@require_POST
def billing_checkout(request, org_slug):
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a plan, an interval and a currency."))
        return redirect("billing", org_slug=org_slug)
    page = request.build_absolute_uri(reverse("billing", args=[org_slug]))
    try:
        url = services.start_checkout(
            organization=request.organization,
            actor=request.user,
            plan_key=form.cleaned_data["plan"],
            interval=form.cleaned_data["interval"],
            currency=form.cleaned_data["currency"],
            success_url=f"{page}?checkout=success",
            cancel_url=page,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("billing", org_slug=org_slug)
    return redirect(url)


@beyond_role_limits
@owners_and_admins
@require_POST
def billing_portal(request, org_slug):
    page = request.build_absolute_uri(reverse("billing", args=[org_slug]))
    try:
        url = services.open_billing_portal(organization=request.organization, actor=request.user, return_url=page)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("billing", org_slug=org_slug)
    return redirect(url)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    if not billing_enabled():
        return HttpResponseNotFound("payments are not configured")
    try:
        _event, created = services.receive_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except services.InvalidWebhook as exc:
        # Nothing is stored; the line says who tried, not what they sent.
        logger.warning("billing: refused a Stripe webhook from %s (%s)", client_ip(request), exc)
        return HttpResponseBadRequest("invalid signature")
    return HttpResponse("ok" if created else "already received", content_type="text/plain")
