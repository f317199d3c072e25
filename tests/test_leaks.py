"""Personal data outside the encrypted columns (issue 7, "less leaks"): caches, request
logs and export files."""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.exports import MEMBER_EXPORT, delete_expired_exports, export_path
from logicnet import gunicorn_config
from logicnet.jobs.models import Job
from logicnet.jobs.services import execute_job, start_job
from logicnet.no_store import NoStoreMiddleware
from logicnet.tenancy.context import tenant_context

# --- Cache-Control -------------------------------------------------------------------------------


def test_signed_in_pages_are_never_stored(client, alice, org_a):
    client.force_login(alice)
    for name in ("dashboard", "contact_list", "company_list", "members"):
        response = client.get(reverse(name, args=[org_a.slug]))
        assert response.status_code == 200, name
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives, name
    # htmx partials and redirects too: a proxy must not keep any of them.
    search = client.post(reverse("crm_search", args=[org_a.slug]), {"q": "al"}, headers={"HX-Request": "true"})
    assert "no-store" in search["Cache-Control"]
    assert "no-store" in client.get(reverse("contact_create", args=[org_a.slug]))["Cache-Control"]


def test_anonymous_pages_are_not_stored_either_but_static_files_keep_their_caching(client, db):
    assert "no-store" in client.get(reverse("account_login"))["Cache-Control"]

    def static_file(request):
        response = HttpResponse("body {}")
        response["Cache-Control"] = "max-age=31536000, public, immutable"
        return response

    response = NoStoreMiddleware(static_file)(RequestFactory().get(f"{settings.STATIC_URL}css/app.css"))
    assert response["Cache-Control"] == "max-age=31536000, public, immutable"
    # A view's own weaker caching does not survive on a dynamic page.
    response = NoStoreMiddleware(static_file)(RequestFactory().get("/o/acme/contacts/"))
    assert response["Cache-Control"] == "no-store, private"


# --- request logs --------------------------------------------------------------------------------


def test_runserver_access_lines_leave_query_strings_out():
    """django.server is the logger of `manage.py runserver`: its request line is the first
    argument, as WSGIRequestHandler.log_message passes it."""
    logger = logging.getLogger("django.server")
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.info('"%s" %s %s', "GET /o/acme/search/?q=ana.popescu%40example.ro HTTP/1.1", "200", "5120")
        logger.warning('"%s" %s %s', "GET /o/acme/contacts/?company_name=Popescu&sort=-created HTTP/1.1", "404", "0")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines == ['"GET /o/acme/search/ HTTP/1.1" 200 5120', '"GET /o/acme/contacts/ HTTP/1.1" 404 0']


def test_gunicorn_access_lines_record_the_path_only():
    fmt = gunicorn_config.access_log_format
    assert "%(U)s" in fmt
    # %(r)s is the request line with its query string, %(q)s the query string, %(f)s the
    # referrer (another page's full URL).
    assert not {"%(r)s", "%(q)s", "%(f)s", "%({raw_uri}e)s"} & set(_atoms(fmt))
    compose = (Path(settings.BASE_DIR) / "docker-compose.yml").read_text()
    assert "--config python:logicnet.gunicorn_config" in compose
    assert "python:logicnet.gunicorn_config" in (Path(settings.BASE_DIR) / "Dockerfile").read_text()


def _atoms(fmt: str) -> list[str]:
    import re

    return re.findall(r"%\([^)]*\)s", fmt)


# --- export files --------------------------------------------------------------------------------


def _finished_export(org, actor) -> Job:
    job = start_job(organization=org, actor=actor, kind=MEMBER_EXPORT)
    execute_job(organization_id=org.pk, job_id=job.pk, final_attempt=True)
    with tenant_context(org):
        job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    return job


def test_an_export_file_is_deleted_after_its_retention_and_the_page_says_when(client, alice, org_a):
    job = _finished_export(org_a, alice)
    path = export_path(job)
    assert path.exists()
    client.force_login(alice)
    page = client.get(reverse("job_detail", args=[org_a.slug, job.pk])).content.decode()
    assert "it is deleted on" in page
    assert reverse("job_download", args=[org_a.slug, job.pk]) in page

    # The sweep leaves a fresh file alone and deletes it once its retention has passed.
    delete_expired_exports()
    assert path.exists()
    later = time.time() + settings.EXPORT_RETENTION.total_seconds() + 60
    assert delete_expired_exports(now=later) >= 1
    assert not path.exists()
    assert client.get(reverse("job_download", args=[org_a.slug, job.pk])).status_code == 404
    page = client.get(reverse("job_detail", args=[org_a.slug, job.pk])).content.decode()
    assert "The file was deleted when its retention ended" in page


