"""The contacts and companies lists, saved views, bulk actions and the header search."""

from __future__ import annotations

import html

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from contacts.access import visible_companies, visible_contacts
from contacts.custom_fields import display_value, stored_value
from contacts.forms_lists import (
    COMPANY_NAME_PARAM,
    CONTACT_COLUMNS,
    BulkActionForm,
    CompanyFilterForm,
    ContactFilterForm,
    ListChoices,
    SavedViewForm,
    list_params,
    params_query,
    seal_filter_value,
    sealed_params,
    split_personal_params,
    with_personal_filters,
)
from contacts.models import CompanyTag, Contact, ContactTag, CustomField, SavedView
from contacts.selectors import search_companies
from contacts.selectors_lists import (
    DEFAULT_SORT,
    company_list_rows,
    contact_list_rows,
    count_up_to,
    custom_fields_for,
    filter_companies,
    filter_contacts,
    get_saved_view_for,
    may_delete_saved_view,
    owner_names_for,
    paginate,
    people_counts,
    search_crm,
    tag_names_for,
    usable_saved_views,
)
from contacts.services import bulk
from contacts.services.views import create_saved_view, delete_saved_view
from logicnet.normalize import format_phone, mailto_uri, tel_uri
from logicnet.row_urls import url_maker
from logicnet.tenancy.roles import Role, requires_role

# A company-name filter is resolved to at most this many companies (names are encrypted:
# the name tokens find them, then the contacts are filtered by company id).
COMPANY_NAME_MATCHES = 200


def _custom_cells(obj, columns: list[str], custom_fields: list[CustomField]) -> list[tuple[str, str]]:
    """(escaped label, escaped HTML) of the chosen custom columns."""
    cells = []
    for custom_field in custom_fields:
        key = f"cf_{custom_field.key}"
        if key in columns:
            text = display_value(custom_field, stored_value(custom_field, obj)) or ""
            cells.append((_escape(custom_field.label), conditional_escape(text)))
    return cells


def _needs_personal_custom(columns: list[str], custom_fields: list[CustomField]) -> bool:
    return any(f.is_personal and f"cf_{f.key}" in columns for f in custom_fields)


def _contact_matches(request, query: QueryDict, choices: ListChoices | None = None):
    """The filter form bound to `query` and the contacts it matches among those visible."""
    organization = request.organization
    custom_fields = custom_fields_for(organization, CustomField.Entity.CONTACT)
    query = with_personal_filters(organization.pk, query)
    form = ContactFilterForm(query, organization=organization, custom_fields=custom_fields, choices=choices)
    form.is_valid()  # invalid fields are shown with their errors and left out of the filter
    filters = form.cleaned_data
    company_ids = None
    if filters.get("company_name"):
        companies = search_companies(organization, filters["company_name"], limit=COMPANY_NAME_MATCHES)
        company_ids = [company.pk for company in companies]
    matches = filter_contacts(visible_contacts(request.actor), filters, custom_fields, company_ids)
    return form, matches, custom_fields


def _page_links(base_query: str, page) -> dict[str, str]:
    def link(cursor: str) -> str:
        query = QueryDict(base_query, mutable=True)
        query["cursor"] = cursor
        return "?" + query.urlencode()

    return {
        "next_url": link(page.next_cursor) if page.has_next else "",
        "previous_url": link(page.previous_cursor) if page.has_previous else "",
    }


def saved_views_for(request, entity: str) -> list:
    """The list's saved views the user may use, each with its query and whether they may delete it."""
    views = usable_saved_views(request.actor, entity)
    for saved_view in views:
        saved_view.query = params_query(
            sealed_params(request.organization.pk, saved_view.params, saved_view.personal_params)
        )
        saved_view.deletable = may_delete_saved_view(request.actor, saved_view)
    return views


def active_view_id(request) -> int | None:
    try:
        return int(request.GET.get("view", ""))
    except ValueError:
        return None


# Filter fields that are not filters: how the list is shown, not which rows it holds.
NOT_FILTERS = {"sort", "col"}


