"""Support access: an organization lets Logicnet's support staff read its data for a while.

The organization's admins grant it (with a duration), may revoke it at any time, and read
the log of what staff opened. Staff open the organization's data from the admin process
only while a grant is live, and only inside the organization's own tenant context on the
application role: the grant is checked there again, under the organization's row-level
security, so the platform role's all-tenant view is never what shows tenant data.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from logicnet.audit.services import record_event
from logicnet.tenancy.context import tenant_context
from support.models import SupportAccessGrant, SupportAccessLog

# The durations an organization may choose; access never lasts longer than a week at a time.
DURATIONS = {
    "1h": datetime.timedelta(hours=1),
    "1d": datetime.timedelta(days=1),
    "3d": datetime.timedelta(days=3),
    "7d": datetime.timedelta(days=7),
}


def live_grant(*, organization, now: datetime.datetime | None = None) -> SupportAccessGrant | None:
    """The organization's live grant (newest), read in its own tenant context."""
    now = now or timezone.now()
    with tenant_context(organization):
        return (
            SupportAccessGrant.objects.filter(revoked_at__isnull=True, expires_at__gt=now)
            .order_by("-expires_at", "-pk")
            .first()
        )


def grant_support_access(*, organization, actor, duration: str, ip_address: str | None = None) -> SupportAccessGrant:
    """Grant access for one of DURATIONS; a live grant is replaced (revoked) by the new one."""
    if duration not in DURATIONS:
        raise ValidationError(_("Choose how long support may have access."))
    now = timezone.now()
    with tenant_context(organization):
        for previous in SupportAccessGrant.objects.select_for_update().filter(
            revoked_at__isnull=True, expires_at__gt=now
        ):
            previous.revoked_at, previous.revoked_by = now, actor
            previous.save(update_fields=["revoked_at", "revoked_by"])
        grant = SupportAccessGrant.objects.create(
            organization=organization, granted_by=actor, granted_at=now, expires_at=now + DURATIONS[duration]
        )
        record_event(
            action="support_access.granted",
            actor=actor,
            organization=organization,
            target=grant,
            ip_address=ip_address,
            details={"to": grant.expires_at.isoformat()},
        )
    return grant


def revoke_support_access(*, organization, actor, grant_id: int, ip_address: str | None = None) -> bool:
    """Revoke the grant now; False when the organization has no such grant (another
    organization's id looks exactly like a missing one). An ended grant stays as it was."""
    now = timezone.now()
    with tenant_context(organization):
        grant = SupportAccessGrant.objects.select_for_update().filter(pk=grant_id).first()
        if grant is None:
            return False
        if not grant.is_live(now):
            return True
        grant.revoked_at, grant.revoked_by = now, actor
        grant.save(update_fields=["revoked_at", "revoked_by"])
        record_event(
            action="support_access.revoked", actor=actor, organization=organization, target=grant, ip_address=ip_address
        )
    return True


def open_under_grant(
    *, organization_id: int, staff, what: str, target_id: int | None = None, ip_address: str | None = None
) -> SupportAccessGrant:
    """Inside the organization's tenant context (the caller's): check that a grant is live
    and log the opening, for the organization and in the audit log. PermissionDenied when
    no grant is live (expired, revoked, never given)."""
    now = timezone.now()
    grant = (
        SupportAccessGrant.objects.filter(revoked_at__isnull=True, expires_at__gt=now)
        .order_by("-expires_at", "-pk")
        .first()
    )
    if grant is None:
        record_event(
            action="support_access.refused",
            actor=staff,
            organization=organization_id,
            ip_address=ip_address,
            details={"kind": what},
        )
        raise PermissionDenied("no live support access grant")
    SupportAccessLog.objects.create(
        organization_id=organization_id, grant=grant, staff=staff, what=what, target_id=target_id, opened_at=now
    )
    record_event(
        action="support_access.opened",
        actor=staff,
        organization=organization_id,
        target=grant,
        ip_address=ip_address,
        details={"kind": what, "ids": [target_id] if target_id else []},
    )
    return grant
