"""Admin pages: pipelines and stages (rename, reorder, archive with the deals moved), lost
reasons, products, currency rates (a form and a CSV upload) and the base currency.
Admins and owners only: the others never get a form they cannot submit."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from deals.access import (
    get_pipeline_for,
    get_stage_for,
    lost_reasons_of,
    pipelines_of,
    products_of,
    rates_of,
    stages_of,
)
from deals.forms import (
    ArchiveStageForm,
    BaseCurrencyForm,
    NameForm,
    PipelineForm,
    ProductForm,
    RateForm,
    RateUploadForm,
    StageForm,
)
from deals.models import Stage
from deals.services import catalog, pipelines
from deals.services.settings import base_currency, set_base_currency
from logicnet.tenancy.roles import Role, requires_role

ADMIN = {"read": Role.ADMIN, "write": Role.ADMIN}


def _error(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _form_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _back(org_slug):
    return redirect("deal_settings", org_slug=org_slug)


@requires_role(**ADMIN)
def deal_settings(request, org_slug):
    organization = request.organization
    context = {
        "pipelines": list(pipelines_of(request.actor, live_only=False)),
        "reasons": list(lost_reasons_of(request.actor)),
        "products": list(products_of(request.actor)),
        "rates": list(rates_of(request.actor)[:60]),
        "pipeline_form": PipelineForm(),
        "reason_form": NameForm(auto_id="reason_%s"),
        "product_form": ProductForm(auto_id="product_%s"),
        "rate_form": RateForm(auto_id="rate_%s"),
        "upload_form": RateUploadForm(auto_id="upload_%s"),
        "currency_form": BaseCurrencyForm(initial={"base_currency": base_currency(organization)}, auto_id="base_%s"),
    }
    return render(request, "deals/settings.html", context)


@require_POST
@requires_role(**ADMIN)
def deal_base_currency(request, org_slug):
    form = BaseCurrencyForm(request.POST)
    if form.is_valid():
        set_base_currency(
            organization=request.organization, actor=request.user, currency=form.cleaned_data["base_currency"]
        )
        messages.success(request, _("Base currency saved."))
    else:
        _form_errors(request, form)
    return _back(org_slug)


@require_POST
@requires_role(**ADMIN)
def deal_pipeline_create(request, org_slug):
    form = PipelineForm(request.POST)
    if form.is_valid():
        try:
            pipeline = pipelines.create_pipeline(
                organization=request.organization,
                actor=request.user,
                name=form.cleaned_data["name"],
                make_default=form.cleaned_data["make_default"],
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Pipeline created."))
            return redirect("deal_pipeline_edit", org_slug=org_slug, pipeline_id=pipeline.pk)
    else:
        _form_errors(request, form)
    return _back(org_slug)


@requires_role(**ADMIN)
def deal_pipeline_edit(request, org_slug, pipeline_id):
    pipeline = get_pipeline_for(request.actor, pipeline_id)
    form = PipelineForm(request.POST or None, initial={"name": pipeline.name, "make_default": pipeline.is_default})
    if request.method == "POST" and form.is_valid():
        try:
            pipelines.update_pipeline(
                organization=request.organization,
                actor=request.user,
                pipeline=pipeline,
                name=form.cleaned_data["name"],
                make_default=form.cleaned_data["make_default"],
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Pipeline saved."))
            return redirect("deal_pipeline_edit", org_slug=org_slug, pipeline_id=pipeline.pk)
    stages = list(stages_of(request.actor, pipeline=pipeline))
    context = {
        "pipeline": pipeline,
        "form": form,
        "live_stages": [
            (
                stage,
                StageForm(
                    initial={"name": stage.name, "probability": stage.probability, "rotting_days": stage.rotting_days},
                    auto_id=f"stage{stage.pk}_%s",
                ),
            )
            for stage in stages
            if stage.archived_at is None
        ],
        "archived_stages": [s for s in stages if s.archived_at is not None],
        "stage_form": StageForm(auto_id="newstage_%s"),
    }
    return render(request, "deals/pipeline_edit.html", context)


@require_POST
@requires_role(**ADMIN)
def deal_stage_add(request, org_slug, pipeline_id):
    pipeline = get_pipeline_for(request.actor, pipeline_id)
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            pipelines.add_stage(
                organization=request.organization, actor=request.user, pipeline=pipeline, **form.cleaned_data
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Stage added."))
    else:
        _form_errors(request, form)
    return redirect("deal_pipeline_edit", org_slug=org_slug, pipeline_id=pipeline.pk)


def _stage(request, stage_id) -> Stage:
    return get_stage_for(request.actor, stage_id)


@require_POST
@requires_role(**ADMIN)
def deal_stage_edit(request, org_slug, stage_id):
    stage = _stage(request, stage_id)
    form = StageForm(request.POST)
    if form.is_valid():
        try:
            pipelines.update_stage(
                organization=request.organization, actor=request.user, stage=stage, **form.cleaned_data
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Stage saved."))
    else:
        _form_errors(request, form)
    return redirect("deal_pipeline_edit", org_slug=org_slug, pipeline_id=stage.pipeline_id)


@require_POST
@requires_role(**ADMIN)
def deal_stage_reorder(request, org_slug, stage_id):
    """Move a stage one place up or down (buttons: works without JavaScript and by keyboard)."""
    stage = _stage(request, stage_id)
    ids = list(stages_of(request.actor, pipeline=stage.pipeline, live_only=True).values_list("pk", flat=True))
    if stage.pk in ids:
        index = ids.index(stage.pk)
        other = index - 1 if request.POST.get("direction") == "up" else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            try:
                pipelines.reorder_stages(
                    organization=request.organization, actor=request.user, pipeline=stage.pipeline, stage_ids=ids
                )
            except ValidationError as exc:
                _error(request, exc)
    return redirect("deal_pipeline_edit", org_slug=org_slug, pipeline_id=stage.pipeline_id)


@requires_role(**ADMIN)
def deal_stage_archive(request, org_slug, stage_id):
    stage = _stage(request, stage_id)
    form = ArchiveStageForm(request.POST or None, stage=stage)
    if request.method == "POST" and form.is_valid():
        try:
            moved = pipelines.archive_stage(
                organization=request.organization, actor=request.user, stage=stage, move_to=form.cleaned_data["move_to"]
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Stage archived; %(count)d deals moved.") % {"count": moved})
            return redirect("deal_pipeline_edit", org_slug=org_slug, pipeline_id=stage.pipeline_id)
    count = stage.deals.count()
    return render(request, "deals/stage_archive.html", {"stage": stage, "form": form, "count": count})


@require_POST
@requires_role(**ADMIN)
def deal_reason_add(request, org_slug):
    form = NameForm(request.POST)
    if form.is_valid():
        try:
            catalog.create_lost_reason(
                organization=request.organization, actor=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Reason added."))
    else:
        _form_errors(request, form)
    return _back(org_slug)


@require_POST
@requires_role(**ADMIN)
def deal_reason_archive(request, org_slug, reason_id):
    reason = get_object_or_404(lost_reasons_of(request.actor), pk=reason_id)
    catalog.set_lost_reason_archived(
        organization=request.organization, actor=request.user, reason=reason, archived=reason.archived_at is None
    )
    return _back(org_slug)


@require_POST
@requires_role(**ADMIN)
def deal_product_add(request, org_slug):
    form = ProductForm(request.POST)
    if form.is_valid():
        try:
            catalog.save_product(organization=request.organization, actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Product saved."))
    else:
        _form_errors(request, form)
    return _back(org_slug)


@require_POST
@requires_role(**ADMIN)
def deal_product_archive(request, org_slug, product_id):
    product = get_object_or_404(products_of(request.actor), pk=product_id)
    catalog.set_product_archived(
        organization=request.organization, actor=request.user, product=product, archived=product.archived_at is None
    )
    return _back(org_slug)


@require_POST
@requires_role(**ADMIN)
def deal_rate_add(request, org_slug):
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            catalog.set_currency_rate(organization=request.organization, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Rate saved."))
    else:
        _form_errors(request, form)
    return _back(org_slug)


@require_POST
@requires_role(**ADMIN)
def deal_rate_upload(request, org_slug):
    form = RateUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            count = catalog.import_currency_rates(
                organization=request.organization, actor=request.user, content=form.cleaned_data["file"].read()
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("%(count)d rates imported.") % {"count": count})
    else:
        _form_errors(request, form)
    return _back(org_slug)
