"""Pipelines and stages: create, rename, reorder, archive (with the stage's deals moved to
another stage, never silently lost), and the organization's first pipeline."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from deals.models import Deal, DealEvent, Pipeline, Stage
from deals.services import check_owned
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context

DEFAULT_STAGES = (
    (_("Qualified"), 10),
    (_("Contact made"), 20),
    (_("Proposal sent"), 50),
    (_("Negotiation"), 80),
)


def create_pipeline(*, organization, actor, name: str, stages=None, make_default: bool = False) -> Pipeline:
    """A pipeline with its stages ((name, probability) pairs; the usual four when None).
    The organization's first pipeline is its default."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    with tenant_context(organization):
        if Pipeline.objects.filter(organization=organization, name=name).exists():
            raise ValidationError({"name": _("A pipeline with this name exists already.")})
        first = not Pipeline.objects.filter(organization=organization, is_default=True).exists()
        if make_default and not first:
            Pipeline.objects.filter(organization=organization, is_default=True).update(is_default=False)
        position = (Pipeline.objects.filter(organization=organization).aggregate(m=Max("position"))["m"] or 0) + 1
        pipeline = Pipeline.objects.create(
            organization=organization, name=name, is_default=first or make_default, position=position
        )
        for index, (stage_name, probability) in enumerate(stages if stages is not None else DEFAULT_STAGES, 1):
            Stage.objects.create(
                organization=organization,
                pipeline=pipeline,
                name=str(stage_name),
                probability=probability,
                position=index,
            )
        record_event(action="deals.pipeline_created", actor=actor, organization=organization, target=pipeline)
    return pipeline


def default_pipeline(organization, actor=None) -> Pipeline:
    """The organization's default pipeline, made with the usual stages on first use."""
    with tenant_context(organization):
        found = Pipeline.objects.filter(organization=organization, is_default=True).first()
        if found is None:
            found = Pipeline.objects.filter(organization=organization, archived_at=None).first()
    return found or create_pipeline(organization=organization, actor=actor, name=str(_("Sales")))


def update_pipeline(*, organization, actor, pipeline: Pipeline, name: str, make_default: bool) -> Pipeline:
    check_owned(organization, pipeline)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    with tenant_context(organization):
        if Pipeline.objects.filter(organization=organization, name=name).exclude(pk=pipeline.pk).exists():
            raise ValidationError({"name": _("A pipeline with this name exists already.")})
        if make_default and not pipeline.is_default:
            Pipeline.objects.filter(organization=organization, is_default=True).update(is_default=False)
            pipeline.is_default = True
        pipeline.name = name
        pipeline.save(update_fields=["name", "is_default"])
        record_event(action="deals.pipeline_updated", actor=actor, organization=organization, target=pipeline)
    return pipeline


def add_stage(*, organization, actor, pipeline: Pipeline, name: str, probability: int, rotting_days=None) -> Stage:
    check_owned(organization, pipeline)
    with tenant_context(organization):
        position = (
            Stage.objects.filter(organization=organization, pipeline=pipeline).aggregate(m=Max("position"))["m"] or 0
        ) + 1
        stage = Stage(
            organization=organization,
            pipeline=pipeline,
            name=name.strip(),
            probability=probability,
            rotting_days=rotting_days,
            position=position,
        )
        stage.full_clean()
        stage.save(force_insert=True)
        record_event(action="deals.stage_added", actor=actor, organization=organization, target=stage)
    return stage


def update_stage(*, organization, actor, stage: Stage, name: str, probability: int, rotting_days=None) -> Stage:
    check_owned(organization, stage)
    with tenant_context(organization):
        stage.name = name.strip()
        stage.probability = probability
        stage.rotting_days = rotting_days
        stage.full_clean()
        stage.save(update_fields=["name", "probability", "rotting_days"])
        record_event(action="deals.stage_updated", actor=actor, organization=organization, target=stage)
    return stage


def reorder_stages(*, organization, actor, pipeline: Pipeline, stage_ids: list[int]) -> None:
    """Put the pipeline's stages in this order (ids of every live stage of the pipeline)."""
    check_owned(organization, pipeline)
    with tenant_context(organization):
        live = set(
            Stage.objects.filter(organization=organization, pipeline=pipeline, archived_at=None).values_list(
                "pk", flat=True
            )
        )
        if set(stage_ids) != live or len(stage_ids) != len(live):
            raise ValidationError(_("The stages changed meanwhile; reload the page."), code="stale_order")
        for position, pk in enumerate(stage_ids, 1):
            Stage.objects.filter(organization=organization, pk=pk).update(position=position)
        record_event(action="deals.stages_reordered", actor=actor, organization=organization, target=pipeline)


def archive_stage(*, organization, actor, stage: Stage, move_to: Stage) -> int:
    """Archive a stage after moving every deal in it (open or closed) to `move_to`, each
    with a stage event. Returns how many deals moved. Refused when `move_to` is the stage
    itself, archived, or the stage is the pipeline's last live one."""
    check_owned(organization, stage, move_to)
    if move_to.pk == stage.pk or move_to.archived_at is not None:
        raise ValidationError({"move_to": _("Choose another live stage for its deals.")})
    now = timezone.now()
    with tenant_context(organization):
        locked = Stage.objects.select_for_update().get(organization=organization, pk=stage.pk)
        if locked.archived_at is not None:
            raise ValidationError(_("This stage is archived already."), code="archived")
        live = Stage.objects.filter(organization=organization, pipeline=stage.pipeline_id, archived_at=None)
        if live.count() <= 1:
            raise ValidationError(_("A pipeline keeps at least one stage."), code="last_stage")
        deals = Deal.objects.filter(organization=organization, stage=stage)
        ids = list(deals.order_by("position", "id").values_list("pk", flat=True))
        start = (
            Deal.objects.filter(organization=organization, stage=move_to).aggregate(m=Max("position"))["m"] or 0
        ) + Deal.POSITION_STEP
        start -= deals.aggregate(m=Min("position"))["m"] or 0
        DealEvent.objects.bulk_create(
            DealEvent(
                organization=organization,
                deal_id=pk,
                kind=DealEvent.Kind.STAGE,
                at=now,
                actor=actor,
                from_stage=stage,
                to_stage=move_to,
            )
            for pk in ids
        )
        # One statement: the moved deals keep their order, after the target column's last card.
        deals.update(
            stage=move_to,
            pipeline=move_to.pipeline_id,
            position=F("position") + start,
            stage_entered_at=now,
            updated_at=now,
            version=F("version") + 1,
        )
        locked.archived_at = now
        locked.save(update_fields=["archived_at"])
        stage.archived_at = now
        record_event(
            action="deals.stage_archived",
            actor=actor,
            organization=organization,
            target=stage,
            details={"moved_to": move_to.pk, "deals": len(ids)},
        )
    return len(ids)
