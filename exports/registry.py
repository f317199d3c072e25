"""The lists that can be exported: one declaration each, one engine for all.

An app registers a list with the queryset the actor may see under a filter, and its columns:

    register(ExportList(
        key="deals",
        label=_("Deals"),
        model=Deal,
        queryset=lambda actor, params: filter_deals(visible_deals(actor), params),
        columns=[
            Column("title", _("Title")),               # a field, decrypted if encrypted
            Column("amount", _("Amount")),
            Column("stage", _("Stage"), value=lambda row, ctx: ctx["stages"].get(row["stage_id"], "")),
        ],
        fields=["stage_id"],                           # further fields the value functions read
        prepare=load_stage_names,                      # per page: (rows, ctx) -> None
    ))

The engine (exports/services.py) walks the queryset in keyset pages on (created_at, id),
the (organization, created_at, id) index every list table has, reads only the fields the
columns name as plain values (no model instances), decrypts every encrypted field of a page
in one pass with the organization's key, and hands the rows to the file writer.

The queryset must be exactly what the actor may see under the list page's filter: the
export reuses the list's own visibility rule and filter function, never a copy of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, QuerySet

from logicnet.tenancy.roles import Actor

Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One column of the file. Without `value` or `expression`, the row's `key` field
    is written as is (decrypted when encrypted; a timestamp as local time)."""

    key: str
    label: Any
    value: Callable[[Row, dict], Any] | None = None
    # An ORM expression PostgreSQL computes per row (an aggregate of tag names): the row
    # holds its result under `key`. Cheaper than a value function for what the database
    # can compute, and it runs on the database's core while Python decrypts.
    expression: Any = None
    # Fields the value function reads (selected, decrypted, JSON decoded).
    needs: tuple[str, ...] = ()


@dataclass
class ExportList:
    key: str
    label: Any
    model: type[Model]
    # (actor, params) -> the rows the actor may see under the list's filter (`params`: the
    # list page's query parameters, as contacts.forms_lists.list_params keeps them).
    queryset: Callable[[Actor, dict[str, list[str]]], QuerySet]
    columns: list[Column] | Callable[[Actor], list[Column]]
    # Fields read besides the columns' own (foreign keys the value functions look up).
    fields: list[str] = field(default_factory=list)
    # Called once per page: (rows, context) -> None; looks up what the page's rows name
    # (tag names, company names) in one query, into `context` or onto the rows.
    prepare: Callable[[list[Row], dict], None] | None = None
    # The keyset: a timestamp column and the primary key, served by an index.
    order_field: str = "created_at"
    page_size: int = 5000
    # (columns, params) -> the columns the list page shows under `params` (its column
    # chooser, `col`): the file holds what the page shows. None: every column.
    chosen: Callable[[list[Column], dict[str, list[str]]], list[Column]] | None = None

    def columns_for(self, actor: Actor, params: dict[str, list[str]] | None = None) -> list[Column]:
        columns = self.columns(actor) if callable(self.columns) else list(self.columns)
        return self.chosen(columns, params or {}) if self.chosen is not None else columns


_lists: dict[str, ExportList] = {}


def register(export_list: ExportList) -> ExportList:
    _lists[export_list.key] = export_list
    return export_list


def export_list(key: str) -> ExportList:
    """KeyError for a list nobody registered."""
    return _lists[key]


def export_lists() -> list[ExportList]:
    return list(_lists.values())
