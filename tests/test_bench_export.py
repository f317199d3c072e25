"""`manage.py bench_export` end to end on a tiny data set: it seeds, exports through the job,
prints its figures and removes what it seeded. No timing assertions."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Organization, User
from exports.management.commands.bench_export import SLUG, USER_DOMAIN


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_bench_export_seeds_measures_and_cleans_up(committed_db, settings, tmp_path, file_format):
    settings.EXPORTS_DIR = tmp_path
    out = StringIO()
    call_command("bench_export", contacts=250, batch_size=100, format=file_format, stdout=out)
    text = out.getvalue()
    print(text)
    assert "rows: 250" in text
    assert "rows/s" in text and "peak memory:" in text and "MiB" in text
    assert "1,000,000 contacts take" in text
    assert not Organization.objects.filter(slug=SLUG).exists()
    assert not User.objects.filter(email__endswith=USER_DOMAIN).exists()
    assert not list(tmp_path.rglob("export-*"))
