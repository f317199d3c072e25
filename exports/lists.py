"""The CRM lists that can be exported: contacts, companies and interactions.

Each reuses its list page's visibility rule (contacts.access, activity.selectors)
and filter (the list's filter form and contacts.selectors_lists.filter_*), so an export holds
exactly the rows the actor sees on the page under the same filter, minus contacts whose
processing is restricted (GDPR Art. 18: stored, not otherwise processed; an export to a
file is processing), and interactions that name one.
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from exports.registry import Column, ExportList, Row, register


def _query(params: dict[str, list[str]]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in (params or {}).items():
        query.setlist(key, list(values))
    return query


def _custom_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _custom_columns(organization, entity: str) -> list[Column]:
    from contacts.selectors_lists import custom_fields_for

    columns = []
    for definition in custom_fields_for(organization, entity):
        source = "custom_personal" if definition.is_personal else "custom"

        def value(row: Row, context: dict, key=definition.key, source=source):
            return _custom_text((row[source] or {}).get(key))

        columns.append(Column(f"cf_{definition.key}", definition.label, value=value, needs=(source,)))
    return columns


def _owner_names(rows: list[Row], context: dict, column: str) -> None:
    """Member names once per export; a former member's name looked up when a page names them."""
    from accounts.models import Membership, User

    names = context.get("user_names")
    if names is None:
        organization = context["actor"].organization
        members = Membership.objects.filter(organization=organization).values_list(
            "user_id", "user__full_name", "user__email"
        )
        names = context["user_names"] = {pk: full_name or email for pk, full_name, email in members}
    missing = {row[column] for row in rows if row[column] and row[column] not in names}
    if missing:
        names.update(
            (pk, n or e) for pk, n, e in User.objects.filter(pk__in=missing).values_list("pk", "full_name", "email")
        )


def _user_name(column: str):
    return lambda row, context: context["user_names"].get(row[column], "") if row[column] else ""


