"""Writes to deals: create, edit, move on the board, win, lose, reopen, line items.

Every write to an existing deal carries the version the writer read (optimistic
concurrency): the deal row is locked, its version compared, and an older one refused with
StaleDealError, so a second person moving the same card is told instead of overwriting.
Stage, status and value changes each leave a DealEvent (the deal's history). Audit rows
name the action and the id, never the title (free text about customers).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from deals.models import Deal, DealContact, DealEvent, DealLineItem, DealTag, LostReason, Product, Stage
from deals.services import check_owned
from deals.services.settings import allowed_currencies
from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context


class StaleDealError(ValidationError):
    """The deal changed since the page showed it: the write is refused, nothing is overwritten."""

    def __init__(self) -> None:
        super().__init__(
            _("Someone else changed this deal meanwhile. The page shows it as it is now; try again."), code="stale"
        )


def _check_owner(organization, owner) -> None:
    if owner is not None and not Membership.objects.filter(organization=organization, user=owner).exists():
        raise ValidationError({"owner": _("The owner must be a member of this organization.")})


def _value_text(value: Decimal, currency: str) -> str:
    return f"{value} {currency}"


def _lock(organization, deal: Deal, expected_version: int | None) -> Deal:
    locked = Deal.objects.select_for_update().get(organization=organization, pk=deal.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleDealError()
    return locked


def _end_of(organization, stage: Stage) -> int:
    last = Deal.objects.filter(organization=organization, stage=stage).aggregate(m=Max("position"))["m"]
    return (last or 0) + Deal.POSITION_STEP


def _event(organization, deal, kind, actor, at, **values) -> DealEvent:
    return DealEvent.objects.create(organization=organization, deal=deal, kind=kind, actor=actor, at=at, **values)


def _set_links(organization, deal: Deal, contacts, tags) -> None:
    if contacts is not None:
        check_owned(organization, *contacts)
        DealContact.objects.filter(organization=organization, deal=deal).exclude(
            contact__in=[c.pk for c in contacts]
        ).delete()
        present = set(
            DealContact.objects.filter(organization=organization, deal=deal).values_list("contact_id", flat=True)
        )
        DealContact.objects.bulk_create(
            DealContact(organization=organization, deal=deal, contact=c) for c in contacts if c.pk not in present
        )
    if tags is not None:
        check_owned(organization, *tags)
        DealTag.objects.filter(organization=organization, deal=deal).exclude(tag__in=[t.pk for t in tags]).delete()
        present = set(DealTag.objects.filter(organization=organization, deal=deal).values_list("tag_id", flat=True))
        DealTag.objects.bulk_create(
            DealTag(organization=organization, deal=deal, tag=t) for t in tags if t.pk not in present
        )


def _check_values(organization, value: Decimal, currency: str) -> None:
    if value < 0:
        raise ValidationError({"value": _("The value cannot be negative.")})
    if currency not in allowed_currencies(organization):
        raise ValidationError({"currency": _("Choose one of the organization's currencies.")})


def create_deal(
    *,
    organization,
    actor,
    title: str,
    stage: Stage,
    value: Decimal = Decimal("0"),
    currency: str | None = None,
    expected_close: datetime.date | None = None,
    owner=None,
    company=None,
    contacts=None,
    tags=None,
    notes: str = "",
) -> Deal:
    """A new open deal at the end of the stage's column; its owner is the creator unless named."""
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Enter a title.")})
    check_owned(organization, stage, company)
    if stage.archived_at is not None:
        raise ValidationError({"stage": _("This stage is archived.")})
    currency = currency or allowed_currencies(organization)[0]
    _check_values(organization, value, currency)
    owner = owner if owner is not None else actor
    _check_owner(organization, owner)
    now = timezone.now()
    with tenant_context(organization):
        deal = Deal.objects.create(
            organization=organization,
            title=title,
            value=value,
            currency=currency,
            expected_close=expected_close,
            owner=owner,
            company=company,
            pipeline_id=stage.pipeline_id,
            stage=stage,
            notes=notes.strip(),
            position=_end_of(organization, stage),
            stage_entered_at=now,
            last_activity_at=now,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        _set_links(organization, deal, contacts, tags)
        _event(
            organization,
            deal,
            DealEvent.Kind.CREATED,
            actor,
            now,
            to_stage=stage,
            to_value=_value_text(value, currency),
        )
        record_event(action="deal.created", actor=actor, organization=organization, target=deal)
    return deal


def update_deal(
    *,
    organization,
    actor,
    deal: Deal,
    expected_version: int,
    title: str,
    value: Decimal,
    currency: str,
    expected_close: datetime.date | None,
    owner,
    company,
    contacts=None,
    tags=None,
    notes: str = "",
) -> Deal:
    """Edit the deal's fields (not its stage or status: move_deal, set_deal_status)."""
    check_owned(organization, deal, company)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Enter a title.")})
    _check_values(organization, value, currency)
    _check_owner(organization, owner)
    now = timezone.now()
    with tenant_context(organization):
        locked = _lock(organization, deal, expected_version)
        if (locked.value, locked.currency) != (value, currency):
            _event(
                organization,
                locked,
                DealEvent.Kind.VALUE,
                actor,
                now,
                from_value=_value_text(locked.value, locked.currency),
                to_value=_value_text(value, currency),
            )
        locked.title = title
        locked.value = value
        locked.currency = currency
        locked.expected_close = expected_close
        locked.owner = owner
        locked.company = company
        locked.notes = (notes or "").strip()
        locked.updated_at = now
        locked.last_activity_at = now
        locked.version += 1
        locked.save(
            update_fields=[
                "title",
                "value",
                "currency",
                "expected_close",
                "owner",
                "company",
                "notes",
                "updated_at",
                "last_activity_at",
                "version",
            ]
        )
        _set_links(organization, locked, contacts, tags)
        record_event(action="deal.updated", actor=actor, organization=organization, target=locked)
    return locked


def move_deal(
    *, organization, actor, deal: Deal, stage: Stage, expected_version: int, before: Deal | None = None
) -> Deal:
    """Put the deal in `stage`, just above `before` (a card of that column), or at the
    column's end. Positions have gaps; when the gap above `before` is closed, the cards from
    `before` down are shifted by one step in one statement. A stage change is an event."""
    check_owned(organization, deal, stage, before)
    if stage.archived_at is not None:
        raise ValidationError({"stage": _("This stage is archived.")})
    if before is not None and before.pk == deal.pk:
        before = None
    now = timezone.now()
    with tenant_context(organization):
        locked = _lock(organization, deal, expected_version)
        if locked.status != Deal.Status.OPEN:
            raise ValidationError(_("Only open deals move on the board; reopen it first."), code="closed")
        if before is not None:
            before = Deal.objects.filter(organization=organization, pk=before.pk, stage=stage).first()
        if before is None:
            position = _end_of(organization, stage)
        else:
            above = (
                Deal.objects.filter(organization=organization, stage=stage, position__lt=before.position)
                .exclude(pk=locked.pk)
                .aggregate(m=Max("position"))["m"]
            )
            above = above if above is not None else before.position - 2 * Deal.POSITION_STEP
            if before.position - above < 2:
                Deal.objects.filter(organization=organization, stage=stage, position__gte=before.position).exclude(
                    pk=locked.pk
                ).update(position=F("position") + Deal.POSITION_STEP)
                position = before.position
            else:
                position = (above + before.position) // 2
        fields = ["position", "updated_at", "last_activity_at", "version"]
        if locked.stage_id != stage.pk:
            _event(
                organization, locked, DealEvent.Kind.STAGE, actor, now, from_stage_id=locked.stage_id, to_stage=stage
            )
            locked.stage = stage
            locked.pipeline_id = stage.pipeline_id
            locked.stage_entered_at = now
            fields += ["stage", "pipeline", "stage_entered_at"]
        locked.position = position
        locked.updated_at = now
        locked.last_activity_at = now
        locked.version += 1
        locked.save(update_fields=fields)
        record_event(
            action="deal.moved", actor=actor, organization=organization, target=locked, details={"stage": stage.pk}
        )
    return locked


def set_deal_status(
    *, organization, actor, deal: Deal, status: str, expected_version: int, lost_reason: LostReason | None = None
) -> Deal:
    """Mark the deal won, lost (a reason from the organization's list is required) or open again."""
    check_owned(organization, deal, lost_reason)
    if status not in Deal.Status.values:
        raise ValidationError({"status": _("Choose a status.")})
    if status == Deal.Status.LOST:
        if lost_reason is None:
            raise ValidationError({"lost_reason": _("Choose why the deal was lost.")})
        if lost_reason.archived_at is not None:
            raise ValidationError({"lost_reason": _("This reason is archived.")})
    else:
        lost_reason = None
    now = timezone.now()
    with tenant_context(organization):
        locked = _lock(organization, deal, expected_version)
        if locked.status != status:
            _event(organization, locked, DealEvent.Kind.STATUS, actor, now, from_value=locked.status, to_value=status)
        locked.status = status
        locked.lost_reason = lost_reason
        locked.closed_at = None if status == Deal.Status.OPEN else now
        fields = ["status", "lost_reason", "closed_at", "updated_at", "last_activity_at", "version"]
        if status == Deal.Status.OPEN:
            locked.position = _end_of(organization, locked.stage)
            fields.append("position")
        locked.updated_at = now
        locked.last_activity_at = now
        locked.version += 1
        locked.save(update_fields=fields)
        record_event(
            action="deal.status_set", actor=actor, organization=organization, target=locked, details={"status": status}
        )
    return locked


def touch_deal(*, organization, deal_id: int, at: datetime.datetime | None = None) -> None:
    """Record activity on the deal (an interaction or task linked to it): rotting restarts.
    For the activity app; no version change, so it never makes an open board stale."""
    with tenant_context(organization):
        Deal.objects.filter(organization=organization, pk=deal_id).update(last_activity_at=at or timezone.now())


def delete_deal(*, organization, actor, deal: Deal, expected_version: int) -> None:
    check_owned(organization, deal)
    with tenant_context(organization):
        locked = _lock(organization, deal, expected_version)
        record_event(action="deal.deleted", actor=actor, organization=organization, target=locked)
        locked.delete()


def reassign_deals(*, organization, actor, deal_ids: list[int], owner) -> int:
    """Bulk: give the deals (already filtered by the caller's visibility) another owner."""
    _check_owner(organization, owner)
    now = timezone.now()
    with tenant_context(organization):
        changed = Deal.objects.filter(organization=organization, pk__in=deal_ids).update(
            owner=owner, updated_at=now, version=F("version") + 1
        )
        record_event(action="deal.bulk_reassigned", actor=actor, organization=organization, details={"deals": changed})
    return changed


# --- line items -------------------------------------------------------------------------------------


def add_line_item(
    *,
    organization,
    actor,
    deal: Deal,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal = Decimal("0"),
    vat_rate: Decimal = Decimal("19"),
    product: Product | None = None,
) -> DealLineItem:
    check_owned(organization, deal, product)
    description = (description or "").strip() or (product.name if product else "")
    if not description:
        raise ValidationError({"description": _("Enter a description or choose a product.")})
    if quantity <= 0 or unit_price < 0:
        raise ValidationError(_("Quantity must be positive and the price not negative."), code="bad_amount")
    if not Decimal(0) <= discount <= Decimal(100):
        raise ValidationError({"discount": _("A discount is between 0 and 100 percent.")})
    with tenant_context(organization):
        position = (
            DealLineItem.objects.filter(organization=organization, deal=deal).aggregate(m=Max("position"))["m"] or 0
        ) + 1
        item = DealLineItem.objects.create(
            organization=organization,
            deal=deal,
            product=product,
            description=description,
            quantity=quantity,
            unit_price=unit_price,
            discount=discount,
            vat_rate=vat_rate,
            position=position,
        )
        Deal.objects.filter(organization=organization, pk=deal.pk).update(last_activity_at=timezone.now())
        record_event(action="deal.line_added", actor=actor, organization=organization, target=deal)
    return item


def remove_line_item(*, organization, actor, item: DealLineItem) -> None:
    check_owned(organization, item)
    with tenant_context(organization):
        record_event(action="deal.line_removed", actor=actor, organization=organization, target=item.deal)
        item.delete()
