"""The board: columns per stage with their totals, lazy column pages, moves by drag and drop
(SortableJS) or by the keyboard ("Move to…" menu), both POSTing the deal's version."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.forms_lists import ListChoices
from deals.access import get_deal_for, get_pipeline_for, get_stage_for, may_edit_deals, pipelines_of, visible_deals
from deals.cards import CardRenderer
from deals.forms import DealFilterForm, MoveForm
from deals.models import Pipeline, Stage
from deals.money import rate_book
from deals.selectors import DealFilters, board, column_page, column_totals, is_rotting, live_stages
from deals.services.deals import StaleDealError, move_deal
from deals.services.pipelines import default_pipeline
from logicnet.row_urls import url_maker


def _cards(deals, stage: Stage, org_slug: str, filter_query: str = "") -> list[dict]:
    """The cards' context. A move URL carries the board's filters, so the column totals
    the move answers with are those of the board the card was moved on."""
    now = timezone.now()
    move_url, detail_url = url_maker(org_slug, "deal_move", "deal_id"), url_maker(org_slug, "deal_detail", "deal_id")
    query = f"?{filter_query}" if filter_query else ""
    return [
        {
            "deal": deal,
            "rotting": is_rotting(deal, stage, now),
            "move_url": move_url(deal.pk) + query,
            "detail_url": detail_url(deal.pk),
        }
        for deal in deals
    ]


def _board_page(request, pipeline: Pipeline):
    choices = ListChoices.of(request.organization)
    filter_form = DealFilterForm(request.GET, organization=request.organization, choices=choices)
    filters = filter_form.filters()
    book = rate_book(request.organization)
    columns = board(request.actor, pipeline, filters, book=book)
    can_write = may_edit_deals(request.actor)
    renderer = CardRenderer(request, stages=[c.stage for c in columns], can_write=can_write)
    for column in columns:
        column.cards_html = renderer.render_all(
            _cards(column.deals, column.stage, request.organization.slug, filter_form.query())
        )
    context = {
        "pipeline": pipeline,
        "pipelines": list(pipelines_of(request.actor)),
        "columns": columns,
        "stages": [c.stage for c in columns],
        "filter_form": filter_form,
        "filter_query": filter_form.query(),
        "filters_active": filters.active,
        "base_currency": book.base,
        "can_write": can_write,
    }
    return render(request, "deals/board.html", context)


def deal_board(request, org_slug):
    pipeline = default_pipeline(request.organization, request.user)
    return _board_page(request, pipeline)


def deal_pipeline_board(request, org_slug, pipeline_id):
    return _board_page(request, get_pipeline_for(request.actor, pipeline_id))


def deal_column(request, org_slug, stage_id):
    """The next page of one column (htmx), after the cursor of the last card shown."""
    stage = get_stage_for(request.actor, stage_id)
    if request.method != "GET":  # after the lookup: another organization's stage is a 404 first
        return HttpResponseNotAllowed(["GET"])
    filter_form = DealFilterForm(request.GET, organization=request.organization)
    deals, next_cursor = column_page(request.actor, stage, filter_form.filters(), request.GET.get("after"))
    renderer = CardRenderer(request, stages=live_stages(stage.pipeline), can_write=may_edit_deals(request.actor))
    context = {
        "stage": stage,
        "cards_html": renderer.render_all(_cards(deals, stage, org_slug, filter_form.query())),
        "next_cursor": next_cursor,
        "filter_query": filter_form.query(),
    }
    return render(request, "deals/_column_page.html", context)


@require_POST
def deal_move(request, org_slug, deal_id):
    """Move a card (drag and drop or the "Move to…" menu). The answer is the card as it now
    is (with its new version); a stale version gets 409 and the card as it is, so the
    browser snaps it back and says why. Either way the headers of the columns it left and
    reached come along (htmx out-of-band swaps), with their count, sum and weighted sum
    under the board's filters (the move URL's query) as the database has them now."""
    deal = get_deal_for(request.actor, deal_id)
    # The column the card left as the browser saw it (a stale board may show it elsewhere);
    # only this pipeline's stages are ever summed below, so any other id is ignored.
    left = request.POST.get("from", "")
    touched = {deal.stage_id, *([int(left)] if left.isdigit() else [])}
    form = MoveForm(request.POST, organization=request.organization)
    status = 200
    message = ""
    if not form.is_valid():
        status, message = 400, _("The move could not be read; reload the page.")
    else:
        stage = form.cleaned_data["stage"]
        if stage.pipeline_id != deal.pipeline_id:
            raise Http404
        touched.add(stage.pk)
        before = None
        if form.cleaned_data.get("before"):
            before = visible_deals(request.actor).filter(pk=form.cleaned_data["before"]).first()
        try:
            deal = move_deal(
                organization=request.organization,
                actor=request.user,
                deal=deal,
                stage=stage,
                expected_version=form.cleaned_data["version"],
                before=before,
            )
            message = _("Moved to %(stage)s.") % {"stage": stage.name}
        except StaleDealError as exc:
            status, message = 409, " ".join(exc.messages)
            deal = get_deal_for(request.actor, deal.pk)
        except ValidationError as exc:
            status, message = 400, " ".join(exc.messages)
    stage = deal.stage
    # The board's filters, when it had any (the form loads the organization's tags and members).
    filter_form = DealFilterForm(request.GET, organization=request.organization) if request.GET else None
    filters, filter_query = (filter_form.filters(), filter_form.query()) if filter_form else (DealFilters(), "")
    if not request.htmx:
        # Without JavaScript the "Move to…" menu is a plain form: back to the board.
        (messages.success if status == 200 else messages.error)(request, message)
        board_url = reverse("deal_pipeline_board", kwargs={"org_slug": org_slug, "pipeline_id": deal.pipeline_id})
        return redirect(f"{board_url}?{filter_query}" if filter_query else board_url)
    stages = live_stages(stage.pipeline)
    renderer = CardRenderer(request, stages=stages, can_write=True)
    card = renderer.render(_cards([deal], stage, org_slug, filter_query)[0], message=message, refused=status != 200)
    touched.add(deal.stage_id)
    book = rate_book(request.organization)
    columns = column_totals(request.actor, [s for s in stages if s.pk in touched], filters, book, timezone.localdate())
    heads = [
        render_to_string("deals/_column_head.html", {"column": column, "base_currency": book.base, "oob": True})
        for column in columns.values()
    ]
    response = HttpResponse(card + "".join(heads), status=status)
    response["X-Deal-Id"] = str(deal.pk)
    return response