def _tag_list(through, fk: str):
    """The row's tag names, sorted, "; "-separated: one aggregate per row, computed by
    PostgreSQL on the (organization, row, tag) unique index."""
    from django.contrib.postgres.aggregates import StringAgg
    from django.db.models import Subquery, TextField

    links = (
        through.objects.filter(organization=OuterRef("organization"), **{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(names=StringAgg("tag__name", delimiter="; ", order_by="tag__name"))
        .values("names")
    )
    return Subquery(links, output_field=TextField())


def _label_of(column: str, choices):
    labels = None

    def value(row: Row, context: dict) -> str:
        nonlocal labels
        if labels is None:  # translated in the job's language, once
            labels = {key: str(label) for key, label in choices}
        raw = row[column]
        return labels.get(raw, raw or "")

    return value


def _as_chosen(always: tuple[str, ...], by_list_column: dict[str, tuple[str, ...]], defaults: list[str]):
    """The list page's column choice (`col`, its defaults when absent) applied to the export's
    columns: the identifying ones always, then those of each chosen list column, custom
    fields (`cf_<key>`) included."""

    def chosen(columns: list[Column], params: dict[str, list[str]]) -> list[Column]:
        picked = set(params.get("col") or []) or set(defaults)
        keys = set(always) | {key for col in picked for key in by_list_column.get(col, ())}
        keys |= {col for col in picked if col.startswith("cf_")}
        return [column for column in columns if column.key in keys]

    return chosen


# --- contacts ---------------------------------------------------------------------------------------


def matching_contacts(actor, params: dict[str, list[str]]):
    """The contacts list's matches for `params` among those the actor may see, as the list
    page computes them (contacts.views.lists._contact_matches), restricted ones left out."""
    from contacts.access import visible_contacts
    from contacts.forms_lists import ContactFilterForm, with_personal_filters
    from contacts.models import CustomField
    from contacts.selectors import search_companies
    from contacts.selectors_lists import custom_fields_for, filter_contacts
    from contacts.views.lists import COMPANY_NAME_MATCHES

    organization = actor.organization
    custom_fields = custom_fields_for(organization, CustomField.Entity.CONTACT)
    form = ContactFilterForm(
        with_personal_filters(organization.pk, _query(params)), organization=organization, custom_fields=custom_fields
    )
    form.is_valid()  # invalid fields are left out of the filter, as on the page
    filters = form.cleaned_data
    company_ids = None
    if filters.get("company_name"):
        companies = search_companies(organization, filters["company_name"], limit=COMPANY_NAME_MATCHES)
        company_ids = [company.pk for company in companies]
    matches = filter_contacts(visible_contacts(actor), filters, custom_fields, company_ids)
    return matches.filter(restricted_at__isnull=True)


def _contact_columns(actor) -> list[Column]:
    from contacts.models import Contact, ContactTag, CustomField

    return [
        Column("pk", _("ID")),
        Column("first_name", _("First name")),
        Column("last_name", _("Last name")),
        Column("email", _("Email")),
        Column("phone", _("Phone")),
        Column("company__name", _("Company")),
        Column("owner", _("Owner"), value=_user_name("owner_id")),
        Column("status", _("Status"), value=_label_of("status", Contact.Status.choices)),
        Column("source", _("Source"), value=_label_of("source", Contact.Source.choices)),
        Column("tags", _("Tags"), expression=_tag_list(ContactTag, "contact")),
        Column("created_at", _("Created")),
        Column("updated_at", _("Updated")),
        *_custom_columns(actor.organization, CustomField.Entity.CONTACT),
    ]


# The contact list's columns (contacts.forms_lists.CONTACT_COLUMNS) -> the export's.
CONTACT_LIST_COLUMNS = {
    "email": ("email",),
    "phone": ("phone",),
    "company": ("company__name",),
    "owner": ("owner",),
    "status": ("status",),
    "tags": ("tags",),
    "created": ("created_at",),
    "updated": ("updated_at",),
}
COMPANY_LIST_COLUMNS = {
    "domain": ("domain",),
    "industry": ("industry",),
    "size": ("size",),
    "owner": ("owner",),
    "tags": ("tags",),
    "created": ("created_at",),
    "updated": ("updated_at",),
}


def _prepare_contacts(rows: list[Row], context: dict) -> None:
    _owner_names(rows, context, "owner_id")


# --- companies --------------------------------------------------------------------------------------


def matching_companies(actor, params: dict[str, list[str]]):
    from contacts.access import visible_companies
    from contacts.forms_lists import CompanyFilterForm
    from contacts.models import CustomField
    from contacts.selectors_lists import custom_fields_for, filter_companies

    organization = actor.organization
    custom_fields = custom_fields_for(organization, CustomField.Entity.COMPANY)
    form = CompanyFilterForm(_query(params), organization=organization, custom_fields=custom_fields)
    form.is_valid()
    return filter_companies(visible_companies(actor), form.cleaned_data, custom_fields)


def _company_columns(actor) -> list[Column]:
    from contacts.models import Company, CompanyTag, CustomField

    return [
        Column("pk", _("ID")),
        Column("name", _("Name")),
        Column("domain", _("Website or domain")),
        Column("industry", _("Industry")),
        Column("size", _("Size"), value=_label_of("size", Company.Size.choices)),
        Column("phone", _("Phone")),
        Column("address", _("Address")),
        Column("owner", _("Owner"), value=_user_name("owner_id")),
        Column("tags", _("Tags"), expression=_tag_list(CompanyTag, "company")),
        Column("created_at", _("Created")),
        Column("updated_at", _("Updated")),
        *_custom_columns(actor.organization, CustomField.Entity.COMPANY),
    ]


def _prepare_companies(rows: list[Row], context: dict) -> None:
    _owner_names(rows, context, "owner_id")


# --- interactions -----------------------------------------------------------------------------------


def matching_interactions(actor, params: dict[str, list[str]]):
    """Every interaction the actor may see (there is no interactions list page to filter
    yet; `kind` narrows to one type), leaving out those with a restricted participant."""
    from activity.models import Interaction, InteractionParticipant
    from activity.selectors import visible_interactions

    restricted = InteractionParticipant.objects.filter(
        organization=actor.organization, interaction=OuterRef("pk"), contact__restricted_at__isnull=False
    )
    interactions = visible_interactions(actor).exclude(Exists(restricted))
    kind = (params.get("kind") or [""])[0]
    if kind in Interaction.Kind.values:
        interactions = interactions.filter(kind=kind)
    for key, lookup in (("occurred_from", "occurred_at__date__gte"), ("occurred_to", "occurred_at__date__lte")):
        day = _day((params.get(key) or [""])[0])
        if day is not None:
            interactions = interactions.filter(**{lookup: day})
    return interactions


def _day(value: str):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None  # an invalid filter value is left out, as on the list pages


def _participants(rows: list[Row], context: dict) -> None:
    """The names of each interaction's participants the actor may see (a timeline never
    names one they may not: activity/selectors.py)."""
    from activity.models import InteractionParticipant
    from activity.selectors import visible_contacts_or_none
    from exports.services import decrypt_rows

    actor = context["actor"]
    links = InteractionParticipant.objects.filter(
        organization=actor.organization, interaction_id__in=[row["pk"] for row in rows], contact__restricted_at=None
    )
    visible = visible_contacts_or_none(actor)
    if visible is not None:
        links = links.filter(contact__in=visible)
    found = list(
        links.order_by("interaction_id", "pk").values("interaction_id", "contact__first_name", "contact__last_name")
    )
    decrypt_rows(
        found, ["contact__first_name", "contact__last_name"], InteractionParticipant, actor.organization.pk, context
    )
    names: dict[int, list[str]] = {}
    for link in found:
        name = " ".join(part for part in (link["contact__first_name"], link["contact__last_name"]) if part)
        names.setdefault(link["interaction_id"], []).append(name)
    context["participants"] = names


def _prepare_interactions(rows: list[Row], context: dict) -> None:
    _owner_names(rows, context, "author_id")
    _participants(rows, context)


def _interaction_columns(actor) -> list[Column]:
    from activity.models import Interaction

    return [
        Column("pk", _("ID")),
        Column("kind", _("Type"), value=_label_of("kind", Interaction.Kind.choices)),
        Column("occurred_at", _("When")),
        Column("subject", _("Subject")),
        Column("body", _("Details")),
        Column("company__name", _("Company")),
        Column(
            "participants", _("Participants"), value=lambda row, ctx: "; ".join(ctx["participants"].get(row["pk"], ()))
        ),
        Column("author", _("Author"), value=_user_name("author_id")),
        Column("created_at", _("Created")),
    ]


def register_crm_lists() -> None:
    from activity.models import Interaction
    from contacts.forms_lists import DEFAULT_COMPANY_COLUMNS, DEFAULT_CONTACT_COLUMNS
    from contacts.models import Company, Contact

    register(
        ExportList(
            key="contacts",
            label=_("Contacts"),
            model=Contact,
            queryset=matching_contacts,
            columns=_contact_columns,
            fields=["owner_id", "status", "source"],
            prepare=_prepare_contacts,
            chosen=_as_chosen(("pk", "first_name", "last_name"), CONTACT_LIST_COLUMNS, DEFAULT_CONTACT_COLUMNS),
        )
    )
    register(
        ExportList(
            key="companies",
            label=_("Companies"),
            model=Company,
            queryset=matching_companies,
            columns=_company_columns,
            fields=["owner_id", "size"],
            prepare=_prepare_companies,
            chosen=_as_chosen(("pk", "name"), COMPANY_LIST_COLUMNS, DEFAULT_COMPANY_COLUMNS),
        )
    )
    register(
        ExportList(
            key="interactions",
            label=_("Interactions"),
            model=Interaction,
            queryset=matching_interactions,
            columns=_interaction_columns,
            fields=["author_id", "kind"],
            prepare=_prepare_interactions,
            page_size=2000,
        )
    )