def _chip_value(field, value) -> str:
    if hasattr(value, "__iter__") and not isinstance(value, str):
        return ", ".join(_chip_value(field, item) for item in value)
    if hasattr(field, "label_from_instance") and hasattr(value, "pk"):
        return str(field.label_from_instance(value))
    if hasattr(value, "strftime"):
        return dateformat.format(value, get_format("SHORT_DATE_FORMAT"))
    choices = dict(getattr(field, "choices", ()) or ())
    return str(choices.get(value, value))


def filter_chips(form, base_query: str) -> list[dict]:
    """The active filters as chips: the field's label, what it is set to, and the list's URL
    without it (a link, so removing one is a click and the browser's back button undoes it)."""
    query = QueryDict(base_query)
    chips = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if name in NOT_FILTERS or value in (None, "", [], ()) or (hasattr(value, "exists") and not value.exists()):
            continue
        remaining = query.copy()
        for key in (name, COMPANY_NAME_PARAM) if name == "company_name" else (name,):
            remaining.pop(key, None)
        remaining.pop("cursor", None)
        chips.append(
            {"label": field.label, "value": _chip_value(field, value), "remove_url": "?" + remaining.urlencode()}
        )
    return chips


def _list_context(request, entity: str, form, page, matches, custom_fields, can_write: bool) -> dict:
    """What both lists' templates show besides their rows."""
    count, more = count_up_to(matches)
    base_query = params_query(list_params(request.GET, entity, custom_fields))
    return {
        "form": form,
        "page": page,
        "column_labels": form.column_labels(),
        "count": count,
        "count_more": more,
        "current_query": base_query,
        "filter_chips": filter_chips(form, base_query),
        "saved_views": saved_views_for(request, entity),
        "active_view_id": active_view_id(request),
        "entity": entity,
        "can_write": can_write,
        **_page_links(base_query, page),
    }


def _filters_posted(request, org_slug: str, entity: str):
    """The filter form is POSTed, so a typed personal value (a company name) stays out of
    the URL: redirect to the list with the filters in the query string and the personal
    value sealed into an opaque token (GDPR Art. 32; access logs keep URLs)."""
    custom_fields = custom_fields_for(request.organization, entity)
    params = list_params(request.POST, entity, custom_fields)
    params.pop(COMPANY_NAME_PARAM, None)  # a stale token from the page is replaced by what was typed
    if entity == CustomField.Entity.CONTACT:
        name = " ".join(request.POST.get("company_name", "").split())[:100]
        if name:
            params[COMPANY_NAME_PARAM] = [seal_filter_value(request.organization.pk, "company_name", name)]
    return redirect(_list_url(org_slug, entity, params_query(params)))


# Filtering is a read: a read-only member may POST the filter form.
@require_http_methods(["GET", "POST"])
@requires_role(read=Role.READ_ONLY, write=Role.READ_ONLY)
def contact_list(request, org_slug):
    if request.method == "POST":
        return _filters_posted(request, org_slug, CustomField.Entity.CONTACT)
    choices = ListChoices.of(request.organization)
    form, matches, custom_fields = _contact_matches(request, request.GET, choices)
    columns = form.columns()
    rows = contact_list_rows(matches, personal_custom=_needs_personal_custom(columns, custom_fields))
    page = paginate(rows, form.cleaned_data.get("sort") or DEFAULT_SORT, request.GET.get("cursor", ""))
    labels = {key: _escape(label) for key, label in CONTACT_COLUMNS}
    text = RowText()
    contact_url = url_maker(org_slug, "contact_detail", "contact_id")
    company_url = url_maker(org_slug, "company_detail", "company_id")
    tag_names = tag_names_for(page.rows, ContactTag, "contact")
    owner_names = owner_names_for(page.rows, choices.members)
    status_labels = {value: str(label) for value, label in Contact.Status.choices}
    can_write = request.actor.at_least(Role.MEMBER)
    for contact in page.rows:
        contact.tag_names = tag_names.get(contact.pk, [])
        contact.owner_name = owner_names.get(contact.owner_id, "")
        contact.status_label = status_labels.get(contact.status, contact.status)
        contact.company_url = company_url(contact.company_id) if contact.company_id else ""
        cells = [(labels[key], _contact_cell(contact, key, text)) for key in columns if key in labels]
        cells += _custom_cells(contact, columns, custom_fields)
        contact.row_html = _row_html(
            contact, contact.full_name, contact_url(contact.pk), cells, text, selectable=can_write
        )
    context = _list_context(request, CustomField.Entity.CONTACT, form, page, matches, custom_fields, can_write)
    context["filtered_company"] = form.cleaned_data.get("company")
    context["bulk_form"] = BulkActionForm(None, organization=request.organization, choices=choices)
    return render(request, "contacts/contact_list.html", context)


