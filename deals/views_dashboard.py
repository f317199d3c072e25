"""The organization's landing page (/o/<org-slug>/): the sales dashboard, and each chart's
numbers as CSV."""

from __future__ import annotations

import csv

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.selectors import members_of
from contacts.forms_lists import MemberChoiceField, members_queryset
from deals.charts import bar_chart
from deals.dashboard import PERIODS, DashboardFilters, build_dashboard
from deals.models import Pipeline
from logicnet.spreadsheet import safe_cell
from logicnet.tenancy.roles import Role


class DashboardFilterForm(forms.Form):
    owner = MemberChoiceField(label=_("Owner"), queryset=None, required=False, empty_label=_("Everyone"))
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=None, required=False, empty_label=None)
    months = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        choices=[(n, _("Last %(months)d months") % {"months": n}) for n in PERIODS],
        initial=6,
        required=False,
    )

    def __init__(self, *args, organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members_queryset(organization)
        self.fields["pipeline"].queryset = Pipeline.objects.filter(
            organization=organization, archived_at=None
        ).order_by("-is_default", "position", "name")

    def filters(self) -> DashboardFilters:
        data = self.cleaned_data if self.is_valid() else {}
        pipeline = data.get("pipeline") or self.fields["pipeline"].queryset.first()
        owner = data.get("owner")
        return DashboardFilters(owner_id=owner.pk if owner else None, pipeline=pipeline, months=data.get("months") or 6)


def _dashboard(request):
    form = DashboardFilterForm(request.GET or None, organization=request.organization)
    filters = form.filters()
    return form, filters, build_dashboard(request.actor, filters)


@require_GET
def dashboard(request, org_slug):
    form, filters, board = _dashboard(request)
    charts = [
        {
            "chart": chart,
            "svg": bar_chart(chart.labels, [series.values for series in chart.series], title=chart.title),
            "rows": chart.rows(),
        }
        for chart in board.charts
    ]
    return render(
        request,
        "deals/dashboard.html",
        {
            "form": form,
            "filters": filters,
            "dashboard": board,
            "charts": charts,
            "query": request.GET.urlencode(),
            "member_count": members_of(request.organization).count(),
            "manages_members": request.actor.at_least(Role.ADMIN),
        },
    )


@require_GET
def dashboard_chart_csv(request, org_slug, chart_key):
    _form, _filters, board = _dashboard(request)
    try:
        chart = board.chart(chart_key)
    except StopIteration:
        raise Http404 from None
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(board.computed_at).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{chart.key}-{org_slug}-{stamp}.csv"'
    response.write("\ufeff")  # spreadsheets read the file as UTF-8
    writer = csv.writer(response)
    unit = f" ({board.base_currency})" if chart.money else ""
    writer.writerow(["", *(safe_cell(series.name + unit) for series in chart.series)])
    for label, *values in chart.rows():
        writer.writerow([safe_cell(label), *values])
    return response
