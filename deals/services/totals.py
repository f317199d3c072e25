"""The recount of the deal totals (deals.DealTotal).

The database keeps the totals in step with every write (triggers, migration 0002); the
recount rebuilds an organization's rows from its deals, nightly by beat and on demand, so
totals written while the triggers were off (a restore, a manual repair) come right, and the
dashboard can say when they were last checked against the deals.

Steps: inside the organization's tenant context, take its advisory lock exclusively (every
trigger takes it shared, so writers in flight finish first and new ones wait the second or
two the rebuild takes), delete its rows, insert them again from one grouped read of the
deals, and stamp DealSettings.totals_recounted_at.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.utils import timezone

from deals.models import DealSettings, DealTotal
from logicnet.audit.services import record_event
from logicnet.tenancy.context import platform_bypass, tenant_context

_KEY = "organization_id, pipeline_id, status, stage_id, owner_id, month, currency"
_REBUILD = f"""
INSERT INTO deals_dealtotal ({_KEY}, deal_count, value_sum)
SELECT {_KEY}, count(*), sum(value) FROM (
    SELECT organization_id, pipeline_id, status, stage_id, owner_id,
        deal_total_month(status, expected_close, closed_at) AS month, currency, value
    FROM deals_deal WHERE organization_id = %s
) AS deals GROUP BY {_KEY} ORDER BY {_KEY}
"""


def recount_deal_totals(*, organization, now: datetime.datetime | None = None) -> int:
    """Rebuild the organization's deal totals from its deals. The number of groups."""
    now = now or timezone.now()
    with tenant_context(organization), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('deal_totals'), hashtext(%s::bigint::text))", [organization.pk]
        )
        DealTotal.objects.filter(organization=organization).delete()
        cursor.execute(_REBUILD, [organization.pk])
        groups = cursor.rowcount
        DealSettings.objects.update_or_create(organization=organization, defaults={"totals_recounted_at": now})
        record_event(action="deals.totals_recounted", organization=organization, details={"groups": groups})
    return groups


def recount_all_deal_totals() -> int:
    """Beat, nightly: every organization's totals, one organization per transaction (ids
    through the audited platform bypass; the work inside each one's tenant context)."""
    from logicnet.tenancy.organizations import organization_model

    with platform_bypass(actor=None, reason="nightly recount of deal totals"):
        organizations = list(organization_model().objects.order_by("pk"))
    for organization in organizations:
        recount_deal_totals(organization=organization)
    return len(organizations)
