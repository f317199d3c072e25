"""Reads of contacts that need care: lookups and search through the blind indexes.

Each takes the organization explicitly and runs inside its tenant context. The returned
contacts decrypt lazily: read their fields inside tenant_context(organization) too (a view
already runs there), since outside it row-level security hides the organization's keys.
"""

from __future__ import annotations

from django.db import connection

from accounts.models import Organization
from contacts.models import Company, Contact, ContactEmail, ContactPhone
from logicnet.encryption import blind
from logicnet.encryption.keys import organization_keys
from logicnet.tenancy.context import tenant_context


def _live_keys(organization: Organization):
    keys = organization_keys(organization.pk)
    # Every live key version: while a re-encryption runs, rows not yet moved carry the
    # digests of the previous version.
    return keys, keys.live_versions()


def index_digests(organization: Organization, kind: str, values: list[str]) -> list[str]:
    """Blind-index digests ("email" or "phone") of the values under every live key version
    (while a re-encryption runs, rows not yet moved carry the previous version's digests)."""
    values = [v for v in values if v and v.strip()]
    if not values:
        return []
    keys, versions = _live_keys(organization)
    if kind == "email":
        found = {blind.email_index(keys, version, value) for version in versions for value in values}
    else:
        # The organization's country as loaded for this request (never cached with the
        # keys): it reads a national number typed in a search or a form.
        found = {
            blind.phone_index(keys, version, value, organization.country) for version in versions for value in values
        }
    found.discard("")
    return sorted(found)


def contacts_with(
    organization: Organization,
    *,
    email_digests=(),
    phone_digests=(),
    exclude: int | None = None,
    limit: int | None = None,
) -> list[Contact]:
    """The contacts whose primary or further email or phone has one of the digests, oldest first.

    One query, its ids from a UNION of one index lookup per column and table, written in
    SQL: a plain OR across the further-values table kept PostgreSQL off every index (60 ms
    at 50,000 contacts), and the same UNION built with the ORM took 1.9 ms a lookup against
    1.1 ms for this."""
    quote = connection.ops.quote_name
    contacts = quote(Contact._meta.db_table)
    branches, params = [], [organization.pk]
    for kind, digests, extra_model in (("email", email_digests, ContactEmail), ("phone", phone_digests, ContactPhone)):
        if digests:
            column = quote(f"{kind}_index")
            branches.append(f"SELECT id FROM {contacts} WHERE organization_id = %s AND {column} = ANY(%s)")
            branches.append(
                f"SELECT contact_id FROM {quote(extra_model._meta.db_table)} "
                f"WHERE organization_id = %s AND {column} = ANY(%s)"
            )
            params += [organization.pk, list(digests)] * 2
    if not branches:
        return []
    sql = f"SELECT * FROM {contacts} WHERE organization_id = %s AND id IN ({' UNION ALL '.join(branches)})"
    if exclude is not None:
        sql += " AND id <> %s"
        params.append(exclude)
    sql += " ORDER BY created_at, id"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    return list(Contact.objects.raw(sql, params))


def _find_by_index(organization: Organization, value: str, kind: str) -> list[Contact]:
    with tenant_context(organization):
        return contacts_with(organization, **{f"{kind}_digests": index_digests(organization, kind, [value])})


def find_contacts_by_email(organization: Organization, value: str) -> list[Contact]:
    """Contacts whose primary or further email address is this one, in any spelling."""
    return _find_by_index(organization, value, "email")


def find_contacts_by_phone(organization: Organization, value: str) -> list[Contact]:
    """Contacts whose primary or further phone is this number, in any common writing."""
    return _find_by_index(organization, value, "phone")


# Tokens are probed up to this many rows to find the rarest; the search is then driven by
# it, so a query costs at most this many index probes even when it matches nothing.
PROBE_CAP = 2000
# Candidates (rows having every token of the query) are fetched and decrypted this many at
# a time, and at most MAX_CANDIDATES of them per search: tokens are truncated, so some
# candidates are false positives that only decryption can tell (blind.py). Past the cap
# the search returns what it found; typing more letters narrows it.
CANDIDATE_BATCH = 100
MAX_CANDIDATES = 1000


def _token_table(model) -> tuple[str, str]:
    relation = model._meta.get_field("name_token_rows")
    return relation.related_model._meta.db_table, relation.field.column


