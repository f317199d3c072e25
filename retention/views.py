"""The retention page of the privacy desk (/o/<org_slug>/privacy/retention/): the
organization's periods and legal holds, tonight's sweep counted (a dry run), and the history
of past sweeps. Owners and admins only: these settings decide what is deleted."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from logicnet.forms import add_service_errors
from logicnet.tenancy.roles import Role, requires_role
from retention import rules as retention_rules
from retention.forms import HoldForm, HoldSearchForm, PeriodsForm, ReleaseForm
from retention.selectors import active_holds, find_hold_subjects, released_holds
from retention.services import settings as services
from retention.services.sweep import preview, start_sweep, sweep_history

owners_and_admins = requires_role(read=Role.ADMIN, write=Role.ADMIN)


def _periods_form(request, data=None) -> PeriodsForm:
    overrides = retention_rules.overrides_of(request.organization.pk)
    return PeriodsForm(data, rules=retention_rules.overridable_rules(), current=overrides)


def _page(request, *, periods=None, hold_form=None, search_form=None, found=None, status=200):
    organization = request.organization
    context = {
        "periods": periods or _periods_form(request),
        "hold_form": hold_form or HoldForm(),
        "search_form": search_form or HoldSearchForm(),
        "found": found,
        "applied": retention_rules.applied_rules(organization.pk),
        "elsewhere": retention_rules.enforced_elsewhere(),
        "audit_days": retention_rules.audit_retention_days(),
        "holds": active_holds(organization),
        "released": released_holds(organization),
    }
    return render(request, "retention/settings.html", context, status=status)


@owners_and_admins
def retention_settings(request, org_slug):
    if request.method != "POST":
        return _page(request)
    form = _periods_form(request, request.POST)
    if form.is_valid():
        try:
            for rule, months in form.cleaned_data.items():
                days = services.months_to_days(months) if months else None
                services.set_retention_period(
                    organization=request.organization, actor=request.user, rule=rule, period_days=days
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Retention periods saved."))
            return redirect("retention_settings", org_slug=org_slug)
    return _page(request, periods=form, status=400)


@owners_and_admins
@require_POST
def hold_find(request, org_slug):
    """Find the contact to hold by name or email (POSTed: never personal data in a URL)."""
    form = HoldSearchForm(request.POST)
    if not form.is_valid():
        return _page(request, search_form=form, status=400)
    found = find_hold_subjects(request.organization, form.cleaned_data["q"])
    hold_form = HoldForm(initial={"q": found["query"]})
    return _page(request, search_form=form, hold_form=hold_form, found=found)


@owners_and_admins
@require_POST
def hold_add(request, org_slug):
    form = HoldForm(request.POST)
    if form.is_valid():
        try:
            services.place_hold(
                organization=request.organization,
                actor=request.user,
                reference=form.cleaned_data["reference"],
                **form.target_kwargs(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Legal hold placed."))
            return redirect("retention_settings", org_slug=org_slug)
    query = form.cleaned_data.get("q", "") if hasattr(form, "cleaned_data") else ""
    found = find_hold_subjects(request.organization, query) if query else None
    search_form = HoldSearchForm(initial={"q": query})
    return _page(request, hold_form=form, search_form=search_form, found=found, status=400)


@owners_and_admins
@require_POST
def hold_release(request, org_slug):
    form = ReleaseForm(request.POST)
    if form.is_valid():
        try:
            services.release_hold(
                organization=request.organization, actor=request.user, hold_id=form.cleaned_data["hold"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Legal hold released."))
    return redirect("retention_settings", org_slug=org_slug)


@owners_and_admins
def dry_run(request, org_slug):
    lines = preview(request.organization.pk)
    totals = {key: sum(line[key] for line in lines) for key in ("expired", "held", "to_do")}
    return render(request, "retention/preview.html", {"lines": lines, "totals": totals})


@owners_and_admins
def history(request, org_slug):
    return render(request, "retention/history.html", {"sweeps": sweep_history(request.organization.pk)})


@owners_and_admins
@require_POST
def run_now(request, org_slug):
    job = start_sweep(organization_id=request.organization.pk, actor=request.user)
    if job is None:
        messages.info(request, _("A sweep is running already."))
    else:
        messages.success(request, _("The sweep has started; it appears in the history below."))
    return redirect("retention_history", org_slug=org_slug)