def test_an_expired_export_is_not_served_even_before_the_sweep_ran(client, alice, org_a):
    job = _finished_export(org_a, alice)
    with tenant_context(org_a):
        Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - settings.EXPORT_RETENTION - timedelta(1))
    client.force_login(alice)
    assert export_path(job).exists()
    assert client.get(reverse("job_download", args=[org_a.slug, job.pk])).status_code == 404


def test_the_sweep_is_scheduled_and_deletes_abandoned_partial_files(tmp_path, settings):
    assert settings.CELERY_BEAT_SCHEDULE["delete-expired-exports"]["task"] == "accounts.delete_expired_exports"
    settings.EXPORTS_DIR = tmp_path
    (tmp_path / "7").mkdir()
    old = tmp_path / "7" / "job-3.attempt-1.partial"
    old.write_text("name,email\n")
    fresh = tmp_path / "7" / "job-4.csv"
    fresh.write_text("name,email\n")
    past = time.time() - settings.EXPORT_RETENTION.total_seconds() - 60
    os.utime(old, (past, past))
    assert delete_expired_exports() == 1
    assert not old.exists() and fresh.exists()


# --- migrations that encrypt what was plaintext --------------------------------------------------


def _run_as_owner(function) -> None:
    """A data migration's function, run as `migrate` runs it: as the owner role, atomically."""
    from types import SimpleNamespace

    from django.db import connection, transaction

    from tests.conftest import use_database_role

    use_database_role("owner")
    try:
        with transaction.atomic():
            function(None, SimpleNamespace(connection=connection))
    finally:
        use_database_role("app")


def test_the_migrations_encrypt_existing_plaintext_values(committed_db, alice, org_a, org_b, charlie):
    import importlib

    from django.db import connection

    from contacts.models import Contact, SavedView
    from contacts.services.contacts import create_contact
    from contacts.services.views import create_saved_view

    ours = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana"})
    theirs = create_contact(organization=org_b, actor=charlie, data={"first_name": "Bogdan"})
    view = create_saved_view(organization=org_a, actor=alice, entity="contact", name="V", params={"status": ["lead"]})
    # The rows as they were before: the values in plaintext columns.
    for organization, contact, detail in ((org_a, ours, "Legacy fair"), (org_b, theirs, "Old import")):
        with tenant_context(organization), connection.cursor() as cursor:
            cursor.execute("UPDATE contacts_contact SET source_detail = %s WHERE id = %s", [detail, contact.pk])
    with tenant_context(org_a), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE contacts_savedview SET params = %s::jsonb WHERE id = %s",
            ['{"company_name": ["Alfa"], "status": ["lead"]}', view.pk],
        )

    _run_as_owner(
        importlib.import_module(
            "contacts.migrations.0005_encrypt_contact_source_detail"
        ).encrypt_existing_source_details
    )
    _run_as_owner(importlib.import_module("contacts.migrations.0006_saved_view_personal_params").move_personal_filters)

    for organization, contact, detail in ((org_a, ours, "Legacy fair"), (org_b, theirs, "Old import")):
        with tenant_context(organization):
            assert Contact.objects.get(pk=contact.pk).source_detail == detail
            with connection.cursor() as cursor:
                cursor.execute("SELECT source_detail FROM contacts_contact WHERE id = %s", [contact.pk])
                assert detail not in cursor.fetchone()[0]
    with tenant_context(org_a):
        moved = SavedView.objects.get(pk=view.pk)
        assert moved.params == {"status": ["lead"]}
        assert moved.personal_params == {"company_name": ["Alfa"]}
    # Row security is forced again on the tables the migrations opened.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relname IN ('contacts_contact', 'contacts_savedview') "
            "AND relforcerowsecurity"
        )
        assert cursor.fetchone()[0] == 2