def _escape(value) -> str:
    """Django's escape() without its lazy-string and SafeString wrapping: the same text, at a
    third of the cost, for the few thousand values of a page of rows."""
    return html.escape(str(value))


class RowText:
    """What every row of a page repeats, translated once per page rather than per row:
    a gettext, a time zone or a format lookup per cell added up to milliseconds a page."""

    def __init__(self) -> None:
        self.name_label = _escape(_("Name"))
        self.no_name = _("(no name)")
        self.select = _("Select %(name)s")
        self.time_zone = timezone.get_current_timezone()
        self.datetime_format = get_format("SHORT_DATETIME_FORMAT")


def _row_html(obj, name: str, url: str, cells: list[tuple[str, str]], text: RowText, *, selectable=False) -> str:
    """One list row's cells. Built here, not in the template: fifty rows of template tags
    (a translation and an escape per cell) cost more than the page's SQL. `cells` hold
    (escaped label, escaped HTML)."""
    shown = name or text.no_name
    head = f'<td data-label="{text.name_label}"><a href="{_escape(url)}">{_escape(shown)}</a></td>'
    if selectable:
        label = _escape(text.select % {"name": shown})
        head = (
            f'<td class="select-cell"><input type="checkbox" name="ids" value="{obj.pk}" form="bulk-form" '
            f'aria-label="{label}"></td>{head}'
        )
    cells_html = "".join(f'<td data-label="{label}">{cell}</td>' for label, cell in cells)
    return mark_safe(head + cells_html)  # noqa: S308 - every part is escaped above


def _tags_html(names: list[str]) -> str:
    return " ".join(f'<span class="badge">{_escape(name)}</span>' for name in names)


def _when_html(value, text: RowText) -> str:
    """timezone.localtime() and date_format(..., "SHORT_DATETIME_FORMAT"), with the time
    zone and the format looked up once per page."""
    if value is None:
        return ""
    local = value.astimezone(text.time_zone)
    return f'<time datetime="{local.isoformat()}">{_escape(dateformat.format(local, text.datetime_format))}</time>'


def _link_html(url: str, text) -> str:
    return f'<a href="{_escape(url)}">{_escape(text)}</a>' if url else _escape(text)


def _mailto_html(email: str) -> str:
    return f'<a href="{_escape(mailto_uri(email))}">{_escape(email)}</a>' if email else ""


def _tel_html(phone: str) -> str:
    """A tap-to-call link showing the number as people write it (format_phone is cached)."""
    href = tel_uri(phone)
    return f'<a href="{_escape(href)}">{_escape(format_phone(phone))}</a>' if href else _escape(phone)


def _contact_cell(contact: Contact, key: str, text: RowText) -> str:
    """One cell's HTML, escaped here: fifty rows of template if-chains cost more than the
    rest of the page."""
    if key == "email":
        return _mailto_html(contact.email)
    if key == "phone":
        return _tel_html(contact.phone)
    if key == "company":
        return _link_html(contact.company_url, contact.company.name) if contact.company_id else ""
    if key == "owner":
        return _escape(contact.owner_name)
    if key == "status":
        return _escape(contact.status_label)
    if key == "tags":
        return _tags_html(contact.tag_names)
    if key == "created":
        return _when_html(contact.created_at, text)
    return _when_html(contact.updated_at, text)


