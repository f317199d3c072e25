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
    call_command(
        "bench_deals", deals=300, per_stage=40, stage_changes=900, org_deals=60, requests=2, batch_size=100, stdout=out
    )
    text = out.getvalue()
    print(text)
    assert "300 deals: 40 open in each of 5 stages, 0 open in a second pipeline, 100 won and lost" in text
    assert "60 deals: 8 open in each of 5 stages" in text
    assert "seeded 360 deals and 900 stage changes" in text
    pages = (
        "board, first render",
        "column next page",
        "move a card",
        "dashboard, every chart",
        "deal list, first page",
        "deal list, owner filter",
        "deal list, value from",
        "deal list, won",
    )
    for page in pages:
        line = next((line for line in text.splitlines() if line.startswith(page)), None)
        assert line is not None and "HTTP" not in line, text
        figures = line.split()
        # Every page sends as many queries in the small organization as in the big one.
        assert figures[-1] == figures[-4], line
    assert not Organization.objects.filter(slug__startswith=SLUG_PREFIX).exists()
    assert not User.objects.filter(email__endswith=USER_DOMAIN).exists()
