"""The one-click objection to direct marketing (GDPR Art. 21(2)-(3)): absolute, immediate,
no staff involved.

Every marketing mail carries a link naming the contact by a signed id (never an address):
`marketing_objection_url(contact)`. Opening it shows a button (a mail scanner that prefetches
links changes nothing); pressing it, or a mail client's RFC 8058 one-click POST
(`List-Unsubscribe-Post: List-Unsubscribe=One-Click`), records the objection on the contact
at once. The link does not expire: an objection must stay possible from any old mail.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context
from privacy.models import Suppression
from privacy.services.suppression import suppress_contact

_SALT = "privacy.marketing-objection"


def marketing_objection_token(contact) -> str:
    return signing.dumps({"o": contact.organization_id, "c": contact.pk}, salt=_SALT, compress=True)


def marketing_objection_url(contact, organization) -> str:
    path = reverse(
        "privacy_marketing_objection",
        kwargs={"org_slug": organization.slug, "token": marketing_objection_token(contact)},
    )
    return settings.SITE_URL + path


def contact_for_token(organization, token: str):
    """The contact a link names, or None (forged, another organization's, or erased)."""
    from contacts.models import Contact

    try:
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("o") != organization.pk:
        return None
    with tenant_context(organization):
        return Contact.objects.filter(organization=organization, pk=data.get("c")).first()


def object_to_marketing(organization, token: str) -> bool | None:
    """Record the objection; True when it is recorded now, False when it was already, None
    when the link names nobody. Idempotent."""
    from contacts.models import Contact

    contact = contact_for_token(organization, token)
    if contact is None:
        return None
    with tenant_context(organization):
        changed = Contact.objects.filter(pk=contact.pk, marketing_objection_at__isnull=True).update(
            marketing_objection_at=timezone.now()
        )
        # On the suppression list (with every address and number): an import does not
        # bring the person back into marketing (Art. 21(3)).
        suppress_contact(contact, reason=Suppression.Reason.OBJECTED)
        if changed:
            record_event(
                action="privacy.marketing_objection",
                organization=organization,
                target=contact,
                details={"channel": "one_click_link"},
            )
    return bool(changed)
