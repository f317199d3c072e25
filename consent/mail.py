"""Mail about consent, in the person's language: the double-opt-in confirmation, and the
welcome that follows it. Every mail sent because of a consent carries the one-click
withdrawal (RFC 8058 `List-Unsubscribe` headers and the same link in the text) and the
person's preference centre: withdrawing is as easy as giving (GDPR Art. 7(3))."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from consent.models import ConsentRecord, PendingSignup
from consent.services.links import list_unsubscribe_headers, preferences_url, unsubscribe_url
from consent.services.signup import SIGNUP_VALID, confirmation_token
from logicnet.tenancy.context import tenant_context

log = logging.getLogger(__name__)


def _send(subject: str, text: str, recipient: str, headers: dict[str, str] | None = None) -> bool:
    message = EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [recipient], headers=headers or {})
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        log.warning("consent mail %r not sent", subject)
        return False
    return True


def send_signup_confirmation(organization_id: int, signup_id: int) -> bool:
    """The confirmation link of a sign-up (nothing when it is gone: confirmed or expired)."""
    from logicnet.tenancy.organizations import organization_model

    organization = organization_model().objects.get(pk=organization_id)
    with tenant_context(organization):
        signup = (
            PendingSignup.objects.filter(organization=organization, pk=signup_id)
            .select_related("purpose", "notice")
            .first()
        )
        if signup is None:
            return False
        with translation.override(signup.language or settings.LANGUAGE_CODE):
            path = reverse(
                "consent_signup_confirm", kwargs={"org_slug": organization.slug, "token": confirmation_token(signup)}
            )
            context = {
                "organization": organization,
                "purpose": signup.purpose,
                "notice": signup.notice,
                "confirm_link": settings.SITE_URL + path,
                "valid_days": SIGNUP_VALID.days,
            }
            subject = _("Confirm your subscription to %(purpose)s from %(name)s") % {
                "purpose": signup.purpose.name,
                "name": organization.name,
            }
            text = render_to_string("consent/email/confirm_signup.txt", context)
        recipient = signup.email
    return _send(subject, text, recipient)


def send_consent_welcome(organization_id: int, record_id: int) -> bool:
    """Sent once consent is confirmed: what was agreed to, and how to withdraw it."""
    from contacts.models import Contact
    from logicnet.tenancy.organizations import organization_model

    organization = organization_model().objects.get(pk=organization_id)
    with tenant_context(organization):
        record = (
            ConsentRecord.objects.filter(organization=organization, pk=record_id)
            .select_related("purpose", "notice")
            .first()
        )
        contact = Contact.objects.filter(organization=organization, pk=record.contact_id).first() if record else None
        if record is None or contact is None or not contact.email:
            return False
        with translation.override(contact.preferred_language or settings.LANGUAGE_CODE):
            context = {
                "organization": organization,
                "purpose": record.purpose,
                "notice": record.notice,
                "unsubscribe_link": unsubscribe_url(contact, record.purpose, organization),
                "preferences_link": preferences_url(contact, organization),
            }
            subject = _("You are subscribed to %(purpose)s from %(name)s") % {
                "purpose": record.purpose.name,
                "name": organization.name,
            }
            text = render_to_string("consent/email/welcome.txt", context)
        headers = list_unsubscribe_headers(contact, record.purpose, organization)
        recipient = contact.email
    return _send(subject, text, recipient, headers)
