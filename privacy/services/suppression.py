"""The organization's suppression list: keyed digests (the blind indexes) of the addresses and
numbers of people who were erased (GDPR Art. 17) or who objected to direct marketing (Art.
21), so that an import does not bring them back. No readable value is kept.

Each row carries its reason: an erasure that is withheld (a legal hold) takes back only its
own rows, and the import's row report says why a row was skipped.
"""

from __future__ import annotations

from collections.abc import Iterable

from privacy.models import Suppression

Reason = Suppression.Reason


def _digests_of(contact) -> set[tuple[str, str]]:
    digests = {(Suppression.Kind.EMAIL, contact.email_index), (Suppression.Kind.PHONE, contact.phone_index)}
    digests |= {(Suppression.Kind.EMAIL, d) for d in contact.extra_emails.values_list("email_index", flat=True)}
    digests |= {(Suppression.Kind.PHONE, d) for d in contact.extra_phones.values_list("phone_index", flat=True)}
    return {(kind, digest) for kind, digest in digests if digest}


def suppress_digests(organization_id: int, digests: Iterable[tuple[str, str]], *, reason: str) -> int:
    """Add (kind, digest) pairs under `reason` (inside the tenant context); the number given."""
    rows = [
        Suppression(organization_id=organization_id, kind=kind, digest=digest, reason=reason)
        for kind, digest in sorted(set(digests))
        if digest
    ]
    Suppression.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def suppress_contact(contact, *, reason: str) -> int:
    """Every address and number of the contact, under `reason` (inside the tenant context)."""
    return suppress_digests(contact.organization_id, _digests_of(contact), reason=reason)


def suppress_values(organization, *, emails: Iterable[str] = (), phones: Iterable[str] = (), reason: str) -> int:
    """Addresses and numbers a person gave (a privacy request's), under `reason`, digested with
    the organization's current key (inside the tenant context): suppressed even when no
    contact holds them yet, so a later import does not add them."""
    from logicnet.encryption import blind
    from logicnet.encryption.keys import current_keys

    keys = current_keys(organization.pk)
    version = keys.current_version
    digests = {(Suppression.Kind.EMAIL, blind.email_index(keys, version, e)) for e in emails if e}
    digests |= {
        (Suppression.Kind.PHONE, blind.phone_index(keys, version, p, organization.country)) for p in phones if p
    }
    return suppress_digests(organization.pk, digests, reason=reason)


def unsuppress_contact(contact, *, reason: str) -> None:
    """The rows `suppress_contact` wrote under `reason`; those of another reason stay."""
    for kind, digest in _digests_of(contact):
        Suppression.objects.filter(
            organization_id=contact.organization_id, kind=kind, digest=digest, reason=reason
        ).delete()


def suppression_reasons(organization_id: int, digests: Iterable[str]) -> dict[str, str]:
    """digest -> why it is suppressed (an erasure before an objection), for the given ones.

    A list shorter than the digests asked about (the usual case: an import batch asks about
    thousands, an organization suppresses a few hundred people) is read whole and matched
    here; a longer one is searched on its index."""
    from logicnet.bulk.writes import bound_cursor

    wanted = set(digests)
    if not wanted:
        return {}
    with bound_cursor() as cursor:
        cursor.execute(
            "SELECT digest, reason FROM privacy_suppression WHERE organization_id = %s LIMIT %s",
            [organization_id, len(wanted)],
        )
        rows = cursor.fetchall()
        if len(rows) >= len(wanted):
            cursor.execute(
                "SELECT digest, reason FROM privacy_suppression WHERE organization_id = %s AND digest = ANY(%b)",
                [organization_id, sorted(wanted)],
            )
            rows = cursor.fetchall()
    found: dict[str, str] = {}
    for digest, reason in rows:
        if digest in wanted and found.get(digest) != Reason.ERASED:
            found[digest] = reason
    return found


def skip_reason(reason: str) -> str:
    """The row report's words for a suppressed row."""
    from django.utils.translation import gettext as _

    if reason == Reason.OBJECTED:
        return _("on the suppression list: this person objected to direct marketing (GDPR Art. 21)")
    return _("on the suppression list: this person was erased at their request (GDPR Art. 17)")
