"""The daily refresh of Contact.is_minor: computed from the (encrypted) date of birth, per
organization, idempotent, and scheduled by beat."""

from __future__ import annotations

import datetime

from django.conf import settings

from contacts.models import Contact
from contacts.services.contacts import create_contact
from contacts.services.minors import refresh_all_minor_flags
from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import tenant_context

EVE_OF_SIXTEENTH = datetime.date(2026, 6, 15)
SIXTEENTH_BIRTHDAY = datetime.date(2026, 6, 16)


def _flags(organization) -> dict[str, bool]:
    with tenant_context(organization):
        return {c.first_name: c.is_minor for c in Contact.objects.all()}


def test_flags_follow_the_date_of_birth_in_every_organization(platform_db, org_a, org_b, alice, charlie):
    created = {
        name: create_contact(organization=organization, actor=actor, data={"first_name": name, "date_of_birth": born})
        for organization, actor, name, born in (
            (org_a, alice, "Turning", datetime.date(2010, 6, 16)),
            (org_a, alice, "Adult", datetime.date(1980, 1, 1)),
            (org_a, alice, "Unknown", None),
            (org_b, charlie, "Child", datetime.date(2016, 3, 1)),
        )
    }
    with tenant_context(org_b):
        # A flag written by a path that skipped the service (or before a rule change) is put right.
        Contact.objects.filter(pk=created["Child"].pk).update(is_minor=False)

    assert refresh_all_minor_flags(today=EVE_OF_SIXTEENTH) == 2
    assert _flags(org_a) == {"Turning": True, "Adult": False, "Unknown": False}
    assert _flags(org_b) == {"Child": True}
    assert refresh_all_minor_flags(today=EVE_OF_SIXTEENTH) == 0  # idempotent

    assert refresh_all_minor_flags(today=SIXTEENTH_BIRTHDAY) == 1
    assert _flags(org_a) == {"Turning": False, "Adult": False, "Unknown": False}
    assert _flags(org_b) == {"Child": True}

    turning = created["Turning"].pk
    with tenant_context(org_a):
        events = list(AuditEvent.objects.filter(action="contact.minor_flags_refreshed").order_by("pk"))
    assert [e.details["now_minor"] for e in events] == [[turning], []]
    assert [e.details["now_adult"] for e in events] == [[], [turning]]


def test_beat_runs_the_refresh_daily():
    from logicnet.celery import app

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "contacts.refresh_minor_flags")
    assert entry["schedule"].hour == {0} and entry["schedule"].minute == {5}
    app.loader.import_default_modules()
    assert "contacts.refresh_minor_flags" in app.tasks
