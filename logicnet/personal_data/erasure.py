"""Erasing one data subject (GDPR Art. 17), derived from the registry.

    preview = plan("contact", contact)        # what will happen, counts only: show, confirm
    counts = execute(preview)                 # do it, in short batches; run again to resume

For every (model, path) the registry gives for the subject, the model's erasure decides,
fields overriding it (registry.field_erasure):
- delete_row: the rows go, batch by batch;
- unlink: rows several people share (an interaction) lose this person's link; a row goes
  only when nobody is left, in the same transaction as the unlink, so a crash between
  batches leaves nothing orphaned and the next run finds the rest;
- blank / anonymise: the values are emptied or replaced (anonymised rows are saved one by
  one, so encrypted replacements are sealed), with the search columns derived from them
  (blind indexes, name tokens; the token tables follow through their trigger);
- keep: left, under the legal basis the registry names.
The audit log is kept (its legal basis), never deleted: values about the subject in events
naming them are redacted through `redact_audit_value`, so the chain still verifies. The
subject's own row goes last, so an interrupted run can always find the rest through it.

Each batch is one short transaction inside the organization's tenant context (a user's
rows: the audited platform bypass). Idempotent: a second run finds nothing left to do.
The counts returned hold no personal data: they are what the erasure ledger records.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone

from logicnet.personal_data.registry import Erasure, Holding, registry

FOLLOWS = "follows"  # a search table kept by a trigger from its source column
UPDATE = "update"  # values blanked, anonymised or kept field by field


@dataclass
class Step:
    model: str
    path: str
    action: str  # delete_row, unlink, update, keep, follows
    rows: int
    fields: dict[str, str] = field(default_factory=dict)  # field -> its erasure
    derived: dict[str, list[str]] = field(default_factory=dict)  # source -> search columns erased with it
    kept: dict[str, str] = field(default_factory=dict)  # field -> legal basis
    shared_rows: int = 0  # unlink: rows that stay for the other people on them
    note: str = ""


@dataclass
class ErasurePlan:
    """A preview of an erasure: per model the action, row counts, fields and what is kept
    under which basis. JSON-serialisable (`as_dict`), and holds no personal value."""

    kind: str
    subject_id: int
    organization_id: int | None
    created_at: str
    steps: list[Step] = field(default_factory=list)
    audit_events: int | None = None  # events naming the subject (None: not countable here)
    audit_values: int | None = None  # values in them that will be redacted
    stores: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ErasurePlan:
        steps = [Step(**step) for step in data.get("steps", [])]
        return cls(**{**data, "steps": steps})


# --- planning ------------------------------------------------------------------------------------


def _unlink_parents() -> dict[str, str]:
    """Link model label -> the model unlinked through it (InteractionParticipant ->
    Interaction): the link rows are handled by the parent's unlink step."""
    found = {}
    for label in registry.classified_models():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        erasure = registry.model_erasure(model)
        if erasure.action == Erasure.UNLINK:
            found[erasure.through.lower()] = model._meta.label
    return found


def _step_for(holding: Holding, subject_model, parents: dict[str, str]) -> Step:
    model = apps.get_model(holding.model)
    label = model._meta.label
    erasure = registry.model_erasure(model)
    actions = {name: registry.field_erasure(model, name) for name in holding.fields}
    kept = {
        name: (registry.rule_for(model, name).legal_basis or erasure.legal_basis)
        for name, action in actions.items()
        if action == Erasure.KEEP
    }
    step = Step(model=label, path=holding.path, action=UPDATE, rows=0, fields=actions, kept=kept)
    if registry.derived_table(model):
        step.action = FOLLOWS
        step.note = f"follows {registry.derived_table(model)}"
    elif label.lower() in parents:
        step.action = Erasure.UNLINK
        step.note = f"handled by the unlink of {parents[label.lower()]}"
    elif erasure.action == Erasure.UNLINK and Erasure.UNLINK in actions.values():
        step.action = Erasure.UNLINK
    elif _through_many(model, holding.path):
        # Reached through a link several people share (an organization, through its
        # memberships): the row is theirs together. The link is erased in its own table.
        step.action = Erasure.KEEP
        step.kept = dict.fromkeys(actions, "shared with others; the link to the subject is erased")
        step.note = f"shared: reached through {holding.path}"
    elif Erasure.DELETE_ROW in actions.values():
        step.action = Erasure.DELETE_ROW
    elif all(action == Erasure.KEEP for action in actions.values()):
        step.action = Erasure.KEEP
    if step.action == UPDATE:
        derived = registry.derived_columns(model)
        step.derived = {
            name: derived[name]
            for name, action in actions.items()
            if action in (Erasure.BLANK, Erasure.ANONYMISE) and name in derived
        }
    return step


