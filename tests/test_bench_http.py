"""`manage.py bench_http` end to end on a tiny data set: it seeds, starts gunicorn, loads
every page over a real socket at two concurrencies, prints the figures and removes what it
seeded. No timing assertions: only that every page answered and was measured."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Organization, User
from contacts.management.commands.bench_crm import SLUG_PREFIX, USER_DOMAIN


@pytest.mark.django_db(transaction=True)
def test_bench_http_serves_every_page_over_gunicorn(committed_db):
    out = StringIO()
    call_command(
        "bench_http",
        contacts=300,
        batch_size=100,
        seconds=1.0,
        max_requests=20,
        concurrency="1,2",
        workers=2,
        stdout=out,
    )
    text = out.getvalue()
    print(text)  # the table, with -s

    assert "gunicorn: 2 sync workers" in text
    for page in (
        "contacts list, first page",
        "contacts list, deep page",
        "search-as-you-type, 3 letters",
        "exact email lookup",
        "contact detail + its timeline",
    ):
        rows = [line for line in text.splitlines() if line.startswith(page)]
        assert len(rows) == 2, f"expected a row per concurrency for {page!r} in:\n{text}"
        for row in rows:
            # clients, req/s, p50, p95, p99, KiB, errors: measured, and no request failed.
            assert re.search(r"\s[12]\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d\s+0\s", row), row

    assert not Organization.objects.filter(slug__startswith=SLUG_PREFIX).exists()
    assert not User.objects.filter(email__endswith=USER_DOMAIN).exists()
