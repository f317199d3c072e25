"""manage.py bench_import at a tiny size: it imports its generated file through the bulk
writers (created, updated and duplicate rows as generated), compares with
django-import-export, prints the figures and removes everything it made."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Organization, User
from contacts.management.commands import bench_import


@pytest.mark.django_db(transaction=True)
def test_bench_import_imports_compares_and_cleans_up(committed_db):
    out = StringIO()
    call_command("bench_import", rows=300, existing=200, batch_size=100, overlap=0.2, stdout=out)
    text = out.getvalue()
    print(text)
    found = re.search(
        r"bulk import: 300 rows in [\d.]+s = [\d,]+ rows/s .*created ([\d,]+), updated ([\d,]+), "
        r"skipped ([\d,]+), failed 0",
        text,
    )
    assert found, text
    created, updated, skipped = (int(n.replace(",", "")) for n in found.groups())
    assert created + updated + skipped == 300 and updated > 0 and created > 200
    assert re.search(r"ratio: the bulk import is [\d.]+x django-import-export", text)
    assert "peak memory" in text
    assert not Organization.objects.filter(slug__startswith=bench_import.SLUG_PREFIX).exists()
    assert not User.objects.filter(email__startswith=bench_import.SLUG_PREFIX).exists()
