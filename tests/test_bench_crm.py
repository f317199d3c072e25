"""`manage.py bench_crm` end to end on a tiny data set: it seeds, prints every figure and
removes what it seeded. No timing assertions."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Organization, User
from contacts.management.commands.bench_crm import SLUG_PREFIX, USER_DOMAIN


@pytest.mark.django_db(transaction=True)
def test_bench_crm_seeds_measures_and_cleans_up(committed_db):
    out = StringIO()
    call_command("bench_crm", contacts=300, requests=3, batch_size=100, stdout=out)
    text = out.getvalue()
    print(text)  # the table, with -s

    assert "300 contacts, 30 companies, 900 interactions" in text
    assert "small organization benchcrm-other-1: 100 contacts" in text
    assert "contacts (with" in text and "/s" in text  # seeding rates
    assert "ciphertext" in text and "plaintext" in text
    for page in (
        "contacts list, first page",
        "contacts list, deep page",
        "list filtered by tag and owner",
        "search-as-you-type, 3 letters",
        "contact detail (200 interactions)",
        "its timeline (htmx, first page)",
    ):
        line = next((line for line in text.splitlines() if line.startswith(page)), None)
        assert line is not None, f"no line for {page!r} in:\n{text}"
        # Measured: a p95, a median and equal query counts in the small and the big organization.
        assert "not measured" not in line and "HTTP " not in line, line
        assert re.search(r"\s(\d+)/\1\s", line), line
    assert "plain (unencrypted) baseline" in text

    assert not Organization.objects.filter(slug__startswith=SLUG_PREFIX).exists()
    assert not User.objects.filter(email__endswith=USER_DOMAIN).exists()


@pytest.mark.django_db(transaction=True)
def test_bench_crm_keep_then_reuse(committed_db):
    call_command("bench_crm", contacts=200, other_contacts=20, requests=2, keep=True, stdout=StringIO())
    assert Organization.objects.filter(slug=f"{SLUG_PREFIX}main").exists()

    out = StringIO()
    call_command("bench_crm", reuse=True, requests=2, stdout=out)
    assert "reusing the data kept in benchcrm-main" in out.getvalue()
    assert "200 contacts, 20 companies, 600 interactions" in out.getvalue()
    assert not Organization.objects.filter(slug__startswith=SLUG_PREFIX).exists()
