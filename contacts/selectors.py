"""Reads of contacts that need care: lookups and search through the blind indexes.

Each takes the organization explicitly and runs inside its tenant context. The returned
contacts decrypt lazily: read their fields inside tenant_context(organization) too (a view
already runs there), since outside it row-level security hides the organization's keys.
"""

from __future__ import annotations

from accounts.models import Organization
from contacts.models import Company, Contact
from logicnet.encryption import blind
from logicnet.encryption.keys import organization_keys
from logicnet.tenancy.context import tenant_context


def _live_keys(organization: Organization):
    keys = organization_keys(organization.pk)
    # Every live key version: while a re-encryption runs, rows not yet moved carry the
    # digests of the previous version.
    return keys, keys.live_versions()


def find_contacts_by_email(organization: Organization, value: str) -> list[Contact]:
    if not value or not value.strip():
        return []
    with tenant_context(organization):
        keys, versions = _live_keys(organization)
        digests = [blind.email_index(keys, version, value) for version in versions]
        return list(Contact.objects.filter(organization=organization, email_index__in=digests).order_by("pk"))


def find_contacts_by_phone(organization: Organization, value: str) -> list[Contact]:
    if not value or not value.strip():
        return []
    with tenant_context(organization):
        keys, versions = _live_keys(organization)
        digests = [blind.phone_index(keys, version, value) for version in versions]
        return list(Contact.objects.filter(organization=organization, phone_index__in=digests).order_by("pk"))


def token_queryset(model, organization: Organization, tokens: list[int]):
    """The rows having every token: one join on the model's token table per token."""
    rows = model.objects.filter(organization=organization)
    for token in tokens:
        rows = rows.filter(name_token_rows__organization=organization, name_token_rows__token=token)
    return rows


def _matching(model, organization: Organization, prefix: str, limit: int) -> list:
    """Rows whose name tokens include a token of every query word: one join on the token
    table per word (an index lookup on organization, token, row each), per live key version."""
    keys, versions = _live_keys(organization)
    found: dict[int, object] = {}
    for version in versions:
        tokens = blind.query_tokens(keys, version, prefix)
        if not tokens:
            return []
        for row in token_queryset(model, organization, tokens)[: limit - len(found)]:
            found.setdefault(row.pk, row)
        if len(found) >= limit:
            break
    return list(found.values())


def search_contacts(organization: Organization, prefix: str, limit: int = 25) -> list[Contact]:
    """Contacts whose first or last name has a word starting with each word of `prefix`,
    ignoring case and diacritics ("stef" finds "Ștefan"). The first `limit` matches, sorted
    by name here: the database can only order them by ciphertext."""
    with tenant_context(organization):
        found = _matching(Contact, organization, prefix, limit)
        found.sort(key=lambda contact: (blind.fold_text(contact.last_name), blind.fold_text(contact.first_name)))
        return found


def search_companies(organization: Organization, prefix: str, limit: int = 25) -> list[Company]:
    with tenant_context(organization):
        found = _matching(Company, organization, prefix, limit)
        found.sort(key=lambda company: blind.fold_text(company.name))
        return found
