"""Refused and failed requests end on pages in the product's layout, in the user's language,
and are logged once, on one line."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.test import Client
from django.urls import reverse

from logicnet.tenancy.roles import Role
from tests.factories import make_member, make_user


@pytest.fixture
def reader(org_a):
    user = make_user("reader@example.com")
    make_member(org_a, user, Role.READ_ONLY)
    return user


def test_a_refused_request_gets_the_layout_and_one_log_line(client, org_a, reader, caplog):
    client.force_login(reader)
    with caplog.at_level(logging.INFO):
        response = client.post(reverse("company_create", kwargs={"org_slug": org_a.slug}), {"name": "X"})
    assert response.status_code == 403
    page = response.content.decode()
    assert 'class="topbar"' in page and "You cannot do this here" in page
    lines = [record for record in caplog.records if record.name == "django.request"]
    assert len(lines) == 1
    assert lines[0].exc_info is None and "Traceback" not in caplog.text


def test_the_refusal_page_speaks_romanian(client, org_a, reader):
    client.force_login(reader)
    response = client.post(
        reverse("company_create", kwargs={"org_slug": org_a.slug}), {"name": "X"}, HTTP_ACCEPT_LANGUAGE="ro"
    )
    assert response.status_code == 403
    assert '<html lang="ro">' in response.content.decode()
    assert "Nu poți face asta aici" in response.content.decode()


def test_an_unknown_page_gets_the_layout(client, alice):
    client.force_login(alice)
    response = client.get("/o/no-such-organization-here/contacts/")
    assert response.status_code == 404
    assert 'class="topbar"' in response.content.decode()
    assert "Page not found" in response.content.decode()


@pytest.mark.urls("tests.failing_urls")
def test_a_server_error_gets_a_page_that_needs_no_context(db, caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR):
        response = client.get("/fails/", secure=True)
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and 'class="topbar"' in page
    assert any(record.exc_info for record in caplog.records if record.name == "django.request")  # kept for 5xx


def test_favicon_is_served(client):
    response = client.get("/favicon.ico", secure=True)
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")


def test_relative_times_never_say_zero_minutes():
    from django.utils import timezone, translation

    from logicnet.templatetags.when import ago

    now = timezone.now()
    assert ago(now) == "just now"
    assert ago(now - datetime.timedelta(minutes=5)) == "5\xa0minutes ago"  # timesince keeps number and unit together
    with translation.override("ro"):
        assert ago(now) == "chiar acum"
