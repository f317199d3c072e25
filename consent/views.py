"""The consent pages of an organization's staff, at /o/<org_slug>/consent/:

- purposes (admins): create a purpose with its first notice, publish a new notice version,
  stop offering a purpose, copy the sign-up form to paste into the organization's website;
- a contact's consent (members who see the contact): the current status per purpose, the
  ledger's history, and giving or withdrawing on the person's behalf with a note; loaded
  into the contact page by htmx, and a page of its own without JavaScript;
- the ledger as CSV (admins), filtered by date, purpose and notice version, streamed.
"""

from __future__ import annotations

import csv
import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consent import selectors
from consent.forms import ExportForm, NoticeForm, PurposeForm, StaffConsentForm
from consent.services.ledger import create_purpose, publish_notice, record_by_staff, set_purpose_offered
from consent.services.signup import form_token
from contacts.access import get_contact_for
from logicnet.forms import add_service_errors
from logicnet.tenancy.roles import Role, requires_role

# Admins and owners, and the privacy officers the organization appointed.
admin_view = requires_role(read=Role.ADMIN, write=Role.ADMIN, privacy_officer=True)


def _purpose_or_404(request, purpose_id: int):
    purpose = selectors.purpose_by_id(request.organization, purpose_id)
    if purpose is None:
        raise Http404
    return purpose


@admin_view
def purpose_list(request, org_slug):
    organization = request.organization
    form = PurposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            purpose = create_purpose(organization=organization, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Purpose created."))
            return redirect("consent_purpose", org_slug=org_slug, purpose_id=purpose.pk)
    notices = selectors.current_notices(organization)
    rows = [(purpose, notices.get(purpose.pk)) for purpose in selectors.purposes(organization)]
    export_form = ExportForm(purposes=[purpose for purpose, _notice in rows])
    return render(
        request,
        "consent/purposes.html",
        {"rows": rows, "form": form, "export_form": export_form},
        status=400 if form.errors else 200,
    )


@admin_view
def purpose_detail(request, org_slug, purpose_id: int):
    purpose = _purpose_or_404(request, purpose_id)
    form = NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            notice = publish_notice(
                organization=request.organization, actor=request.user, purpose=purpose, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Version %(version)s published.") % {"version": notice.version})
            return redirect("consent_purpose", org_slug=org_slug, purpose_id=purpose.pk)
    versions = selectors.notice_versions(purpose)
    public_url = settings.SITE_URL + reverse(
        "consent_signup", kwargs={"org_slug": request.organization.slug, "purpose_key": purpose.key}
    )
    return render(
        request,
        "consent/purpose.html",
        {
            "purpose": purpose,
            "versions": versions,
            "current": versions[0] if versions else None,
            "form": form,
            "public_url": public_url,
            "snippet": render_to_string(
                "consent/_embed_snippet.html",
                {"public_url": public_url, "form_token": form_token(purpose), "notice": versions[0]},
            )
            if versions
            else "",
        },
        status=400 if form.errors else 200,
    )


@admin_view
@require_POST
def purpose_offered(request, org_slug, purpose_id: int):
    purpose = _purpose_or_404(request, purpose_id)
    offered = request.POST.get("offered") == "1"
    set_purpose_offered(organization=request.organization, actor=request.user, purpose=purpose, offered=offered)
    messages.success(request, _("The purpose is offered again.") if offered else _("The purpose is no longer offered."))
    return redirect("consent_purpose", org_slug=org_slug, purpose_id=purpose.pk)


def _panel_context(request, contact, form=None) -> dict:
    organization = request.organization
    statuses = selectors.statuses(organization, contact.pk)
    can_write = request.actor.at_least(Role.MEMBER)
    if form is None and can_write:
        form = StaffConsentForm(purposes=[status.purpose for status in statuses if status.purpose.is_active])
    return {
        "contact": contact,
        "statuses": statuses,
        "history": selectors.history(organization, contact.pk),
        "form": form,
        "can_write": can_write,
        "is_admin": request.actor.works_privacy_desk,
    }


@requires_role(read=Role.READ_ONLY, write=Role.MEMBER)
def contact_consent(request, org_slug, contact_id: int):
    """GET: the panel (htmx, into the contact page) or its own page. POST: staff record."""
    contact = get_contact_for(request.actor, contact_id)
    form = None
    if request.method == "POST":
        purposes = [status.purpose for status in selectors.statuses(request.organization, contact.pk)]
        form = StaffConsentForm(request.POST, purposes=[p for p in purposes if p.is_active])
        if form.is_valid():
            try:
                record_by_staff(
                    organization=request.organization,
                    actor=request.user,
                    contact=contact,
                    purpose=form.cleaned_data["purpose"],
                    action=form.cleaned_data["action"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if not request.htmx:
                    messages.success(request, _("Consent recorded."))
                    return redirect("consent_contact", org_slug=org_slug, contact_id=contact.pk)
                form = None
    context = _panel_context(request, contact, form)
    status = 400 if form is not None and form.errors else 200
    if request.htmx:
        return render(request, "consent/_contact_panel.html", context, status=status)
    return render(request, "consent/contact.html", context, status=status)


def _day_start(day: datetime.date | None) -> datetime.datetime | None:
    if day is None:
        return None
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


class _Echo:
    def write(self, value: str) -> str:
        return value


@admin_view
def export(request, org_slug):
    """The ledger as CSV: streamed, read in chunks (consent.selectors.export_rows)."""
    organization = request.organization
    form = ExportForm(request.GET, purposes=selectors.purposes(organization))
    if not form.is_valid():
        messages.error(request, _("The export filters are not valid: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("consent_purposes", org_slug=org_slug)
    data = form.cleaned_data
    date_to = data.get("date_to")
    rows = selectors.export_rows(
        organization,
        date_from=_day_start(data.get("date_from")),
        date_to=_day_start(date_to + datetime.timedelta(days=1)) if date_to else None,
        purpose=data.get("purpose"),
        version=data.get("version"),
    )
    writer = csv.writer(_Echo())

    def stream():
        yield writer.writerow(selectors.EXPORT_HEADER)
        for row in rows:
            yield writer.writerow(row)

    from logicnet.audit.services import record_event

    record_event(
        action="consent.ledger_exported",
        actor=request.user,
        organization=organization,
        details={"purpose": data["purpose"].key if data.get("purpose") else None, "version": data.get("version")},
    )
    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="consent-ledger-{org_slug}-{stamp}.csv"'
    return response
