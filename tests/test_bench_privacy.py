"""`manage.py bench_privacy` end to end on a tiny data set: it seeds, prints its three
figures with their targets, erases the subject completely and removes what it seeded. No
timing assertions."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Organization
from contacts.management.commands.bench_crm import SLUG_PREFIX


@pytest.mark.django_db(transaction=True)
def test_bench_privacy_measures_and_cleans_up(platform_db, settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"
    out = StringIO()
    call_command("bench_privacy", contacts=200, other_contacts=10, requests=5, batch_size=100, stdout=out)
    text = out.getvalue()
    print(text)
    for figure in ("identity match p95", "access package", "erasure"):
        line = next((line for line in text.splitlines() if line.startswith(figure)), None)
        assert line is not None and "<" in line, text
    assert "WARNING" not in text  # every lookup found its person
    assert "after erasure: 0 participations and 0 further emails/phones left" in text
    assert not Organization.objects.filter(slug__startswith=SLUG_PREFIX).exists()
