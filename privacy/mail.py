"""Mail to the person who made a request, in the language they wrote in.

Each mail names the organization (the controller), the reference and the deadline, and
carries the status link; the confirmation and reminder carry the confirmation link. A
refusal carries the reasons and the person's remedies (Art. 12(4)): a complaint to the
supervisory authority (ANSPDCP in Romania) and an action in court.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from logicnet.tenancy.context import tenant_context
from privacy import deadlines
from privacy.models import PrivacyRequest, RequestEvent

log = logging.getLogger(__name__)

KINDS = (
    "confirmation",
    "reminder",
    "receipt",
    "info_requested",
    "extended",
    "denied",
    "completed",
    "restriction_lifting",
    "download",
    "erasure_withheld",
)


def _subject(kind: str, request: PrivacyRequest, organization) -> str:
    subjects = {
        "confirmation": _("Confirm your privacy request to %(name)s"),
        "reminder": _("Reminder: confirm your privacy request to %(name)s"),
        "receipt": _("Your privacy request to %(name)s was received"),
        "info_requested": _("%(name)s needs more information about your privacy request"),
        "extended": _("Your privacy request to %(name)s: the deadline is extended"),
        "denied": _("Your privacy request to %(name)s was refused"),
        "completed": _("Your privacy request to %(name)s is answered"),
        "restriction_lifting": _("%(name)s will lift the restriction of your data"),
        "download": _("Your data from %(name)s: download link"),
        "erasure_withheld": _("Your erasure request to %(name)s: your data is kept for now"),
    }
    return f"{subjects[kind] % {'name': organization.name}} ({request.reference})"


def _context(request: PrivacyRequest, kind: str, organization) -> dict:
    from privacy.services.requests import absolute_url, confirmation_token, privacy_settings, status_token

    slug = organization.slug
    controller = privacy_settings(organization)
    context = {
        "kind": kind,
        "request": request,
        "organization": organization,
        "settings": controller,
        # The day of receipt as the deadline counts it: in the organization's time zone.
        "received_on": deadlines.local_day(request.received_at, controller.time_zone),
        "status_link": absolute_url(
            reverse("privacy_request_status", kwargs={"org_slug": slug, "token": status_token(request)})
        ),
        "supervisory_authority": settings.PRIVACY_SUPERVISORY_AUTHORITY,
    }
    if kind in ("confirmation", "reminder"):
        from privacy.services.requests import confirmation_code

        context["confirm_code"] = confirmation_code(request)
        context["confirm_link"] = absolute_url(
            reverse("privacy_confirm", kwargs={"org_slug": slug, "token": confirmation_token(request)})
        )
    if kind == "download":
        from privacy.services.fulfilment import DOWNLOAD_LINK_VALID, download_token, ready_packages

        context["download_links"] = [
            absolute_url(
                reverse(
                    "privacy_download",
                    kwargs={"org_slug": slug, "token": download_token(request, package["kind"])},
                )
            )
            for package in ready_packages(request)
        ]
        context["download_hours"] = int(DOWNLOAD_LINK_VALID.total_seconds() // 3600)
    if kind == "info_requested":
        latest = request.events.filter(kind=RequestEvent.Kind.INFO_REQUESTED).order_by("-created_at").first()
        context["staff_message"] = latest.note if latest else ""
    return context


def send_to_requester(request: PrivacyRequest, kind: str) -> bool:
    """True when the mail server took the message."""
    if kind not in KINDS:
        raise ValueError(f"unknown privacy mail {kind!r}")
    organization = request.organization
    with tenant_context(organization), translation.override(request.language or settings.LANGUAGE_CODE):
        context = _context(request, kind, organization)
        subject = _subject(kind, request, organization)
        text = render_to_string("privacy/email/request_message.txt", context)
        recipient = request.email
    try:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [recipient])
    except (smtplib.SMTPException, OSError):
        log.warning("privacy mail %s for request %s not sent; the sweep retries", kind, request.pk)
        return False
    return True
