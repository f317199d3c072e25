"""The daily refresh of `Contact.is_minor`.

The flag is derived from the date of birth, which is encrypted: the database cannot compute
an age, so the flag is stored, and a person turns sixteen without any write to their row.
Beat runs `contacts.refresh_minor_flags` daily; for each organization holding dates of birth,
the dates are decrypted inside that organization's tenant context, a batch at a time, and
only the flags that changed are written. Running it twice changes nothing the second time.

Why it matters: a minor's data needs a parent's consent for online services (GDPR Art. 8)
and stronger protection (recital 38); a flag left set after the sixteenth birthday would keep
treating an adult as a child, and one never set would do the opposite.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from contacts.models import Contact
from contacts.services.contacts import is_minor
from logicnet.audit.services import record_event
from logicnet.tenancy.context import platform_bypass, tenant_context

BATCH_SIZE = 1000


def organizations_with_birth_dates() -> list[int]:
    """Ids of the organizations that keep at least one date of birth. Across every
    organization, so through the audited platform bypass; ids only."""
    with platform_bypass(actor=None, reason="daily refresh of the minor flags"):
        return sorted(
            Contact.objects.filter(date_of_birth__isnull=False)
            .order_by()
            .values_list("organization_id", flat=True)
            .distinct()
        )


def refresh_minor_flags(*, organization_id: int, today: datetime.date | None = None) -> int:
    """Recompute `is_minor` from the date of birth for one organization's contacts; the
    number of flags changed. One short transaction and one audit event per batch that
    changed anything (ids, no personal data)."""
    today = today or timezone.localdate()
    changed_total = 0
    after = 0
    while True:
        with tenant_context(organization_id):
            batch = list(
                Contact.objects.filter(organization_id=organization_id, date_of_birth__isnull=False, pk__gt=after)
                .order_by("pk")
                .only("pk", "organization_id", "date_of_birth", "is_minor")[:BATCH_SIZE]
            )
            if not batch:
                return changed_total
            after = batch[-1].pk
            now_minor = [c.pk for c in batch if not c.is_minor and is_minor(c.date_of_birth, today)]
            now_adult = [c.pk for c in batch if c.is_minor and not is_minor(c.date_of_birth, today)]
            if now_minor:
                Contact.objects.filter(pk__in=now_minor).update(is_minor=True)
            if now_adult:
                Contact.objects.filter(pk__in=now_adult).update(is_minor=False)
            if now_minor or now_adult:
                record_event(
                    action="contact.minor_flags_refreshed",
                    organization=organization_id,
                    details={"now_minor": now_minor, "now_adult": now_adult, "on": today.isoformat()},
                )
            changed_total += len(now_minor) + len(now_adult)


def refresh_all_minor_flags(*, today: datetime.date | None = None) -> int:
    """Every organization's flags, one organization at a time; the number changed."""
    today = today or timezone.localdate()
    return sum(
        refresh_minor_flags(organization_id=organization_id, today=today)
        for organization_id in organizations_with_birth_dates()
    )