@require_http_methods(["GET", "POST"])
@requires_role(read=Role.READ_ONLY, write=Role.READ_ONLY)
def company_list(request, org_slug):
    if request.method == "POST":
        return _filters_posted(request, org_slug, CustomField.Entity.COMPANY)
    organization = request.organization
    custom_fields = custom_fields_for(organization, CustomField.Entity.COMPANY)
    choices = ListChoices.of(organization)
    form = CompanyFilterForm(request.GET, organization=organization, custom_fields=custom_fields, choices=choices)
    form.is_valid()
    columns = form.columns()
    matches = filter_companies(visible_companies(request.actor), form.cleaned_data, custom_fields)
    rows = company_list_rows(matches, personal_custom=_needs_personal_custom(columns, custom_fields))
    page = paginate(rows, form.cleaned_data.get("sort") or DEFAULT_SORT, request.GET.get("cursor", ""))
    people = people_counts(request.actor, [company.pk for company in page.rows]) if "people" in columns else {}
    labels = {key: _escape(label) for key, label in form.fields["col"].choices}
    text = RowText()
    company_url = url_maker(org_slug, "company_detail", "company_id")
    people_url = reverse("contact_list", kwargs={"org_slug": org_slug})
    tag_names = tag_names_for(page.rows, CompanyTag, "company")
    owner_names = owner_names_for(page.rows, choices.members)
    for company in page.rows:
        company.tag_names = tag_names.get(company.pk, [])
        company.owner_name = owner_names.get(company.owner_id, "")
        company.people_url = f"{people_url}?company={company.pk}"
        company.people_count = people.get(company.pk, 0)
        cells = [(labels[key], _company_cell(company, key, text)) for key in columns if not key.startswith("cf_")]
        cells += _custom_cells(company, columns, custom_fields)
        company.row_html = _row_html(company, company.name, company_url(company.pk), cells, text)
    can_write = request.actor.at_least(Role.MEMBER)
    context = _list_context(request, CustomField.Entity.COMPANY, form, page, matches, custom_fields, can_write)
    return render(request, "contacts/company_list.html", context)


def _company_cell(company, key: str, text: RowText) -> str:
    if key == "size":
        return _escape(company.get_size_display())
    if key == "people":
        return _link_html(company.people_url, company.people_count)
    if key == "owner":
        return _escape(company.owner_name)
    if key == "tags":
        return _tags_html(company.tag_names)
    if key == "created":
        return _when_html(company.created_at, text)
    if key == "updated":
        return _when_html(company.updated_at, text)
    return _escape(getattr(company, key))


# --- saved views -----------------------------------------------------------------------------


LIST_URL_NAMES = {
    SavedView.Entity.CONTACT: "contact_list",
    SavedView.Entity.COMPANY: "company_list",
    SavedView.Entity.DEAL: "deal_list",
}


def _list_url(org_slug: str, entity: str, query: str = "") -> str:
    name = LIST_URL_NAMES.get(entity, "contact_list")
    url = reverse(name, kwargs={"org_slug": org_slug})
    return f"{url}?{query}" if query else url


@require_POST
@requires_role(write=Role.MEMBER)
def contact_view_save(request, org_slug):
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the view a name to save it."))
        entity = request.POST.get("entity")
        query = QueryDict(request.POST.get("query", ""))
        entity = entity if entity in CustomField.Entity.values else CustomField.Entity.CONTACT
        custom_fields = custom_fields_for(request.organization, entity)
        return redirect(_list_url(org_slug, entity, params_query(list_params(query, entity, custom_fields))))
    entity = form.cleaned_data["entity"]
    custom_fields = custom_fields_for(request.organization, entity)
    params = list_params(QueryDict(form.cleaned_data["query"]), entity, custom_fields)
    plain, personal = split_personal_params(request.organization.pk, params)
    saved_view = create_saved_view(
        organization=request.organization,
        actor=request.user,
        entity=entity,
        name=form.cleaned_data["name"],
        params=plain,
        personal_params=personal,
        is_shared=form.cleaned_data["is_shared"],
    )
    messages.success(request, _("View “%(name)s” saved.") % {"name": saved_view.name})
    query = QueryDict(params_query(params), mutable=True)
    query["view"] = str(saved_view.pk)
    return redirect(_list_url(org_slug, entity, query.urlencode()))


