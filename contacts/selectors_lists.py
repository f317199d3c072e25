"""Reads behind the contacts and companies lists: filters, sorting and keyset pagination.

Names are encrypted, so the database can neither sort nor filter by them: lists sort by
created or updated time and page with a cursor on (that column, id), which the
(organization, column, id) indexes in contacts/models.py serve at any depth. No OFFSET (it
reads and throws away every row before the page) and no exact COUNT(*) (it reads every
match on every page): counts stop at COUNT_CAP and read "N+".
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core import signing
from django.db.models import Case, Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.functions import Cast
from django.db.models.lookups import Exact, Regex
from django.http import Http404
from django.utils import timezone

from accounts.models import Organization, User
from contacts.access import sees_all_contacts, visible_contacts
from contacts.models import Company, CompanyTag, Contact, ContactTag, CustomField, SavedView, Tag
from contacts.selectors import find_contacts_by_email, find_contacts_by_phone, search_companies, search_contacts
from logicnet.tenancy.roles import Actor, Role

PAGE_SIZE = 50
COUNT_CAP = 1000
CURSOR_SALT = "contacts.lists.cursor"

# sort key in the query string -> model column; "-" means newest first.
SORTS = {
    "-created": "created_at",
    "created": "created_at",
    "-updated": "updated_at",
    "updated": "updated_at",
}
DEFAULT_SORT = "-created"


# --- custom fields -----------------------------------------------------------------------------


def custom_fields_for(organization: Organization, entity: str) -> list[CustomField]:
    return list(CustomField.objects.filter(organization=organization, entity=entity).order_by("position", "pk"))


def custom_filter_value(custom_field: CustomField, value: Any) -> dict | None:
    """The JSONB containment document matching `value` in the row's `custom`, as
    contacts/custom_fields.py stores it: text, choices and dates (ISO) as strings, multiple
    choices as lists of strings, checkboxes as booleans. Numbers are compared by value
    instead (see _number_equals): "12.5" and "12.50" are the same number."""
    if value in (None, "", []):
        return None
    key = custom_field.key
    kind = custom_field.kind
    if kind == CustomField.Kind.MULTI:
        return {key: [value] if isinstance(value, str) else list(value)}
    if kind == CustomField.Kind.DATE:
        return {key: value.isoformat()}
    if kind == CustomField.Kind.CHECKBOX:
        return {key: value == "yes"}
    return {key: str(value)}


NUMBER_PATTERN = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"


def _number_equals(key: str, value: Decimal) -> Q:
    """Stored numbers are decimal strings; CASE guards the cast (PostgreSQL may evaluate
    AND-ed conditions in any order), so a malformed value is no match, not an error."""
    text = KeyTextTransform(key, "custom")
    as_number = Case(
        When(Regex(text, NUMBER_PATTERN), then=Cast(text, DecimalField(max_digits=40, decimal_places=10))),
        default=None,
    )
    return Q(Exact(as_number, Value(value, output_field=DecimalField(max_digits=40, decimal_places=10))))


def _filter_custom(queryset: QuerySet, custom_fields: Iterable[CustomField], filters: dict) -> QuerySet:
    for custom_field in custom_fields:
        # Personal values are encrypted (custom_personal): the database cannot compare them.
        if custom_field.is_personal:
            continue
        value = filters.get(f"cf_{custom_field.key}")
        if custom_field.kind == CustomField.Kind.NUMBER:
            if value is not None:
                queryset = queryset.filter(_number_equals(custom_field.key, Decimal(value)))
            continue
        document = custom_filter_value(custom_field, value)
        if document is None:
            continue
        if custom_field.kind == CustomField.Kind.CHECKBOX and not document[custom_field.key]:
            queryset = queryset.exclude(custom__contains={custom_field.key: True})
        else:
            queryset = queryset.filter(custom__contains=document)
    return queryset


# --- filters -----------------------------------------------------------------------------------


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _filter_range(queryset: QuerySet, column: str, start: datetime.date | None, end: datetime.date | None):
    """Whole days in the current time zone, both ends included."""
    if start:
        queryset = queryset.filter(**{f"{column}__gte": _day_start(start)})
    if end:
        queryset = queryset.filter(**{f"{column}__lt": _day_start(end + datetime.timedelta(days=1))})
    return queryset


def _filter_tags(queryset: QuerySet, through, fk: str, tags: Iterable[Tag]) -> QuerySet:
    """Rows carrying every one of the tags (one semi-join each, on the tag index)."""
    for tag in tags or ():
        links = through.objects.filter(organization_id=tag.organization_id, tag=tag, **{fk: OuterRef("pk")})
        queryset = queryset.filter(Exists(links))
    return queryset


def filter_contacts(
    queryset: QuerySet[Contact], filters: dict, custom_fields: Iterable[CustomField], company_ids=None
) -> QuerySet[Contact]:
    """`filters` is a filter form's cleaned_data (only the fields that validated)."""
    queryset = _filter_tags(queryset, ContactTag, "contact", filters.get("tag"))
    if filters.get("owner"):
        queryset = queryset.filter(owner=filters["owner"])
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("company"):
        queryset = queryset.filter(company_id=filters["company"].pk)
    if company_ids is not None:
        queryset = queryset.filter(company_id__in=company_ids)
    queryset = _filter_range(queryset, "created_at", filters.get("created_from"), filters.get("created_to"))
    queryset = _filter_range(queryset, "updated_at", filters.get("updated_from"), filters.get("updated_to"))
    return _filter_custom(queryset, custom_fields, filters)


