"""The links a person gets in mail: the one-click withdrawal of one purpose (RFC 8058
List-Unsubscribe) and their preference centre. Both name the contact by a signed id, never
by an address (personal data never travels in a URL), and neither expires: withdrawing must
stay as easy as giving (GDPR Art. 7(3)) from any old mail.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from logicnet.tenancy.context import tenant_context

_UNSUBSCRIBE_SALT = "consent.unsubscribe"
_PREFERENCES_SALT = "consent.preferences"


def unsubscribe_token(contact, purpose) -> str:
    return signing.dumps({"o": contact.organization_id, "c": contact.pk, "p": purpose.pk}, salt=_UNSUBSCRIBE_SALT)


def preferences_token(contact) -> str:
    return signing.dumps({"o": contact.organization_id, "c": contact.pk}, salt=_PREFERENCES_SALT)


def unsubscribe_url(contact, purpose, organization) -> str:
    path = reverse(
        "consent_unsubscribe", kwargs={"org_slug": organization.slug, "token": unsubscribe_token(contact, purpose)}
    )
    return settings.SITE_URL + path


def preferences_url(contact, organization) -> str:
    path = reverse("consent_preferences", kwargs={"org_slug": organization.slug, "token": preferences_token(contact)})
    return settings.SITE_URL + path


def list_unsubscribe_headers(contact, purpose, organization) -> dict[str, str]:
    """The headers every marketing mail for `purpose` carries (RFC 2369, RFC 8058): a mail
    client offers its own "Unsubscribe" button and POSTs `List-Unsubscribe=One-Click` to the
    link, which withdraws the consent at once."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(contact, purpose, organization)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _load(token: str, salt: str, organization) -> dict | None:
    try:
        data = signing.loads(token, salt=salt)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("o") != organization.pk:
        return None
    return data


def _contact(organization, contact_id):
    from contacts.models import Contact

    with tenant_context(organization):
        return Contact.objects.filter(organization=organization, pk=contact_id).first()


def contact_for_preferences(organization, token: str):
    """The contact a preference-centre link names, or None (forged, another organization's,
    or erased)."""
    data = _load(token, _PREFERENCES_SALT, organization)
    return _contact(organization, data.get("c")) if data else None


def unsubscribe_target(organization, token: str):
    """(contact, purpose) an unsubscribe link names, or None."""
    from consent.models import Purpose

    data = _load(token, _UNSUBSCRIBE_SALT, organization)
    if not data:
        return None
    contact = _contact(organization, data.get("c"))
    if contact is None:
        return None
    with tenant_context(organization):
        purpose = Purpose.objects.filter(organization=organization, pk=data.get("p")).first()
    return (contact, purpose) if purpose else None