def _through_many(model, lookup: str) -> bool:
    """Whether the lookup path crosses a to-many relation (a reverse foreign key, a
    many-to-many): the row it reaches is one of several people's."""
    current = model
    for part in lookup.split("__"):
        try:
            found = current._meta.get_field(part)
        except Exception:
            return False
        if found.one_to_many or found.many_to_many:
            return True
        if not found.is_relation:
            return False
        current = found.related_model
    return False


def _is_own_row(holding: Holding, subject_model) -> bool:
    return apps.get_model(holding.model) is subject_model and holding.path == "pk"


def _order(steps_and_holdings, subject_model):
    """Unlinks first (they need the links the other steps delete), the subject's own row
    last (an interrupted run finds everything else through it)."""

    def rank(item):
        step, holding = item
        if _is_own_row(holding, subject_model):
            return 3
        if step.action == Erasure.UNLINK:
            return 0
        return 1

    return sorted(steps_and_holdings, key=rank)


def _subject_kind_of(subject) -> str:
    for kind in registry.subject_kinds.values():
        if type(subject) is kind.model_class():
            return kind.key
    raise ValueError(f"{type(subject).__name__} is not a data-subject kind of the registry")


@contextmanager
def _context(kind: str, organization_id: int | None, reason: str, actor=None):
    """One short transaction where the subject's rows are visible."""
    if registry.kind(kind).tenant:
        from logicnet.tenancy.context import tenant_context

        with tenant_context(organization_id):
            yield
    else:
        from logicnet.tenancy.context import platform_bypass

        with platform_bypass(actor=actor, reason=reason):
            yield


def plan(kind: str, subject, *, audit: bool = True) -> ErasurePlan:
    """What erasing `subject` will do, model by model, with counts (nothing is changed).
    `audit`: also count the audit events naming the subject and the values to redact in
    them (needs the platform alias: the worker or a command; None otherwise)."""
    subject_kind = registry.kind(kind)
    subject_model = subject_kind.model_class()
    organization_id = subject.organization_id if subject_kind.tenant else None
    result = ErasurePlan(
        kind=kind,
        subject_id=subject.pk,
        organization_id=organization_id,
        created_at=timezone.now().isoformat(),
        stores=[
            {"key": store.key, "name": str(store.name), "erasure": str(store.erasure)}
            for store in registry.stores.values()
            if kind in store.subject_kinds
        ],
    )
    parents = _unlink_parents()
    with _context(kind, organization_id, f"erasure preview for {kind} {subject.pk}"):
        for holding in registry.holdings(kind, subject):
            if holding.platform_only and subject_kind.tenant:
                continue
            step = _step_for(holding, subject_model, parents)
            step.rows = holding.count
            if step.action == Erasure.UNLINK and not step.note:
                step.shared_rows = _shared_rows(apps.get_model(holding.model), subject)
            result.steps.append(step)
    if audit and settings.PLATFORM_DATABASE is not None:
        result.audit_events, result.audit_values = _audit_counts(kind, subject)
    return result


def _shared_rows(model, subject) -> int:
    erasure = registry.model_erasure(model)
    through = apps.get_model(erasure.through)
    mine = through._base_manager.filter(**{erasure.through_subject: subject.pk}).values(erasure.through_parent)
    others = through._base_manager.filter(**{f"{erasure.through_parent}__in": mine}).exclude(
        **{erasure.through_subject: subject.pk}
    )
    return others.values(erasure.through_parent).distinct().count()


# --- executing -----------------------------------------------------------------------------------


def execute(
    plan_or_subject,
    *,
    batch_size: int = 500,
    report: Callable[[str, int], None] | None = None,
    actor=None,
    audit: bool = True,
) -> dict[str, Any]:
    """Erase the subject (an ErasurePlan, its dict, or the subject itself). Returns counts
    per model and action, for the erasure ledger (no personal data).

    Run outside any transaction: each batch commits on its own (a job killed mid-way keeps
    what it did, and running it again completes the rest). `report(model label, rows done)`
    is called after every batch, for a progress bar. `audit`: redact the values about the
    subject in the audit log (needs the platform alias: the worker or a command)."""
    kind, subject = _resolve(plan_or_subject)
    counts: dict[str, Any] = {
        "deleted": {},
        "unlinked": {},
        "deleted_when_nobody_left": {},
        "blanked": {},
        "anonymised": {},
        "kept": {},
        "audit_values_redacted": 0,
        "batches": 0,
        "already_erased": subject is None,
    }
    if subject is None:
        return counts
    subject_kind = registry.kind(kind)
    subject_model = subject_kind.model_class()
    organization_id = subject.organization_id if subject_kind.tenant else None
    reason = f"erasure of {kind} {subject.pk} (data-subject request)"
    parents = _unlink_parents()
    with _context(kind, organization_id, reason, actor):
        found = [
            (_step_for(holding, subject_model, parents), holding)
            for holding in registry.holdings(kind, subject)
            if not (holding.platform_only and subject_kind.tenant)
        ]
    engine = _Engine(kind, subject, organization_id, batch_size, report, counts, reason, actor)
    own_rows = []
    for step, holding in _order(found, subject_model):
        if _is_own_row(holding, subject_model):
            own_rows.append((step, holding))
            continue
        engine.run(step, holding)
    if audit:
        counts["audit_values_redacted"] = _redact_audit(kind, subject, reason, actor)
    for step, holding in own_rows:
        engine.run(step, holding)
    return counts


