"""Public per-organization pages (/p/<org_slug>/): no membership, inside the tenant context,
rate-limited per client address and per organization; unknown is a plain 404."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from accounts.models import Organization
from contacts.services.contacts import create_contact
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.public import public_organization_id
from tests.factories import PASSWORD


def privacy_url(organization) -> str:
    return f"/p/{organization.slug}/privacy/"


def test_anyone_sees_the_privacy_page_of_an_organization(client, org_a):
    response = client.get(privacy_url(org_a))
    assert response.status_code == 200
    assert response.templates[0].name == "privacy/public/request_form.html"
    assert "base.html" in {t.name for t in response.templates}
    assert "Privacy at Alpha SRL" in response.content.decode()
    assert "Send the request" in response.content.decode()


def test_privacy_page_is_translated(client, org_a):
    client.cookies["django_language"] = "ro"
    response = client.get(privacy_url(org_a), HTTP_ACCEPT_LANGUAGE="ro")
    assert response.status_code == 200
    assert 'lang="ro"' in response.content.decode()


def test_a_signed_in_outsider_sees_it_too_without_staff_navigation(client, org_a, charlie):
    client.login(email=charlie.email, password=PASSWORD)
    response = client.get(privacy_url(org_a))
    assert response.status_code == 200
    assert response.wsgi_request.organization is None  # not a member's page: no staff menu
    assert response.wsgi_request.public_organization == org_a


def deactivate(organization) -> None:
    # Only the platform role may deactivate an organization (a column privilege): on its own
    # connection, so the tests that call this commit their data (platform_db).
    Organization.objects.using("platform").filter(pk=organization.pk).update(is_active=False)


def test_unknown_or_inactive_organization_is_an_ordinary_404(platform_db, client, org_a, org_b):
    ordinary = client.get("/no-such-page/")
    assert ordinary.status_code == 404
    deactivate(org_b)
    for url in ("/p/no-such-organization/privacy/", privacy_url(org_b)):
        response = client.get(url)
        assert response.status_code == 404
        assert _without_csrf_tokens(response.content) == _without_csrf_tokens(ordinary.content)


def _without_csrf_tokens(page: bytes) -> bytes:
    """The page with its CSRF tokens and the language form's return path blanked: tokens differ
    between any two responses, and the path is the one requested (the 404 page is in the
    product's layout, whose forms carry both)."""
    page = re.sub(rb'"X-CSRFToken": "[^"]*"', b'"X-CSRFToken": ""', page)
    page = re.sub(rb'name="next" type="hidden" value="[^"]*"', b'name="next" type="hidden" value=""', page)
    page = re.sub(rb'type="hidden" name="next" value="[^"]*"', b'type="hidden" name="next" value=""', page)
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b'name="csrfmiddlewaretoken" value=""', page)


def test_the_slug_is_resolved_by_the_narrow_function_as_the_application_role(platform_db, org_a, org_b):
    assert public_organization_id(org_a.slug) == org_a.pk
    assert public_organization_id("no-such-organization") is None
    deactivate(org_b)
    assert public_organization_id(org_b.slug) is None


@pytest.mark.urls("tests.public_urls")
def test_the_view_runs_inside_the_organizations_tenant_context(client, org_a, org_b, alice, charlie):
    with tenant_context(org_a):
        create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "ana@example.com"})
    with tenant_context(org_b):
        create_contact(organization=org_b, actor=charlie, data={"first_name": "Ana", "email": "ana@example.com"})
    data = client.get(f"/p/{org_a.slug}/probe/").json()
    assert data == {
        "active": org_a.pk,
        "public": org_a.pk,
        "member_organization": None,
        "contact_organizations": [org_a.pk],
    }


@pytest.mark.urls("tests.public_urls")
def test_a_page_not_marked_public_still_needs_a_membership(client, org_a, charlie):
    response = client.get(f"/p/{org_a.slug}/unmarked/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    client.login(email=charlie.email, password=PASSWORD)
    assert client.get(f"/p/{org_a.slug}/unmarked/").status_code == 404


@override_settings(PUBLIC_RATE_LIMITS={"client": "3/h", "organization": "100/h"})
def test_one_client_address_is_limited(client, org_a, org_b):
    first = "192.0.2.1"
    for url in (privacy_url(org_a), "/p/guessed-slug/privacy/", privacy_url(org_b)):
        assert client.get(url, REMOTE_ADDR=first).status_code in (200, 404)
    refused = client.get(privacy_url(org_a), REMOTE_ADDR=first)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Too many requests" in refused.content.decode()
    # Slug guessing is counted before the lookup, so it is refused as well.
    assert client.get("/p/another-guess/privacy/", REMOTE_ADDR=first).status_code == 429
    assert client.get(privacy_url(org_a), REMOTE_ADDR="192.0.2.2").status_code == 200


@override_settings(PUBLIC_RATE_LIMITS={"client": "100/h", "organization": "3/h"})
def test_one_organization_is_limited_across_addresses(client, org_a, org_b):
    for n in range(3):
        assert client.get(privacy_url(org_a), REMOTE_ADDR=f"192.0.2.{10 + n}").status_code == 200
    assert client.get(privacy_url(org_a), REMOTE_ADDR="192.0.2.20").status_code == 429
    # Another organization's portal is not starved by the first one's flood.
    assert client.get(privacy_url(org_b), REMOTE_ADDR="192.0.2.20").status_code == 200


def test_members_pages_are_not_counted_against_public_limits(client, org_a, alice):
    client.login(email=alice.email, password=PASSWORD)
    with override_settings(PUBLIC_RATE_LIMITS={"client": "1/h", "organization": "1/h"}):
        for _ in range(3):
            assert client.get(f"/o/{org_a.slug}/").status_code == 200
        assert client.get(privacy_url(org_a)).status_code == 200
        assert client.get(privacy_url(org_a)).status_code == 429