def _token_rows_sql(model, organization_id: int, tokens: list[int], limit: int, after: int = 0) -> tuple[str, list]:
    """SQL for the ids (ascending, above `after`) of rows having every token, driven by the
    first one.

    Each further token is a LATERAL index probe with LIMIT 1, which PostgreSQL can only run
    as a nested loop: it stops at the `limit`-th match. Written as plain joins, two common
    prefixes ("ana pop") were hash-joined, reading every row of both (60 ms at a million).
    The driving index (organization, token, row) returns its rows in id order, so batches
    page through it by id."""
    table, fk = _token_table(model)
    sql, params = f"SELECT d.{fk} FROM {table} AS d", []
    for n, token in enumerate(tokens[1:]):
        sql += (
            f" JOIN LATERAL (SELECT 1 FROM {table} AS p{n} WHERE p{n}.organization_id = %s AND p{n}.token = %s"
            f" AND p{n}.{fk} = d.{fk} LIMIT 1) AS m{n} ON true"
        )
        params += [organization_id, token]
    sql += f" WHERE d.organization_id = %s AND d.token = %s AND d.{fk} > %s ORDER BY d.{fk} LIMIT %s"
    return sql, [*params, organization_id, tokens[0], after, limit]


def _rarest_first(model, organization_id: int, word_tokens: list[list[int]]) -> list[int] | None:
    """Every token of the query once, the one on the fewest rows first (counted up to
    PROBE_CAP; only each word's longest prefix is counted, the shorter ones are never
    rarer in practice); None when a counted token has no row, so nothing can match."""
    longest = list(dict.fromkeys(tokens[0] for tokens in word_tokens))
    rest = [t for tokens in word_tokens for t in tokens[1:] if t not in longest]
    if len(longest) > 1:
        table, _fk = _token_table(model)
        counted = []
        with connection.cursor() as cursor:
            for token in longest:
                cursor.execute(
                    f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE organization_id = %s AND token = %s LIMIT %s)"
                    " AS s",
                    [organization_id, token, PROBE_CAP],
                )
                (count,) = cursor.fetchone()
                if count == 0:
                    return None
                counted.append((count, token))
        longest = [token for _count, token in sorted(counted)]
    return [*longest, *dict.fromkeys(rest)]


def matching_ids(
    model, organization: Organization, word_tokens: list[list[int]], limit: int, after: int = 0
) -> list[int]:
    """Ids of rows having every token of the query (candidates: tokens are truncated)."""
    ordered = _rarest_first(model, organization.pk, word_tokens)
    if not ordered:
        return []
    sql, params = _token_rows_sql(model, organization.pk, ordered, limit, after)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _matching(model, organization: Organization, query: str, limit: int, sources: list[str]) -> list:
    """Rows whose `sources` have a word starting with each query word, per live key version:
    candidates by their tokens, then decrypted and checked (the tokens alone over-match)."""
    keys, versions = _live_keys(organization)
    wanted = blind.query_words(query)
    scope = f"{model._meta.label}.name_tokens"
    found: list = []
    seen: set[int] = set()
    examined = 0
    for version in versions:
        word_tokens = blind.query_tokens(keys, version, query, scope)
        if not word_tokens:
            return []
        ordered = _rarest_first(model, organization.pk, word_tokens)
        if not ordered:
            continue
        after = 0
        # The first batch is about what is needed: the tokens of every query word, ANDed,
        # leave few false candidates, and each candidate costs a row and its decryption.
        size = limit + limit // 4 + 2
        while len(found) < limit and examined < MAX_CANDIDATES:
            sql, params = _token_rows_sql(model, organization.pk, ordered, size, after)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            after = ids[-1]
            fresh = [pk for pk in ids if pk not in seen]
            seen.update(fresh)
            examined += len(fresh)
            rows = model.objects.filter(organization=organization, pk__in=fresh).order_by("pk") if fresh else []
            for row in rows:
                if blind.matches_words([getattr(row, source) for source in sources], wanted):
                    found.append(row)
                    if len(found) >= limit:
                        break
            if len(ids) < size:
                break
            size = CANDIDATE_BATCH
        if len(found) >= limit:
            break
    return found


def search_contacts(organization: Organization, prefix: str, limit: int = 25) -> list[Contact]:
    """Contacts whose first or last name has a word starting with each word of `prefix`,
    ignoring case and diacritics ("stef" finds "Ștefan"). The first `limit` matches, sorted
    by name here: the database can only order them by ciphertext."""
    with tenant_context(organization):
        found = _matching(Contact, organization, prefix, limit, ["first_name", "last_name"])
        found.sort(key=lambda contact: (blind.fold_text(contact.last_name), blind.fold_text(contact.first_name)))
        return found


def search_companies(organization: Organization, prefix: str, limit: int = 25) -> list[Company]:
    with tenant_context(organization):
        found = _matching(Company, organization, prefix, limit, ["name"])
        found.sort(key=lambda company: blind.fold_text(company.name))
        return found