def _resolve(plan_or_subject):
    """(kind, subject or None when it is gone already)."""
    if isinstance(plan_or_subject, dict):
        plan_or_subject = ErasurePlan.from_dict(plan_or_subject)
    if not isinstance(plan_or_subject, ErasurePlan):
        return _subject_kind_of(plan_or_subject), plan_or_subject
    preview = plan_or_subject
    subject_kind = registry.kind(preview.kind)
    model = subject_kind.model_class()
    with _context(preview.kind, preview.organization_id, f"erasure of {preview.kind} {preview.subject_id}"):
        rows = model._base_manager.filter(pk=preview.subject_id)
        if subject_kind.tenant:
            rows = rows.filter(organization_id=preview.organization_id)
        return preview.kind, rows.first()


class _Engine:
    def __init__(self, kind, subject, organization_id, batch_size, report, counts, reason, actor) -> None:
        self.kind = kind
        self.subject = subject
        self.organization_id = organization_id
        self.batch_size = batch_size
        self.report = report
        self.counts = counts
        self.reason = reason
        self.actor = actor

    def context(self):
        return _context(self.kind, self.organization_id, self.reason, self.actor)

    def add(self, bucket: str, label: str, count: int) -> None:
        if count:
            self.counts[bucket][label] = self.counts[bucket].get(label, 0) + count

    def progress(self, label: str, done: int) -> None:
        self.counts["batches"] += 1
        if self.report is not None:
            self.report(label, done)

    def run(self, step: Step, holding: Holding) -> None:
        if step.action in (FOLLOWS, Erasure.KEEP) or (step.action == Erasure.UNLINK and step.note):
            if step.action == Erasure.KEEP:
                with self.context():
                    self.add("kept", step.model, holding.rows.count())
            return
        if step.action == Erasure.UNLINK:
            self.unlink(step)
        elif step.action == Erasure.DELETE_ROW:
            self.delete(step, holding)
        else:
            self.update(step, holding)

    def delete(self, step: Step, holding: Holding) -> None:
        model = apps.get_model(step.model)
        done = 0
        while True:
            with self.context():
                ids = list(holding.rows.order_by("pk").values_list("pk", flat=True)[: self.batch_size])
                if not ids:
                    return
                model._base_manager.filter(pk__in=ids).delete()
            done += len(ids)
            self.add("deleted", step.model, len(ids))
            self.progress(step.model, done)

    def unlink(self, step: Step) -> None:
        """Take the subject out of each shared row, and delete the rows nobody is left on,
        in the same transaction per batch."""
        model = apps.get_model(step.model)
        erasure = registry.model_erasure(model)
        through = apps.get_model(erasure.through)
        parent_attname = through._meta.get_field(erasure.through_parent).attname
        subject_filter = {erasure.through_subject: self.subject.pk}
        if self.organization_id is not None:
            subject_filter["organization_id"] = self.organization_id
        done = 0
        while True:
            with self.context():
                links = list(
                    through._base_manager.filter(**subject_filter)
                    .order_by("pk")
                    .values_list("pk", parent_attname)[: self.batch_size]
                )
                if not links:
                    return
                parent_ids = {parent for _pk, parent in links}
                through._base_manager.filter(pk__in=[pk for pk, _parent in links]).delete()
                still_shared = set(
                    through._base_manager.filter(**{f"{parent_attname}__in": parent_ids}).values_list(
                        parent_attname, flat=True
                    )
                )
                orphans = parent_ids - still_shared
                if orphans:
                    model._base_manager.filter(pk__in=orphans).delete()
            done += len(links)
            self.add("unlinked", through._meta.label, len(links))
            self.add("deleted_when_nobody_left", step.model, len(orphans))
            self.progress(step.model, done)

    def update(self, step: Step, holding: Holding) -> None:
        """Blank or anonymise the step's fields (and their search columns), batch by batch
        in id order: the rows stay, so they are walked by id rather than re-selected."""
        from logicnet.personal_data.offboarding import _erased_value

        model = apps.get_model(step.model)
        erasure = registry.model_erasure(model)
        targets = {}
        for name, action in step.fields.items():
            model_field = model._meta.get_field(name)
            if action not in (Erasure.BLANK, Erasure.ANONYMISE) or model_field.primary_key:
                continue
            if model_field.many_to_many or registry.is_search_column(model, name):
                continue
            targets[name] = action
        if not targets:
            return
        anonymised = {name for name, action in targets.items() if action == Erasure.ANONYMISE}
        blank_values = {}
        for name in targets:
            model_field = model._meta.get_field(name)
            blank_values[model_field.attname] = _erased_value(model_field, Erasure.BLANK, 0)
            for derived in step.derived.get(name, []):
                derived_field = model._meta.get_field(derived)
                blank_values[derived_field.attname] = _erased_value(derived_field, Erasure.BLANK, 0)
        last = None
        done = 0
        while True:
            with self.context():
                batch = holding.rows.order_by("pk")
                if last is not None:
                    batch = batch.filter(pk__gt=last)
                ids = list(batch.values_list("pk", flat=True)[: self.batch_size])
                if not ids:
                    return
                if anonymised:
                    self._anonymise_rows(model, ids, targets, erasure.replacements, blank_values)
                else:
                    model._base_manager.filter(pk__in=ids).update(**blank_values)
            last = ids[-1]
            done += len(ids)
            self.add("anonymised" if anonymised else "blanked", step.model, len(ids))
            self.progress(step.model, done)

    def _anonymise_rows(self, model, ids, targets, replacements, blank_values) -> None:
        """Row by row through save(): an encrypted replacement must be sealed, and the
        search columns derived from it recomputed (the save does both)."""
        from logicnet.encryption.fields import derived_fields_of

        derived = [f.attname for f in derived_fields_of(model)]
        for row in model._base_manager.filter(pk__in=ids):
            changed = []
            for name, action in targets.items():
                model_field = model._meta.get_field(name)
                if action == Erasure.ANONYMISE:
                    rule = registry.rule_for(model, name)
                    template = rule.replacement or replacements.get(name) or "anonymised-{pk}"
                    value = template.format(pk=row.pk)
                    if isinstance(model_field, models.CharField) and model_field.max_length:
                        value = value[: model_field.max_length]
                    setattr(row, model_field.attname, value)
                else:
                    setattr(row, model_field.attname, blank_values[model_field.attname])
                changed.append(model_field.attname)
            row.save(update_fields=[*changed, *derived])


