"""`manage.py bench_retention` end to end on a tiny data set: it seeds, sweeps while the
contacts list is requested, checks what went, prints the figures and removes what it seeded.
No timing assertions."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Organization, User
from retention.management.commands.bench_retention import SLUG_PREFIX, USER_DOMAIN


@pytest.mark.django_db(transaction=True)
def test_bench_retention_seeds_sweeps_measures_and_cleans_up(committed_db):
    out = StringIO()
    call_command("bench_retention", contacts=400, organizations=2, expired=0.1, batch_size=50, requests=3, stdout=out)
    text = out.getvalue()
    print(text)  # the figures, with -s

    assert "seeding 400 contacts and 1,200 interactions in 2 organizations" in text
    assert re.search(r"sweep: [\d,]+ rows in [\d.]+s = [\d,]+ rows/s", text), text
    assert "contact: 34" in text  # 20 stale contacts per organization, 3 of them held
    assert "contacts list before the sweep: median" in text
    assert re.search(r"contacts list during the sweep: (median|no request)", text), text
    assert "check: 34 contacts anonymised (expected 34)" in text
    assert "nothing left to do: True" in text

    assert not Organization.objects.filter(slug__startswith=SLUG_PREFIX).exists()
    assert not User.objects.filter(email__endswith=USER_DOMAIN).exists()


@pytest.mark.django_db(transaction=True)
def test_bench_retention_reuses_a_kept_seed_and_sweeps_with_two_workers(committed_db):
    """--keep leaves the seed; --reuse seeds again only what the sweep took (the expired
    rows), so the second sweep has the same work to do; two workers split the organizations."""
    args = {"contacts": 400, "organizations": 2, "expired": 0.1, "batch_size": 50, "requests": 3}
    call_command("bench_retention", keep=True, stdout=StringIO(), **args)
    out = StringIO()
    call_command("bench_retention", reuse=True, sweep_workers=2, stdout=out, **args)
    text = out.getvalue()
    print(text)  # the figures, with -s

    assert "reusing the kept 400 contacts and 1,200 interactions in 2 organizations" in text
    assert "seeding 400" not in text
    assert re.search(r"sweep: [\d,]+ rows in [\d.]+s = [\d,]+ rows/s \(\d+ batches, .*2 worker\(s\)", text), text
    assert "contact: 34" in text and "interaction: 120" in text
    assert "check: 34 contacts anonymised (expected 34)" in text
    assert "nothing left to do: True" in text

    # A different size is not reused: the kept organizations are removed and seeded anew.
    out = StringIO()
    call_command("bench_retention", **{**args, "contacts": 300, "reuse": False}, stdout=out)
    assert "seeding 300 contacts" in out.getvalue()
    assert not Organization.objects.filter(slug__startswith=SLUG_PREFIX).exists()
    assert not User.objects.filter(email__endswith=USER_DOMAIN).exists()
