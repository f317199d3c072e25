"""The retention sweep: what expired under each rule goes, organization by organization.

    preview(organization_id)             # tonight's sweep, counted: per rule, expired / held / to do
    sweep_organization(organization_id)  # do it, a batch at a time; run again to resume

For each rule the organization's sweep runs (retention.rules.applied_rules), on each table
the rule ages:
1. a batch of expired rows is claimed: anchor older than the period, no activity since
   (the rule's `activity`), not yet anonymised, not under a legal hold, and not locked by
   another sweep (FOR UPDATE SKIP LOCKED: two sweeps at once split the rows between them,
   neither waits nor acts twice);
2. set-based, in the same short transaction inside the organization's tenant context, the
   batch (BATCH_SIZE rows) passed as one array parameter:
   - delete: the rows go with the rows that cascade from them (an interaction's
     participants, a released hold naming it), in one statement (one data-modifying WITH
     query per table);
   - anonymise: the rows about the same person that the registry erases by deleting them
     (extra emails, phones, addresses, tags, tasks, deal links) go, all in one statement;
     then one UPDATE empties the fields the registry classifies under the rule as the
     erasure engine empties them (offboarding._erased_value; search columns with their
     sources and foreign keys; the name-token rows follow by a statement-level trigger);
3. one audit event for the batch, with the rule, the counts and the ids.
A killed sweep keeps every committed batch; the next run finds only what is left (deleted
rows are gone, anonymised ones no longer match), so it resumes where the last one stopped.
A batch shorter than BATCH_SIZE ends its rule: it took every expired row no other sweep had
locked, so a further claim would only read the batch's rows again to find nothing.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models, transaction
from django.db.models import BooleanField, Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from logicnet.audit.services import record_batch_event
from logicnet.jobs.models import Job
from logicnet.jobs.registry import job_handler
from logicnet.personal_data.erasure import _unlink_parents
from logicnet.personal_data.offboarding import _erased_value
from logicnet.personal_data.registry import Erasure, RetentionAction, registry
from logicnet.tenancy.context import platform_bypass, tenant_context
from retention.rules import AppliedRule, applied_rules, has_organization, platform_models

SWEEP_JOB = "retention.sweep"
BATCH_SIZE = 5000


# --- what a rule does to a table, from the registry ---------------------------------------------


def anonymised_values(model, rule_key: str) -> dict[str, Any]:
    """attname -> the value it is emptied to: the personal fields classified under the rule
    (and their search columns), but the primary key, many-to-many links and fields kept."""
    values = {}
    for name, rule in registry.rules_for(model).items():
        if not rule.personal or rule.retention != rule_key:
            continue
        if registry.field_erasure(model, name) == Erasure.KEEP:
            continue
        model_field = model._meta.get_field(name)
        if model_field.primary_key or model_field.many_to_many or not model_field.concrete:
            continue
        values[model_field.attname] = _erased_value(model_field, Erasure.BLANK, 0)
    return values


def _anonymised_already(values: dict[str, Any]) -> Q:
    """Rows whose emptied fields are all empty: nothing left to anonymise. Only the values
    that are the same every day count (a default that is today's date would never match)."""
    condition = Q()
    for attname, value in values.items():
        if value is None:
            condition &= Q(**{f"{attname}__isnull": True})
        elif value in ("", []):
            condition &= Q(**{attname: value})
    return condition


def _subject_kind_model(model) -> str | None:
    for kind in registry.subject_kinds.values():
        try:
            if kind.model_class() is model:
                return kind.key
        except (LookupError, ValueError):
            continue
    return None


def dependent_rows(model, rule_key: str) -> list[tuple[type[models.Model], str]]:
    """(model, foreign key attname) of the rows about the same person that the registry
    erases by deleting them (a contact's extra emails, phones, tags, tasks), for an
    anonymised row of `model`. Left out: search tables kept by trigger, the links of shared
    rows (an interaction's participants: interactions have their own rule)."""
    kind = _subject_kind_model(model)
    if kind is None:
        return []
    links = set(_unlink_parents())
    found = []
    for label in registry.classified_models():
        other = apps.get_model(label)
        if other is model or label in links or registry.derived_table(other):
            continue
        if registry.model_erasure(other).action != Erasure.DELETE_ROW:
            continue
        for rule in registry.rules_for(other).values():
            if not (rule.personal and rule.retention == rule_key and rule.subject and rule.subject.kind == kind):
                continue
            try:
                fk = other._meta.get_field(rule.subject.lookup)
            except FieldDoesNotExist:
                continue  # a path through a relation ("request__contact"): not a row of the person's own
            if fk.is_relation and fk.many_to_one and fk.related_model is model:
                found.append((other, fk.attname))
                break
    return found


def _foreign_key_to(model, target) -> str:
    for model_field in model._meta.concrete_fields:
        if model_field.is_relation and model_field.related_model is target:
            return model_field.name
    raise ValueError(f"{model._meta.label} has no foreign key to {target._meta.label}")


def expired_rows(applied: AppliedRule, model, organization_id: int, now: datetime.datetime):
    """The rows of `model` past the rule's period (legal holds not yet left out)."""
    cutoff = applied.cutoff(now)
    rows = model._base_manager.filter(organization_id=organization_id, **{f"{applied.rule.anchor}__lt": cutoff})
    for path in applied.rule.activity:
        label, _sep, name = path.rpartition(".")
        other = apps.get_model(label)
        recent = other._base_manager.filter(
            organization_id=organization_id,
            **{_foreign_key_to(other, model): OuterRef("pk"), f"{name}__gte": cutoff},
        )
        rows = rows.exclude(Exists(recent))
    if applied.action == RetentionAction.ANONYMISE:
        done = _anonymised_already(anonymised_values(model, applied.key))
        if done:
            rows = rows.exclude(done)
    return rows


def without_holds(model, rows, organization_id: int):
    """Leave out the rows under an active legal hold: named themselves, or (a shared row,
    an interaction) through a held person taking part in it."""
    from retention.models import LegalHold

    holds = LegalHold.objects.filter(organization_id=organization_id, released_at__isnull=True)
    held_fields = {f.related_model: f for f in LegalHold._meta.concrete_fields if f.is_relation}
    if model in held_fields:
        column = held_fields[model].attname
        rows = rows.exclude(pk__in=holds.filter(**{f"{column}__isnull": False}).values(column))
    erasure = registry.model_erasure(model)
    if erasure.action == Erasure.UNLINK:
        through = apps.get_model(erasure.through)
        subject_fk = through._meta.get_field(erasure.through_subject)
        if subject_fk.related_model in held_fields:
            column = held_fields[subject_fk.related_model].attname
            held_people = holds.filter(**{f"{column}__isnull": False}).values(column)
            parent = through._meta.get_field(erasure.through_parent).attname
            shared = through._base_manager.filter(
                organization_id=organization_id, **{f"{subject_fk.attname}__in": held_people}
            ).values(parent)
            rows = rows.exclude(pk__in=shared)
    return rows


# --- tonight's sweep, counted --------------------------------------------------------------------


def preview(organization_id: int, *, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """Per rule and table: the period, the action, how many rows are past it, how many of
    those a legal hold keeps, and how many the sweep would delete or anonymise. Nothing changes."""
    now = now or timezone.now()
    found = []
    for applied in applied_rules(organization_id):
        for model in applied.models:
            line = {
                "rule": applied.key,
                "description": str(applied.rule.description),
                "model": model._meta.label,
                "model_name": str(model._meta.verbose_name_plural),
                "action": applied.action,
                "period_days": applied.period_days,
                "overridden": applied.overridden,
                "expired": 0,
                "held": 0,
                "to_do": 0,
            }
            if applied.sweeps:
                with tenant_context(organization_id):
                    rows = expired_rows(applied, model, organization_id, now)
                    line["expired"] = rows.count()
                    line["to_do"] = without_holds(model, rows, organization_id).count() if line["expired"] else 0
                line["held"] = line["expired"] - line["to_do"]
            found.append(line)
    return found


# --- the sweep ------------------------------------------------------------------------------------


def _to_do_total(rules: list[AppliedRule], organization_id: int, now: datetime.datetime) -> int:
    """What the sweep has to do, for its progress bar: every rule's rows counted in one
    statement (one round trip, not one per rule and table)."""
    counts, params = [], []
    with tenant_context(organization_id):
        for applied in rules:
            if not applied.sweeps:
                continue
            for model in applied.models:
                rows = without_holds(model, expired_rows(applied, model, organization_id, now), organization_id)
                sql, rows_params = rows.order_by().values("pk").query.sql_with_params()
                counts.append(f"(SELECT count(*) FROM ({sql}) AS rule_{len(counts)})")
                params.extend(rows_params)
        if not counts:
            return 0
        with connection.cursor() as cursor:
            # The ORM's own SQL for each rule's rows, its values as parameters.
            cursor.execute(f"SELECT {' + '.join(counts)}", params)  # nosec B608
            return cursor.fetchone()[0]


def _claim_batch(applied: AppliedRule, model, organization_id: int, now, batch_size: int) -> list[int]:
    rows = without_holds(model, expired_rows(applied, model, organization_id, now), organization_id)
    return list(rows.order_by().select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch_size])


def _among(model, attname: str, ids: list[int]) -> RawSQL:
    """`column = ANY(ids)` with the batch as one array parameter: an IN list of thousands of
    placeholders costs more to build, quote and parse than the statement costs to run."""
    quote = connection.ops.quote_name
    model_field = model._meta.pk if attname == "pk" else _concrete(model)[attname]
    array_type = f"{model_field.db_type(connection)}[]"
    # Names and types from the model's own metadata; the ids travel as one parameter.
    return RawSQL(  # noqa: S611  # nosec B611
        f"{quote(model._meta.db_table)}.{quote(model_field.column)} = ANY(%s::{array_type})",
        (list(ids),),
        output_field=BooleanField(),
    )


def _concrete(model) -> dict[str, models.Field]:
    return {f.attname: f for f in model._meta.concrete_fields}


def _relations_to(model) -> list:
    """Every relation pointing at `model`, those hidden from the ORM's reverse accessors
    (related_name="+", such as a legal hold's) included: a DELETE that skipped one would fail
    on its foreign key at commit."""
    return [f for f in model._meta.get_fields(include_hidden=True) if f.auto_created and not f.concrete]


def _is_leaf(model) -> bool:
    return not _relations_to(model)


def _leaf_cascades(model) -> list | None:
    """The relations pointing at `model` when each is a plain ON DELETE CASCADE from a table
    nothing else points at (an interaction's participants and holds): those can go with one
    DELETE each. None when any is not (the ORM's collector then works it out)."""
    found = []
    for relation in _relations_to(model):
        if relation.many_to_many:
            continue  # its through table is one of the relations, checked on its own
        if relation.on_delete is not models.CASCADE or not _is_leaf(relation.related_model):
            return None
        found.append(relation)
    return found


def _delete_rows(model, attname: str, organization_id: int, ids: list[int]) -> dict[str, int]:
    """DELETE the rows of `model` whose `attname` is in the batch, as one statement when
    nothing points at them (the ORM's collector otherwise); the counts per model."""
    if _is_leaf(model):
        return _delete_leaf_rows([(model, attname)], organization_id, ids)
    rows = model._base_manager.filter(_among(model, attname, ids))
    if has_organization(model):
        rows = rows.filter(organization_id=organization_id)
    _total, per_model = rows.only("pk").delete()
    return {label: count for label, count in per_model.items() if count}


def _delete_leaf_rows(targets: list[tuple[type[models.Model], str]], organization_id: int, ids: list[int]):
    """DELETE, for each (model, attname), the rows whose `attname` is in the batch, all in
    one statement (one data-modifying WITH query per table): the batch travels once, as one
    array, and one round trip does what took one statement per table, each with its own
    parse, plan and copy of the array, though most of those tables hold nothing of the
    batch's. Only for tables nothing points at (the ORM's collector is not needed). The
    counts per model; foreign keys are checked at commit (deferred), so a row and the rows
    pointing at it may go in the same statement."""
    if not targets:
        return {}
    quote = connection.ops.quote_name
    first = targets[0][0]
    batch_field = first._meta.pk if targets[0][1] == "pk" else _concrete(first)[targets[0][1]]
    params: list[Any] = [list(ids)]
    deletes = []
    for n, (model, attname) in enumerate(targets):
        column = model._meta.pk.column if attname == "pk" else _concrete(model)[attname].column
        where = f"t.{quote(column)} IN (SELECT id FROM batch)"
        if has_organization(model):
            # The organization first: every index of a tenant table starts with it.
            where = f"t.{quote(_concrete(model)['organization_id'].column)} = %s AND {where}"
            params.append(organization_id)
        deletes.append(f"d{n} AS (DELETE FROM {quote(model._meta.db_table)} AS t WHERE {where} RETURNING 1)")
    counts = ", ".join(f"(SELECT count(*) FROM d{n})" for n in range(len(targets)))
    # Table and column names from the models' own metadata; the ids travel as one parameter.
    sql = (
        f"WITH batch AS MATERIALIZED (SELECT unnest(%s::{batch_field.db_type(connection)}[]) AS id), "  # nosec B608
        f"{', '.join(deletes)} SELECT {counts}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    deleted: dict[str, int] = {}
    for (model, _attname), count in zip(targets, found, strict=True):
        if count:
            _add_counts(deleted, {model._meta.label: count})
    return deleted


def _add_counts(into: dict[str, int], counts: dict[str, int]) -> None:
    for label, count in counts.items():
        into[label] = into.get(label, 0) + count


def _delete_batch(model, organization_id: int, ids: list[int]) -> dict[str, int]:
    """The rows of the batch and the rows that cascade from them, set-based, in one
    statement (the ORM's collector would load the batch's rows first). Returns the counts
    of the rows that went with them (an interaction's participants); the batch's own are
    its ids."""
    cascades = _leaf_cascades(model)
    if cascades is None:
        _total, per_model = model._base_manager.filter(_among(model, "pk", ids)).only("pk").delete()
        return {label: count for label, count in per_model.items() if count and label != model._meta.label}
    targets = [(relation.related_model, relation.field.attname) for relation in cascades]
    deleted = _delete_leaf_rows([(model, "pk"), *targets], organization_id, ids)
    deleted.pop(model._meta.label, None)
    return deleted


def _anonymise_batch(
    model, rule_key: str, organization_id: int, ids: list[int], dependents: list | None = None
) -> dict[str, int]:
    """Set-based: the person's own rows that the registry erases by deleting them go (one
    statement for all the tables nothing points at), then one UPDATE empties the batch's
    fields, foreign keys included: the per-row tenant check of a foreign key fires only
    where its value changes (logicnet/tenancy/rls.py), and returns at once on an emptied one."""
    if dependents is None:
        dependents = dependent_rows(model, rule_key)
    deleted = _delete_leaf_rows([(m, c) for m, c in dependents if _is_leaf(m)], organization_id, ids)
    for other, column in dependents:
        if not _is_leaf(other):
            _add_counts(deleted, _delete_rows(other, column, organization_id, ids))
    values = anonymised_values(model, rule_key)
    if any(f.name == "version" for f in model._meta.concrete_fields):
        # An edit form opened before the sweep must not write the person's data back.
        values["version"] = models.F("version") + 1
    model._base_manager.filter(_among(model, "pk", ids)).update(**values)
    return deleted


def sweep_organization(
    organization_id: int,
    *,
    now: datetime.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    report: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the organization's rules, a batch per short transaction; the counts per rule.

    Run outside any transaction: each batch commits on its own, so a sweep killed mid-way
    keeps what it did and the next one finishes the rest. Safe beside another sweep of the
    same organization (rows are claimed with SKIP LOCKED)."""
    now = now or timezone.now()
    started = time.monotonic()
    rules = applied_rules(organization_id)
    result: dict[str, Any] = {"as_of": now.isoformat(), "rules": {}, "rows": 0, "batches": 0}
    done = total = 0
    if report is not None:
        # Counted only for a progress bar: the count reads every expired row once more.
        total = _to_do_total(rules, organization_id, now)
        report(0, total)
    for applied in rules:
        if not applied.sweeps:
            continue
        for model in applied.models:
            line = result["rules"].setdefault(
                f"{applied.key}:{model._meta.label}",
                {
                    "rule": applied.key,
                    "model": model._meta.label,
                    "action": applied.action,
                    "rows": 0,
                    "deleted": {},
                    "seconds": 0.0,
                },
            )
            # Read from the registry once per table, not once per batch.
            dependents = dependent_rows(model, applied.key) if applied.action == RetentionAction.ANONYMISE else []
            while True:
                batch_started = time.monotonic()
                with tenant_context(organization_id):
                    ids = _claim_batch(applied, model, organization_id, now, batch_size)
                    if not ids:
                        break
                    if applied.action == RetentionAction.ANONYMISE:
                        deleted = _anonymise_batch(model, applied.key, organization_id, ids, dependents)
                    else:
                        deleted = _delete_batch(model, organization_id, ids)
                    record_batch_event(
                        action=f"retention.{applied.action}",
                        target_type=model._meta.model_name,
                        ids=ids,
                        organization=organization_id,
                        details={"rule": applied.key, "deleted": deleted},
                    )
                line["rows"] += len(ids)
                line["seconds"] = round(line["seconds"] + time.monotonic() - batch_started, 3)
                for label, count in deleted.items():
                    line["deleted"][label] = line["deleted"].get(label, 0) + count
                result["batches"] += 1
                done += len(ids)
                if report is not None:
                    report(done, max(total, done))
                if len(ids) < batch_size:
                    # A short batch took every expired row not locked by another sweep
                    # (which does those): a further claim would only read the batch's rows
                    # again to find nothing.
                    break
    result["rows"] = done
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


@job_handler(SWEEP_JOB)
def sweep_job(job, report) -> dict:
    now = datetime.datetime.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else None
    return sweep_organization(
        job.organization_id, now=now, batch_size=job.params.get("batch_size", BATCH_SIZE), report=report
    )


def start_sweep(*, organization_id: int, actor=None, as_of: datetime.datetime | None = None) -> Job | None:
    """Queue the organization's sweep as a job (its message sent after commit); None when
    one is queued or running already."""
    from logicnet.jobs.services import send_job

    params = {"as_of": as_of.isoformat()} if as_of else {}
    with tenant_context(organization_id):
        busy = Job.objects.filter(kind=SWEEP_JOB, state__in=[Job.State.QUEUED, Job.State.RUNNING]).exists()
        if busy:
            return None
        job = Job.objects.create(organization_id=organization_id, kind=SWEEP_JOB, params=params, created_by=actor)
        transaction.on_commit(lambda: send_job(organization_id=organization_id, job_id=job.pk))
    return job


def start_nightly_sweeps() -> int:
    """Beat, nightly: one sweep job per organization (ids across organizations through the
    audited platform bypass; the work itself runs inside each one's tenant context). The
    number of jobs started."""
    from logicnet.tenancy.organizations import organization_model

    with platform_bypass(actor=None, reason="nightly retention sweep"):
        organization_ids = list(organization_model().objects.order_by("pk").values_list("pk", flat=True))
    return sum(1 for organization_id in organization_ids if start_sweep(organization_id=organization_id))


def sweep_platform_tables(*, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Beat, nightly: the rows of tables that belong to no organization (an account holder's
    sessions, email confirmations) past their rule's period go, a batch per audited platform
    bypass, with one event per batch naming the rule and the ids. Rows deleted per table."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for rule in registry.retention.values():
        if rule.action != RetentionAction.DELETE:
            continue  # rows of the platform's own tables are only ever deleted here
        for model in platform_models(rule):
            cutoff = now - rule.duration
            while True:
                with platform_bypass(actor=None, reason=f"retention sweep: {rule.key}"):
                    rows = model._base_manager.filter(**{f"{rule.anchor}__lt": cutoff})
                    ids = list(
                        rows.order_by().select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch_size]
                    )
                    if ids:
                        model._base_manager.filter(_among(model, "pk", ids)).delete()
                        record_batch_event(
                            action="retention.delete",
                            target_type=model._meta.model_name,
                            ids=[str(pk) for pk in ids],
                            details={"rule": rule.key},
                        )
                if not ids:
                    break
                done[model._meta.label] = done.get(model._meta.label, 0) + len(ids)
    return done


def sweep_history(organization_id: int, *, limit: int = 30) -> list[Job]:
    with tenant_context(organization_id):
        return list(Job.objects.filter(kind=SWEEP_JOB).order_by("-created_at")[:limit])