# --- the audit log ---------------------------------------------------------------------------------


def _audit_events(kind: str, subject):
    """(event id, details, redacted) of the events whose details the registry says are
    about the subject (a contact: the events naming it as their target; a user: the events
    they acted in), read on the platform alias."""
    found = []
    for holding in registry.holdings(kind, subject):
        if holding.platform_only and "details" in holding.fields:
            found.extend(holding.rows.order_by("pk").values_list("pk", "details", "redacted"))
    return list({pk: (pk, details, redacted) for pk, details, redacted in found}.values())


def _personal_keys(details, redacted) -> list[str]:
    from logicnet.audit.services import REDACTED

    if not isinstance(details, dict):
        return []
    return [
        key
        for key, value in details.items()
        if key not in registry.audit_structural_keys
        and key not in (redacted or {})
        and value not in (None, "", [], {}, REDACTED)
    ]


def _audit_counts(kind: str, subject) -> tuple[int, int]:
    from logicnet.tenancy.context import platform_bypass

    with platform_bypass(
        actor=None,
        reason=f"erasure preview for {kind} {subject.pk}: audit entries about them",
        organization=getattr(subject, "organization_id", None),
    ):
        events = _audit_events(kind, subject)
    return len(events), sum(len(_personal_keys(details, redacted)) for _pk, details, redacted in events)


def _redact_audit(kind: str, subject, reason: str, actor) -> int:
    """Redact, never delete: each personal value of an event about the subject goes through
    the one narrow path (redact_audit_value), which keeps the chain verifiable."""
    from logicnet.audit.services import redact_audit_value
    from logicnet.tenancy.context import platform_bypass

    redacted = 0
    with platform_bypass(actor=actor, reason=reason, organization=getattr(subject, "organization_id", None)):
        events = _audit_events(kind, subject)
    for event_id, details, already in events:
        for key in _personal_keys(details, already):
            redact_audit_value(event_id=event_id, key=key, reason=reason, actor=actor)
            redacted += 1
    return redacted
