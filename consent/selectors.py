"""Reads of the consent ledger: the current status (derived from the newest row per contact
and purpose), a contact's history, and the rows of a CSV export."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q

from consent.models import ConsentRecord, NoticeVersion, Purpose
from logicnet.tenancy.context import tenant_context

Action = ConsentRecord.Action


@dataclass
class PurposeStatus:
    purpose: Purpose
    notice: NoticeVersion | None  # the purpose's current notice
    latest: ConsentRecord | None  # the newest ledger row for this contact

    @property
    def given(self) -> bool:
        return self.latest is not None and self.latest.action == Action.GIVEN

    @property
    def given_to_older_notice(self) -> bool:
        return self.given and self.notice is not None and self.latest.notice_id != self.notice.pk


def purposes(organization, *, offered_only: bool = False) -> list[Purpose]:
    with tenant_context(organization):
        rows = Purpose.objects.filter(organization=organization)
        if offered_only:
            rows = rows.filter(is_active=True)
        return list(rows.order_by("name", "pk"))


def purpose_by_key(organization, key: str, *, offered_only: bool = True) -> Purpose | None:
    with tenant_context(organization):
        rows = Purpose.objects.filter(organization=organization, key=key)
        if offered_only:
            rows = rows.filter(is_active=True)
        return rows.first()


def purpose_by_id(organization, pk: int) -> Purpose | None:
    with tenant_context(organization):
        return Purpose.objects.filter(organization=organization, pk=pk).first()


def current_notices(organization) -> dict[int, NoticeVersion]:
    """Purpose id -> its newest notice version."""
    with tenant_context(organization):
        rows = (
            NoticeVersion.objects.filter(organization=organization)
            .order_by("purpose_id", "-version")
            .distinct("purpose_id")
        )
        return {notice.purpose_id: notice for notice in rows}


def notice_versions(purpose: Purpose) -> list[NoticeVersion]:
    with tenant_context(purpose.organization_id):
        return list(
            NoticeVersion.objects.filter(organization_id=purpose.organization_id, purpose=purpose).order_by("-version")
        )


def notice_version(purpose: Purpose, version: int) -> NoticeVersion | None:
    with tenant_context(purpose.organization_id):
        return NoticeVersion.objects.filter(
            organization_id=purpose.organization_id, purpose=purpose, version=version
        ).first()


def latest_records(organization, contact_id: int) -> dict[int, ConsentRecord]:
    """Purpose id -> the contact's newest ledger row for it (one query, DISTINCT ON)."""
    with tenant_context(organization):
        rows = (
            ConsentRecord.objects.filter(organization=organization, contact_id=contact_id)
            .order_by("purpose_id", "-recorded_at", "-id")
            .distinct("purpose_id")
        )
        return {record.purpose_id: record for record in rows}


def status_of(organization, contact_id: int, purpose: Purpose) -> str | None:
    """ "given", "withdrawn", or None when the person never said."""
    record = latest_records(organization, contact_id).get(purpose.pk)
    return record.action if record else None


def statuses(organization, contact_id: int, *, offered_only: bool = False) -> list[PurposeStatus]:
    """Every purpose with the contact's current status (a purpose no longer offered is
    listed while the contact has a record for it)."""
    latest = latest_records(organization, contact_id)
    notices = current_notices(organization)
    found = []
    for purpose in purposes(organization):
        if not purpose.is_active and (offered_only or purpose.pk not in latest):
            continue
        found.append(PurposeStatus(purpose, notices.get(purpose.pk), latest.get(purpose.pk)))
    return found


def history(organization, contact_id: int, *, limit: int = 200) -> list[ConsentRecord]:
    """The contact's ledger, newest first, with the purpose, notice and evidence."""
    with tenant_context(organization):
        rows = (
            ConsentRecord.objects.filter(organization=organization, contact_id=contact_id)
            .select_related("purpose", "notice", "evidence")
            .order_by("-recorded_at", "-id")[:limit]
        )
        records = list(rows)
        for record in records:
            evidence = getattr(record, "evidence", None) if _has_evidence(record) else None
            record.evidence_details = evidence.details if evidence else ""
        return records


def _has_evidence(record: ConsentRecord) -> bool:
    from consent.models import ConsentEvidence

    try:
        record.evidence  # noqa: B018  (loaded by select_related; missing when erased or never kept)
    except ConsentEvidence.DoesNotExist:
        return False
    return True


EXPORT_HEADER = [
    "record_id",
    "recorded_at",
    "contact_id",
    "purpose",
    "notice_version",
    "notice_sha256",
    "consent",
    "method",
    "recorded_by_user_id",
]


def export_rows(
    organization,
    *,
    date_from: datetime.datetime | None = None,
    date_to: datetime.datetime | None = None,
    purpose: Purpose | None = None,
    version: int | None = None,
    chunk_size: int = 2000,
) -> Iterator[list[str]]:
    """The ledger rows matching the filters, oldest first, as CSV cells; no personal value
    but the contact's id. Read in chunks by (time, id) inside one tenant transaction per
    chunk, so a streaming response never holds a transaction open while the client reads
    slowly (ids are not chronological: logicnet/tenancy/ids.py)."""
    after: tuple | None = None
    while True:
        with tenant_context(organization):
            rows = ConsentRecord.objects.filter(organization=organization)
            if after is not None:
                rows = rows.filter(Q(recorded_at__gt=after[0]) | Q(recorded_at=after[0], pk__gt=after[1]))
            if date_from is not None:
                rows = rows.filter(recorded_at__gte=date_from)
            if date_to is not None:
                rows = rows.filter(recorded_at__lt=date_to)
            if purpose is not None:
                rows = rows.filter(purpose=purpose)
                if version is not None:
                    rows = rows.filter(notice__version=version)
            chunk = list(
                rows.order_by("recorded_at", "pk").values_list(
                    "pk",
                    "recorded_at",
                    "contact_id",
                    "purpose__key",
                    "notice__version",
                    "notice__text_sha256",
                    "action",
                    "method",
                    "recorded_by_id",
                )[:chunk_size]
            )
        if not chunk:
            return
        for pk, at, contact_id, key, notice_version_number, digest, action, method, user_id in chunk:
            yield [
                str(pk),
                at.isoformat(),
                str(contact_id),
                key,
                str(notice_version_number),
                digest,
                action,
                method,
                str(user_id or ""),
            ]
        after = (chunk[-1][1], chunk[-1][0])