def filter_companies(
    queryset: QuerySet[Company], filters: dict, custom_fields: Iterable[CustomField]
) -> QuerySet[Company]:
    queryset = _filter_tags(queryset, CompanyTag, "company", filters.get("tag"))
    if filters.get("owner"):
        queryset = queryset.filter(owner=filters["owner"])
    if filters.get("industry"):
        queryset = queryset.filter(industry__iexact=filters["industry"])
    if filters.get("size"):
        queryset = queryset.filter(size=filters["size"])
    queryset = _filter_range(queryset, "created_at", filters.get("created_from"), filters.get("created_to"))
    queryset = _filter_range(queryset, "updated_at", filters.get("updated_from"), filters.get("updated_to"))
    return _filter_custom(queryset, custom_fields, filters)


# The columns a list row reads: a narrower SELECT builds its rows in half the time.
CONTACT_ROW_FIELDS = ("pk", "organization_id", "first_name", "last_name", "email", "phone", "company_id", "owner_id")
CONTACT_ROW_FIELDS += ("status", "created_at", "updated_at", "custom", "company__name", "company__organization_id")
COMPANY_ROW_FIELDS = ("pk", "organization_id", "name", "domain", "industry", "size", "owner_id", "created_at")
COMPANY_ROW_FIELDS += ("updated_at", "custom")


def contact_list_rows(queryset: QuerySet[Contact], *, personal_custom: bool = False) -> QuerySet[Contact]:
    """What one row of the list shows, in one query; tags come from tag_names_for and
    owners from owner_names_for. Encrypted custom values only when a column shows them."""
    fields = CONTACT_ROW_FIELDS + (("custom_personal",) if personal_custom else ())
    return queryset.select_related("company").only(*fields)


def company_list_rows(queryset: QuerySet[Company], *, personal_custom: bool = False) -> QuerySet[Company]:
    fields = COMPANY_ROW_FIELDS + (("custom_personal",) if personal_custom else ())
    return queryset.only(*fields)


def owner_names_for(rows: list, members: list[User]) -> dict[int, str]:
    """Owner names of a page of rows from the members already read for the filters; an
    owner who has left the organization costs one more query, only when on the page."""
    names = {member.pk: member.full_name or member.email for member in members}
    missing = {row.owner_id for row in rows if row.owner_id and row.owner_id not in names}
    if missing:
        names.update((user.pk, user.full_name or user.email) for user in User.objects.filter(pk__in=missing))
    return names


def tag_names_for(rows: list, through, fk: str) -> dict[int, list[str]]:
    """The tag names of a page of contacts or companies, sorted, in one query of plain
    tuples: prefetch_related builds a queryset per row, which cost more than the SQL."""
    if not rows:
        return {}
    names: dict[int, list[str]] = {}
    links = through.objects.filter(organization_id=rows[0].organization_id, **{f"{fk}_id__in": [r.pk for r in rows]})
    for owner_id, name in links.values_list(f"{fk}_id", "tag__name"):
        names.setdefault(owner_id, []).append(name)
    for tag_names in names.values():
        tag_names.sort(key=str.casefold)
    return names


def people_counts(actor: Actor, company_ids: list[int]) -> dict[int, int]:
    """How many contacts the user can see per company: one grouped query for the page."""
    if not company_ids:
        return {}
    rows = (
        visible_contacts(actor)
        .filter(company_id__in=company_ids)
        .order_by()
        .values("company_id")
        .annotate(people=Count("pk"))
    )
    return {row["company_id"]: row["people"] for row in rows}


def count_up_to(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """(count, more): reads at most cap + 1 rows, whatever the table size."""
    cap = cap or COUNT_CAP
    found = queryset.order_by()[: cap + 1].count()
    return min(found, cap), found > cap


# --- keyset pagination -------------------------------------------------------------------------


@dataclass
class Page:
    rows: list
    sort: str
    next_cursor: str = ""
    previous_cursor: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_cursor)


def make_cursor(sort: str, row, direction: str) -> str:
    column = SORTS[sort]
    value = getattr(row, column)
    return signing.dumps({"s": sort, "v": value.isoformat(), "i": row.pk, "d": direction}, salt=CURSOR_SALT)


