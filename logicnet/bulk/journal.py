"""Journaling bulk writes and reverting them.

A bulk write names its operation with a `batch_ref` (an import's id). Each batch journals the
rows it created (ids, with the file line) and, for the rows it updated, the stored values of
the columns it changed, the row's version after the write, and the ids of rows it added under
it (a further email, a tag link). Reverting walks the journal a chunk at a time:
1. each updated row still at the version the write left it is given its previous values
   back (ciphertexts as they were stored: nothing is decrypted), and what the write added
   under it is deleted; a row changed since is left alone and counted as `kept`;
2. the created rows are deleted through the ORM, so what hangs on them goes with them;
3. the chunk's entries are deleted and one audit event records the chunk.
An erased person's entries are deleted with them (the registry's erasure of RevertEntry), so a
revert never brings erased data back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import apps
from django.db.models import F, Model
from django.utils import timezone

from logicnet.audit.services import record_batch_event
from logicnet.bulk.models import RevertEntry
from logicnet.bulk.writes import BatchEncoder, bound_cursor, insert_rows, require_tenant, update_rows

REVERT_CHUNK = 1000


def target_of(model: type[Model]) -> str:
    return model._meta.label_lower


def journal_created(organization, batch_ref: int, model: type[Model], ids: Sequence[int], lines=None) -> None:
    """One entry per created row, written by one statement from two arrays (nothing of a
    created row's entry is personal but its id, and nothing of it is sealed)."""
    organization_id = require_tenant(organization)
    if not ids:
        return
    lines = list(lines) if lines is not None else [None] * len(ids)
    with bound_cursor() as cursor:
        cursor.execute(
            "INSERT INTO bulk_revertentry (organization_id, batch_ref, target, record_id, action, line, created_at)"
            " SELECT %s, %s, %s, r.id, %s, r.line, now() FROM unnest(%b::bigint[], %b::integer[]) AS r (id, line)",
            [organization_id, batch_ref, target_of(model), RevertEntry.Action.CREATED, list(ids), lines],
        )


def journal_updated(organization, batch_ref: int, model: type[Model], entries: Sequence[dict[str, Any]]) -> None:
    """`entries`: {"id", "line", "columns": {column: stored value before}, "version": after,
    "added": {model label: [ids]}}."""
    if not entries:
        return
    encoder = BatchEncoder(RevertEntry, organization)
    insert_rows(
        RevertEntry,
        organization,
        [
            {
                "batch_ref": batch_ref,
                "target": target_of(model),
                "record_id": entry["id"],
                "action": "updated",
                "line": entry.get("line"),
                "previous": {
                    "columns": entry["columns"],
                    "version": entry.get("version"),
                    "added": entry.get("added", {}),
                },
            }
            for entry in entries
        ],
        encoder=encoder,
    )


def journaled_lines(organization, batch_ref: int, model: type[Model], ids: Sequence[int]) -> dict[int, int | None]:
    """Of these row ids, those the operation already wrote (created or updated), with the file
    line that wrote them: a later line matching one is a duplicate inside the file."""
    require_tenant(organization)
    if not ids:
        return {}
    rows = RevertEntry.objects.filter(
        organization_id=organization.pk, batch_ref=batch_ref, target=target_of(model), record_id__any=list(ids)
    ).values_list("record_id", "line")
    return dict(rows)


def _restore(organization, model: type[Model], entries: list[RevertEntry], actor) -> tuple[int, int]:
    """Put the previous values back on rows not changed since; (restored, kept)."""
    by_id = {entry.record_id: entry.previous or {} for entry in entries}
    has_version = any(f.name == "version" for f in model._meta.concrete_fields)
    current = {}
    if has_version:
        current = dict(
            model._base_manager.filter(organization_id=organization.pk, pk__any=list(by_id)).values_list(
                "pk", "version"
            )
        )
    else:
        current = dict.fromkeys(model._base_manager.filter(pk__in=list(by_id)).values_list("pk", flat=True))
    restorable = [pk for pk, previous in by_id.items() if pk in current and current[pk] == previous.get("version")]
    kept = len(by_id) - len(restorable)
    for label, ids in _added(by_id, restorable).items():
        apps.get_model(label)._base_manager.filter(organization_id=organization.pk, pk__in=ids).delete()
    groups: dict[tuple[str, ...], list[dict]] = {}
    for pk in restorable:
        columns = by_id[pk].get("columns") or {}
        groups.setdefault(tuple(sorted(columns)), []).append({"id": pk, **columns})
    for columns, rows in groups.items():
        if columns:
            update_rows(model, organization, rows, columns)
    if has_version and restorable:
        changes: dict[str, Any] = {"version": F("version") + 1}
        field_names = {f.name for f in model._meta.concrete_fields}
        if "updated_at" in field_names:
            changes["updated_at"] = timezone.now()
        if "updated_by" in field_names:
            changes["updated_by"] = actor
        model._base_manager.filter(organization_id=organization.pk, pk__in=restorable).update(**changes)
    return len(restorable), kept


def _added(by_id: dict[int, dict], ids: list[int]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for pk in ids:
        for label, added in (by_id[pk].get("added") or {}).items():
            found.setdefault(label, []).extend(added)
    return found


def revert_batch(
    organization,
    batch_ref: int,
    *,
    actor,
    order: Sequence[type[Model]],
    action: str,
    max_chunks: int | None = None,
) -> dict[str, int]:
    """Revert what the operation `batch_ref` wrote to the `order` models (dependants first:
    contacts before the companies an import created for them), REVERT_CHUNK entries at a
    time, inside the caller's transaction. {"deleted", "restored", "kept"}; with `max_chunks`
    it stops early (a job calls it again until nothing is left)."""
    require_tenant(organization)
    totals = {"deleted": 0, "restored": 0, "kept": 0}
    chunks = 0
    for model in order:
        target = target_of(model)
        for kind in ("updated", "created"):
            while max_chunks is None or chunks < max_chunks:
                entries = list(
                    RevertEntry.objects.filter(
                        organization_id=organization.pk, batch_ref=batch_ref, target=target, action=kind
                    ).order_by("pk")[:REVERT_CHUNK]
                )
                if not entries:
                    break
                chunks += 1
                ids = [entry.record_id for entry in entries]
                if kind == "updated":
                    restored, kept = _restore(organization, model, entries, actor)
                    totals["restored"] += restored
                    totals["kept"] += kept
                else:
                    model._base_manager.filter(organization_id=organization.pk, pk__in=ids).delete()
                    totals["deleted"] += len(ids)
                RevertEntry.objects.filter(pk__in=[entry.pk for entry in entries]).delete()
                record_batch_event(
                    action=action,
                    actor=actor,
                    organization=organization,
                    target_type=model._meta.model_name,
                    ids=ids,
                    details={"batch_ref": batch_ref, "reverted": kind},
                )
    return totals
