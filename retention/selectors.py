"""Reads for the retention pages."""

from __future__ import annotations

from django.db.models import Q

from retention.models import LegalHold


def active_holds(organization):
    return (
        LegalHold.objects.filter(organization=organization, released_at__isnull=True)
        .select_related("contact", "interaction")
        .order_by("-created_at")
    )


def released_holds(organization, *, limit: int = 20):
    return LegalHold.objects.filter(organization=organization, released_at__isnull=False).order_by("-released_at")[
        :limit
    ]


def holds_on_contact(organization_id: int, contact_id: int) -> list[LegalHold]:
    """The active holds that keep a contact's data: on the contact itself, or on an
    interaction it takes part in. Call inside the tenant context. An erasure request for
    this person is not carried out while any is active (GDPR Art. 17(3)(e))."""
    from activity.models import InteractionParticipant

    interactions = InteractionParticipant.objects.filter(organization_id=organization_id, contact_id=contact_id).values(
        "interaction_id"
    )
    return list(
        LegalHold.objects.filter(organization_id=organization_id, released_at__isnull=True)
        .filter(Q(contact_id=contact_id) | Q(interaction_id__in=interactions))
        .order_by("created_at", "pk")
    )


def find_hold_subjects(organization, query: str, *, limit: int = 10) -> dict:
    """The contacts a legal hold may be placed on, found as the rest of the app finds them:
    an email address exactly through the blind indexes, otherwise name prefixes; with each
    contact's latest interactions (a hold may name one interaction alone)."""
    from activity.models import Interaction, InteractionParticipant
    from contacts.selectors import search_contacts
    from contacts.services.contacts import find_duplicates
    from logicnet.tenancy.context import tenant_context

    query = " ".join((query or "").split())[:100]
    if not query:
        return {"query": "", "contacts": []}
    if "@" in query:
        found = find_duplicates(organization, emails=[query], phones=[], limit=limit)
    else:
        found = search_contacts(organization, query, limit=limit)
    rows = []
    with tenant_context(organization):
        for contact in found:
            latest = (
                InteractionParticipant.objects.filter(organization=organization, contact=contact)
                .order_by("-occurred_at", "-pk")
                .values_list("interaction_id", flat=True)[:5]
            )
            interactions = list(
                Interaction.objects.filter(organization=organization, pk__in=list(latest)).order_by("-occurred_at")
            )
            rows.append({"contact": contact, "interactions": interactions})
    return {"query": query, "contacts": rows}