def read_cursor(token: str, sort: str) -> tuple[datetime.datetime, int, str] | None:
    """(value, id, direction), or None for a missing, forged or other-sort cursor (which
    then shows the first page rather than an error)."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=CURSOR_SALT)
        if data["s"] != sort or data["d"] not in ("after", "before"):
            return None
        return datetime.datetime.fromisoformat(data["v"]), int(data["i"]), data["d"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def paginate(queryset: QuerySet, sort: str, cursor: str, page_size: int | None = None) -> Page:
    """One page of `queryset` in `sort` order, after or before the cursor's row.

    The boundary is a row comparison, (column, id) < (value, id), which PostgreSQL reads as
    a start position in the (organization, column, id) index: page 20,000 costs what page 1
    costs. Going back reads the index the other way and turns the rows around."""
    page_size = page_size or PAGE_SIZE
    if sort not in SORTS:
        sort = DEFAULT_SORT
    column = SORTS[sort]
    descending = sort.startswith("-")
    position = read_cursor(cursor, sort)
    backwards = position is not None and position[2] == "before"
    # Reading backwards walks the opposite order.
    walk_descending = descending != backwards
    if position is not None:
        value, pk, _direction = position
        boundary = TupleLessThan if walk_descending else TupleGreaterThan
        queryset = queryset.filter(boundary(Tuple(F(column), F("pk")), (value, pk)))
    order = [f"-{column}", "-pk"] if walk_descending else [column, "pk"]
    rows = list(queryset.order_by(*order)[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    page = Page(rows=rows, sort=sort)
    if rows:
        if more or backwards:
            page.next_cursor = make_cursor(sort, rows[-1], "after")
        if position is not None and (more or not backwards):
            page.previous_cursor = make_cursor(sort, rows[0], "before")
    return page


# --- saved views -------------------------------------------------------------------------------


def usable_saved_views(actor: Actor, entity: str) -> list[SavedView]:
    """The user's own views and those shared with the organization, shared ones last."""
    return list(
        SavedView.objects.filter(organization=actor.organization, entity=entity)
        .filter(Q(owner=actor.user) | Q(is_shared=True))
        .order_by("is_shared", "name", "pk")
    )


def get_saved_view_for(actor: Actor, pk: int) -> SavedView:
    """A view the user may use; someone else's personal view is a 404 like any stranger's."""
    found = (
        SavedView.objects.filter(organization=actor.organization, pk=pk)
        .filter(Q(owner=actor.user) | Q(is_shared=True))
        .first()
    )
    if found is None:
        raise Http404
    return found


def may_delete_saved_view(actor: Actor, saved_view: SavedView) -> bool:
    return saved_view.owner_id == actor.user.pk or actor.at_least(Role.ADMIN)


# --- header search -----------------------------------------------------------------------------

SEARCH_MIN_LENGTH = 2
SEARCH_MAX_LENGTH = 100
SEARCH_LIMIT = 8


def query_shape(query: str) -> str:
    """ "email" when it has an @, "phone" when it is mostly digits (in any common writing:
    "0721 234 567", "+40 (721) 234-567"), else "name" (a prefix of name words)."""
    if "@" in query:
        return "email"
    compact = "".join(query.split())
    digits = sum(ch.isdigit() for ch in compact)
    if digits >= 4 and not any(ch.isalpha() for ch in compact) and digits >= 0.6 * len(compact):
        return "phone"
    return "name"


@dataclass
class SearchResults:
    query: str
    shape: str = "name"
    contacts: list = field(default_factory=list)
    companies: list = field(default_factory=list)

    @property
    def too_short(self) -> bool:
        return len(self.query) < SEARCH_MIN_LENGTH

    @property
    def empty(self) -> bool:
        return not self.contacts and not self.companies


def search_crm(actor: Actor, query: str) -> SearchResults:
    """People and companies for the header search box, restricted to what the user sees.

    Exact email and phone use the blind indexes; a name is matched by word prefixes
    (diacritics-insensitive) through the name tokens (contacts/selectors.py)."""
    query = " ".join(query.split())[:SEARCH_MAX_LENGTH]
    results = SearchResults(query=query, shape=query_shape(query))
    if results.too_short:
        return results
    organization = actor.organization
    if results.shape == "email":
        contacts = find_contacts_by_email(organization, query)
    elif results.shape == "phone":
        contacts = find_contacts_by_phone(organization, query)
    else:
        contacts = search_contacts(organization, query, limit=25)
        results.companies = search_companies(organization, query, limit=SEARCH_LIMIT)
    if contacts and not sees_all_contacts(actor):
        allowed = set(visible_contacts(actor).filter(pk__in=[c.pk for c in contacts]).values_list("pk", flat=True))
        contacts = [c for c in contacts if c.pk in allowed]
    results.contacts = contacts[:SEARCH_LIMIT]
    return results