@require_POST
@requires_role(write=Role.MEMBER)
def saved_view_delete(request, org_slug, view_id):
    saved_view = get_saved_view_for(request.actor, view_id)
    if not may_delete_saved_view(request.actor, saved_view):
        raise PermissionDenied
    delete_saved_view(organization=request.organization, actor=request.user, saved_view=saved_view)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": saved_view.name})
    return redirect(_list_url(org_slug, saved_view.entity))


# --- bulk actions ----------------------------------------------------------------------------


@require_POST
@requires_role(write=Role.MEMBER)
def contact_bulk(request, org_slug):
    organization = request.organization
    query = QueryDict(request.POST.get("query", "")[:4000])
    custom_fields = custom_fields_for(organization, CustomField.Entity.CONTACT)
    back = _list_url(org_slug, CustomField.Entity.CONTACT, params_query(list_params(query, "contact", custom_fields)))
    form = BulkActionForm(request.POST, organization=organization)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    if data["all_matching"]:
        _filter_form, selection, _fields = _contact_matches(request, query)
    else:
        selection = visible_contacts(request.actor).filter(pk__in=data["ids"])
    action = data["action"]
    if action == "delete" and not data["confirmed"]:
        return render(
            request,
            "contacts/contact_bulk_confirm.html",
            {"count": selection.count(), "data": data, "current_query": query.urlencode(), "back_url": back},
        )
    common = {"organization": organization, "actor": request.user, "selection": selection}
    try:
        if action == "tag":
            changed = bulk.tag_contacts(**common, tag=data["tag"])
            message = ngettext("Tag added to %(count)d contact.", "Tag added to %(count)d contacts.", changed)
        elif action == "untag":
            changed = bulk.untag_contacts(**common, tag=data["tag"])
            message = ngettext("Tag removed from %(count)d contact.", "Tag removed from %(count)d contacts.", changed)
        elif action == "owner":
            changed = bulk.change_contacts_owner(**common, owner=data["owner"])
            message = ngettext("Owner changed on %(count)d contact.", "Owner changed on %(count)d contacts.", changed)
        elif action == "status":
            changed = bulk.change_contacts_status(**common, status=data["status"])
            message = ngettext("Status changed on %(count)d contact.", "Status changed on %(count)d contacts.", changed)
        else:
            changed = bulk.delete_contacts(**common)
            message = ngettext("%(count)d contact deleted.", "%(count)d contacts deleted.", changed)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, message % {"count": changed})
    return redirect(back)


# --- header search ---------------------------------------------------------------------------


# A search is a read: a read-only member may POST it.
@require_http_methods(["GET", "POST"])
@requires_role(read=Role.READ_ONLY, write=Role.READ_ONLY)
def crm_search(request, org_slug):
    """The header search (htmx) and its results page. The query (a name, an email address,
    a phone number) is POSTed: in a URL it would be written to access logs, browser history
    and Referer headers. A GET shows the empty search page and ignores any `q`."""
    query = request.POST.get("q", "") if request.method == "POST" else ""
    results = search_crm(request.actor, query)
    contact_url = url_maker(org_slug, "contact_detail", "contact_id")
    company_url = url_maker(org_slug, "company_detail", "company_id")
    for contact in results.contacts:
        contact.detail_url = contact_url(contact.pk)
    for company in results.companies:
        company.detail_url = company_url(company.pk)
    template = "contacts/_search_results.html" if request.htmx else "contacts/search.html"
    return render(request, template, {"results": results})


urlpatterns = [
    path("contacts/", contact_list, name="contact_list"),
    path("companies/", company_list, name="company_list"),
    path("contacts/views/save/", contact_view_save, name="contact_view_save"),
    path("contacts/views/<int:view_id>/delete/", saved_view_delete, name="saved_view_delete"),
    path("contacts/bulk/", contact_bulk, name="contact_bulk"),
    path("search/", crm_search, name="crm_search"),
]
