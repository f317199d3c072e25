"""`manage.py bench` (encryption, list-page decryption, lookups, prefix search, what a dump
shows) end to end on a tiny data set, and measuring data another benchmark kept. No timing
assertions: the figures are printed, the answers are checked."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Organization
from contacts.management.commands import bench, bench_crm


def figures(text: str) -> None:
    for line in (
        "encrypt a six-field contact",
        "50-row list page among",
        "lookup by email among",
        "lookup by phone among",
        "prefix search, first 25 among",
        "EXPLAIN email lookup: index used: yes",
        "EXPLAIN phone lookup: index used: yes",
        "dump, name tokens:",
    ):
        assert line in text, f"no {line!r} in:\n{text}"
    # Every sampled contact is found again by its own email and phone, whatever its id.
    assert re.findall(r"wrong answers: (\d+)", text) == ["0", "0"], text


@pytest.mark.django_db(transaction=True)
def test_bench_seeds_measures_and_cleans_up(committed_db):
    out = StringIO()
    call_command("bench", contacts=400, other_contacts=50, lookups=20, batch_size=100, stdout=out)
    text = out.getvalue()
    print(text)
    figures(text)
    assert "lookup by email among 400: " in text
    assert not Organization.objects.filter(slug__startswith=bench.SLUG_PREFIX).exists()


@pytest.mark.django_db(transaction=True)
def test_bench_measures_the_organization_bench_crm_kept(committed_db):
    call_command("bench_crm", contacts=200, other_contacts=20, requests=2, keep=True, stdout=StringIO())
    out = StringIO()
    call_command("bench", reuse=True, organization=f"{bench_crm.SLUG_PREFIX}main", lookups=20, stdout=out)
    text = out.getvalue()
    print(text)
    assert f"reusing the 200 contacts kept in {bench_crm.SLUG_PREFIX}main" in text
    figures(text)
    call_command("bench_crm", reuse=True, requests=1, stdout=StringIO())  # without --keep: removes its data
    assert not Organization.objects.filter(slug__startswith=bench_crm.SLUG_PREFIX).exists()
