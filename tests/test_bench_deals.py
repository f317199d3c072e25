"""`manage.py bench_deals` end to end on a tiny data set: it seeds, prints every figure and
removes what it seeded. No timing assertions."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Organization, User
from deals.management.commands.bench_deals import SLUG_PREFIX, USER_DOMAIN


@pytest.mark.django_db(transaction=True)
def test_bench_deals_seeds_measures_and_cleans_up(committed_db):
    out = StringIO()
    call_command("bench_deals", deals=300, hot=120, requests=2, batch_size=100, stdout=out)
    text = out.getvalue()
    print(text)
    assert "seeding 300 open deals, 120 of them in Lead" in text
    for page in ("board, first render", "column next page", "move a card"):
        line = next((line for line in text.splitlines() if line.startswith(page)), None)
        assert line is not None and "HTTP" not in line, text
    assert not Organization.objects.filter(slug__startswith=SLUG_PREFIX).exists()
    assert not User.objects.filter(email__endswith=USER_DOMAIN).exists()
