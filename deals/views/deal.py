"""A deal's page, its form, won/lost, line items, and the deal list with bulk actions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from contacts.access import picked, visible_companies, visible_contacts
from contacts.forms_lists import ListChoices, params_query
from contacts.models import SavedView
from contacts.selectors_lists import SORTS, count_up_to, paginate
from contacts.services.views import create_saved_view
from contacts.views.lists import active_view_id, filter_chips, saved_views_for
from deals.access import get_deal_for, get_line_item_for, line_items_of, may_edit_deals, stages_of, visible_deals
from deals.forms import DealBulkForm, DealFilterForm, DealForm, DealSavedViewForm, LineItemForm, StatusForm
from deals.models import Deal
from deals.money import line_total, rate_book, weighted
from deals.selectors import deal_history, is_rotting
from deals.services.deals import (
    StaleDealError,
    add_line_item,
    create_deal,
    delete_deal,
    reassign_deals,
    remove_line_item,
    set_deal_status,
    update_deal,
)
from deals.services.pipelines import default_pipeline
from deals.services.settings import base_currency
from logicnet.forms import add_service_errors
from logicnet.tenancy.roles import Role, requires_role


def _ids(values) -> list[int]:
    found = []
    for value in values:
        try:
            found.append(int(value))
        except (TypeError, ValueError):
            continue
    return found


def _deal_form(request, *, initial: dict, extra_companies: set[int], stages, editing: bool):
    data = request.POST if request.method == "POST" else None
    chosen_ids = _ids(data.getlist("contacts")) if data is not None else list(initial.get("contacts", []))
    chosen, company_choices = picked(request.actor, chosen_ids, extra_companies)
    form = DealForm(
        data,
        initial=initial,
        organization=request.organization,
        contacts=visible_contacts(request.actor),
        companies=visible_companies(request.actor),
        company_choices=company_choices,
        stages=stages,
        editing=editing,
    )
    return form, chosen


def _deal_fields(data: dict) -> dict:
    return {
        "title": data["title"],
        "value": data["value"],
        "currency": data["currency"],
        "expected_close": data.get("expected_close"),
        "owner": data.get("owner"),
        "company": data.get("company"),
        "contacts": list(data.get("contacts") or []),
        "tags": list(data.get("tags") or []),
        "notes": data.get("notes") or "",
    }


@requires_role(read=Role.MEMBER)
def deal_create(request, org_slug):
    organization = request.organization
    pipeline = default_pipeline(organization, request.user)
    stages = stages_of(request.actor, live_only=True)
    initial = {"owner": request.user.pk, "stage": request.GET.get("stage") or None}
    extra = set()
    if request.GET.get("contact"):
        contact = visible_contacts(request.actor).filter(pk__in=_ids([request.GET["contact"]])).first()
        if contact is not None:
            initial["contacts"] = [contact.pk]
            initial["company"] = contact.company_id
            extra = {contact.company_id} if contact.company_id else set()
    if request.GET.get("company"):
        company = visible_companies(request.actor).filter(pk__in=_ids([request.GET["company"]])).first()
        if company is not None:
            initial["company"] = company.pk
            extra.add(company.pk)
    if not initial["stage"]:
        first = stages.filter(pipeline=pipeline).order_by("position", "id").first()
        initial["stage"] = first.pk if first else None
    form, chosen = _deal_form(request, initial=initial, extra_companies=extra, stages=stages, editing=False)
    form.fields["stage"].label_from_instance = lambda s: f"{s.pipeline.name} · {s.name}"
    if request.method == "POST" and form.is_valid():
        try:
            deal = create_deal(
                organization=organization,
                actor=request.user,
                stage=form.cleaned_data["stage"],
                **_deal_fields(form.cleaned_data),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Deal created."))
            return redirect("deal_detail", org_slug=org_slug, deal_id=deal.pk)
    return render(request, "deals/deal_form.html", {"form": form, "chosen": chosen, "deal": None})


@requires_role(read=Role.MEMBER)
def deal_edit(request, org_slug, deal_id):
    deal = get_deal_for(request.actor, deal_id)
    shown = list(visible_contacts(request.actor).filter(deals=deal))
    hidden = list(deal.contacts.exclude(pk__in=[c.pk for c in shown]))
    initial = DealForm.initial_for(deal, shown, list(deal.tags.all()))
    extra = {deal.company_id} if deal.company_id else set()
    form, chosen = _deal_form(
        request, initial=initial, extra_companies=extra, stages=stages_of(request.actor).none(), editing=True
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        fields = _deal_fields(form.cleaned_data)
        # Contacts this user may not see stay on the deal: the form cannot show them.
        fields["contacts"] += hidden
        try:
            update_deal(
                organization=request.organization,
                actor=request.user,
                deal=deal,
                expected_version=form.cleaned_data.get("version") or deal.version,
                **fields,
            )
        except StaleDealError as exc:
            form.add_error(None, exc.messages)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Deal saved."))
            return redirect("deal_detail", org_slug=org_slug, deal_id=deal.pk)
    context = {"form": form, "chosen": chosen, "deal": deal, "hidden_count": len(hidden)}
    return render(request, "deals/deal_form.html", context, status=status)


def deal_detail(request, org_slug, deal_id):
    deal = get_deal_for(request.actor, deal_id)
    organization = request.organization
    events, spells = deal_history(deal)
    items = list(line_items_of(request.actor, deal))
    lines, net_total, gross_total = [], 0, 0
    for item in items:
        net, gross = line_total(item.quantity, item.unit_price, item.discount, item.vat_rate)
        lines.append({"item": item, "net": net, "gross": gross})
        net_total += net
        gross_total += gross
    book = rate_book(organization)
    base = base_currency(organization)
    from django.utils import timezone

    in_base = book.to_base(deal.value, deal.currency, timezone.localdate())
    can_write = may_edit_deals(request.actor)
    context = {
        "deal": deal,
        "stage": deal.stage,
        "rotting": is_rotting(deal, deal.stage),
        "contacts": list(visible_contacts(request.actor).filter(deals=deal)),
        "tags": list(deal.tags.order_by("name")),
        "events": events,
        "spells": spells,
        "lines": lines,
        "net_total": net_total,
        "gross_total": gross_total,
        "base_currency": base,
        "value_in_base": in_base,
        "weighted_in_base": weighted(in_base, deal.stage.probability) if in_base is not None else None,
        "can_write": can_write,
        "status_form": StatusForm(initial={"version": deal.version}, organization=organization) if can_write else None,
        "line_form": LineItemForm(organization=organization) if can_write else None,
        "transactions_total": deal.transactions.values("currency").annotate(total=Sum("amount")).order_by("currency"),
    }
    return render(request, "deals/deal_detail.html", context)


@require_POST
def deal_status(request, org_slug, deal_id):
    deal = get_deal_for(request.actor, deal_id)
    form = StatusForm(request.POST, organization=request.organization)
    if form.is_valid():
        try:
            set_deal_status(
                organization=request.organization,
                actor=request.user,
                deal=deal,
                status=form.cleaned_data["status"],
                expected_version=form.cleaned_data["version"],
                lost_reason=form.cleaned_data.get("lost_reason"),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            labels = {"won": _("Marked won."), "lost": _("Marked lost."), "open": _("Reopened.")}
            messages.success(request, labels[form.cleaned_data["status"]])
    else:
        messages.error(request, _("Choose why the deal was lost."))
    return redirect("deal_detail", org_slug=org_slug, deal_id=deal.pk)


@require_POST
def deal_delete(request, org_slug, deal_id):
    deal = get_deal_for(request.actor, deal_id)
    try:
        delete_deal(
            organization=request.organization,
            actor=request.user,
            deal=deal,
            expected_version=_ids([request.POST.get("version")])[0] if _ids([request.POST.get("version")]) else -1,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("deal_detail", org_slug=org_slug, deal_id=deal.pk)
    messages.success(request, _("Deal deleted."))
    return redirect("deal_board", org_slug=org_slug)


@require_POST
def deal_line_add(request, org_slug, deal_id):
    deal = get_deal_for(request.actor, deal_id)
    form = LineItemForm(request.POST, organization=request.organization)
    if form.is_valid():
        data = form.cleaned_data
        try:
            add_line_item(
                organization=request.organization,
                actor=request.user,
                deal=deal,
                product=data.get("product"),
                description=data.get("description") or "",
                quantity=data["quantity"],
                unit_price=data["unit_price"],
                discount=data["discount"],
                vat_rate=data["vat_rate"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Line added."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("deal_detail", kwargs={"org_slug": org_slug, "deal_id": deal.pk}) + "#lines")


@require_POST
def deal_line_remove(request, org_slug, deal_id, line_id):
    deal = get_deal_for(request.actor, deal_id)
    item = get_line_item_for(request.actor, deal, line_id)
    remove_line_item(organization=request.organization, actor=request.user, item=item)
    messages.success(request, _("Line removed."))
    return redirect(reverse("deal_detail", kwargs={"org_slug": org_slug, "deal_id": deal.pk}) + "#lines")


# --- the list ------------------------------------------------------------------------------------


LIST_STATUSES = [
    ("open", gettext_lazy("Open")),
    ("won", gettext_lazy("Won")),
    ("lost", gettext_lazy("Lost")),
    ("all", gettext_lazy("All")),
]


# Values of the list's query string besides the filter form's: which deals, in which order.
LIST_SORTS = set(SORTS)


def deal_list_params(query: QueryDict, organization) -> dict[str, list[str]]:
    """The deal list's query string worth keeping in a link or a saved view: the valid
    filters (ids, dates and amounts: never personal values), the status tab and the sort."""
    form = DealFilterForm(query, organization=organization)
    params = dict(QueryDict(form.query()).lists())
    if query.get("status") in dict(LIST_STATUSES):
        params["status"] = [query["status"]]
    if query.get("sort") in LIST_SORTS:
        params["sort"] = [query["sort"]]
    return params


def deal_list(request, org_slug):
    """Every visible deal, newest first, on the contacts list's keyset pages, filter chips,
    saved views and bulk actions."""
    choices = ListChoices.of(request.organization)
    filter_form = DealFilterForm(request.GET, organization=request.organization, choices=choices)
    status = request.GET.get("status", "open")
    deals = filter_form.filters().apply(visible_deals(request.actor))
    if status in Deal.Status.values:
        deals = deals.filter(status=status)
    count, count_more = count_up_to(deals)
    page = paginate(
        deals.select_related("stage", "owner"), request.GET.get("sort", "-created"), request.GET.get("cursor", "")
    )
    base_query = params_query(deal_list_params(request.GET, request.organization))

    def page_url(cursor: str) -> str:
        params = QueryDict(base_query, mutable=True)
        params["cursor"] = cursor
        if request.GET.get("view"):
            params["view"] = request.GET["view"]
        return f"?{params.urlencode()}"

    context = {
        "page": page,
        "filter_form": filter_form,
        "status": status,
        "statuses": LIST_STATUSES,
        "count": count,
        "count_more": count_more,
        "next_url": page_url(page.next_cursor) if page.next_cursor else "",
        "previous_url": page_url(page.previous_cursor) if page.previous_cursor else "",
        "can_write": may_edit_deals(request.actor),
        "bulk_form": DealBulkForm(None, organization=request.organization) if may_edit_deals(request.actor) else None,
        "current_query": base_query,
        "filter_chips": filter_chips(filter_form, base_query) if filter_form.is_valid() else [],
        "saved_views": saved_views_for(request, SavedView.Entity.DEAL),
        "active_view_id": active_view_id(request),
        "entity": SavedView.Entity.DEAL,
        "save_view_url": reverse("deal_view_save", kwargs={"org_slug": org_slug}),
    }
    return render(request, "deals/deal_list.html", context)


@require_POST
@requires_role(write=Role.MEMBER)
def deal_view_save(request, org_slug):
    """Save the deal list's filters as a view (the contacts' saved views: one mechanism)."""
    form = DealSavedViewForm(request.POST)
    query = deal_list_params(QueryDict(request.POST.get("query", "")[:4000]), request.organization)
    back = reverse("deal_list", kwargs={"org_slug": org_slug})
    if not form.is_valid():
        messages.error(request, _("Give the view a name to save it."))
        return redirect(f"{back}?{params_query(query)}")
    saved_view = create_saved_view(
        organization=request.organization,
        actor=request.user,
        entity=SavedView.Entity.DEAL,
        name=form.cleaned_data["name"],
        params=query,
        is_shared=form.cleaned_data["is_shared"],
    )
    messages.success(request, _("View “%(name)s” saved.") % {"name": saved_view.name})
    params = QueryDict(params_query(query), mutable=True)
    params["view"] = str(saved_view.pk)
    return redirect(f"{back}?{params.urlencode()}")


@require_POST
def deal_bulk(request, org_slug):
    back = reverse("deal_list", kwargs={"org_slug": org_slug}) + "?" + request.POST.get("query", "")[:4000]
    form = DealBulkForm(request.POST, organization=request.organization)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    selection = visible_deals(request.actor).filter(pk__in=data["ids"])
    organization, actor = request.organization, request.user
    if data["action"] == "owner":
        changed = reassign_deals(
            organization=organization,
            actor=actor,
            deal_ids=list(selection.values_list("pk", flat=True)),
            owner=data["owner"],
        )
        messages.success(
            request,
            ngettext("Owner changed on %(count)d deal.", "Owner changed on %(count)d deals.", changed)
            % {"count": changed},
        )
    elif data["action"] == "won":
        changed = 0
        for deal in selection.filter(status=Deal.Status.OPEN):
            set_deal_status(
                organization=organization, actor=actor, deal=deal, status="won", expected_version=deal.version
            )
            changed += 1
        messages.success(
            request, ngettext("%(count)d deal marked won.", "%(count)d deals marked won.", changed) % {"count": changed}
        )
    else:
        changed = 0
        for deal in selection:
            delete_deal(organization=organization, actor=actor, deal=deal, expected_version=deal.version)
            changed += 1
        messages.success(
            request, ngettext("%(count)d deal deleted.", "%(count)d deals deleted.", changed) % {"count": changed}
        )
    return redirect(back)
