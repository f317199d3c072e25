"""The header search: one box over people (name prefix, exact email, exact phone in any
common writing) and companies (name prefix), as an htmx partial and as a plain page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import Organization
from contacts.models import Company, Contact, ContactShare
from contacts.selectors_lists import query_shape
from contacts.services.contacts import create_contact
from logicnet.tenancy.context import tenant_context
from tests.shared_fixtures import naughty_strings

HTMX = {"HTTP_HX_REQUEST": "true"}
OPTION = re.compile(r'role="option"[^>]*>\s*<span class="search-name">([^<]*)</span>')


def search(client, org, q, htmx=True):
    return client.post(reverse("crm_search", kwargs={"org_slug": org.slug}), {"q": q}, **(HTMX if htmx else {}))


def names(response) -> list[str]:
    return OPTION.findall(response.content.decode())


@pytest.fixture
def people(alice, org_a, org_b, charlie):
    def make(org, actor, first, last, **data):
        return create_contact(organization=org, actor=actor, data={"first_name": first, "last_name": last, **data})

    found = {
        "stefan": make(org_a, alice, "Ștefan", "Țurcanu", email="Stefan.Turcanu@Example.ro", phone="0721 234 567"),
        "ana": make(org_a, alice, "Ana", "Popescu", email="ana@example.com", phone="+40 744 000 111"),
        "andrei": make(org_a, alice, "Andrei", "Pop"),
        # Organization B has a look-alike: it must never show up in A.
        "foreign": make(org_b, charlie, "Ștefan", "Țurcanu", email="stefan.turcanu@example.ro", phone="0721234567"),
    }
    with tenant_context(org_a):
        found["company"] = Company.objects.create(organization=org_a, name="Științe Aplicate SRL", domain="stiinte.ro")
    return found


@pytest.mark.parametrize(
    ("query", "shape"),
    [
        ("ana@example.com", "email"),
        ("@example", "email"),
        ("0721 234 567", "phone"),
        ("+40 (721) 234-567", "phone"),
        ("0721.234.567", "phone"),
        ("ana", "name"),
        ("Str. 12", "name"),
        ("12", "name"),
    ],
)
def test_the_query_shape_decides_the_search(query, shape):
    assert query_shape(query) == shape


@pytest.mark.parametrize("query", ["stef", "ȘTEF", "Ştef", "tur", "țurc", "ste tur"])
def test_name_prefix_ignores_case_and_diacritics(client, alice, org_a, people, query):
    client.force_login(alice)
    response = search(client, org_a, query)
    assert response.status_code == 200
    assert names(response) == ["Ștefan Țurcanu"]
    href = re.search(r'role="option" aria-selected="false" href="([^"]*)"', response.content.decode()).group(1)
    assert href == "#" or href.endswith(f"/contacts/{people['stefan'].pk}/")


def test_companies_are_found_by_name_prefix(client, alice, org_a, people):
    client.force_login(alice)
    body = search(client, org_a, "stiin").content.decode()
    assert "Științe Aplicate SRL" in body
    assert "stiinte.ro" in body
    # People and companies together, people first.
    assert names(search(client, org_a, "pop")) == ["Andrei Pop", "Ana Popescu"]


@pytest.mark.parametrize(
    "query", ["stefan.turcanu@example.ro", "STEFAN.TURCANU@EXAMPLE.RO", "  Stefan.Turcanu@example.ro  "]
)
def test_exact_email_in_any_case(client, alice, org_a, people, query):
    client.force_login(alice)
    assert names(search(client, org_a, query)) == ["Ștefan Țurcanu"]


def test_partial_email_is_not_a_prefix_search(client, alice, org_a, people):
    client.force_login(alice)
    response = search(client, org_a, "stefan.turcanu@")
    assert names(response) == []
    assert "No contact has this email address." in response.content.decode()


@pytest.mark.parametrize("query", ["0721 234 567", "+40 721 234 567", "+40721234567", "0721-234-567", "(0721) 234.567"])
def test_exact_phone_in_any_common_format(client, alice, org_a, people, query):
    client.force_login(alice)
    assert names(search(client, org_a, query)) == ["Ștefan Țurcanu"]


def test_short_query_returns_nothing(client, alice, org_a, people):
    client.force_login(alice)
    response = search(client, org_a, "s")
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_partial_is_a_keyboard_navigable_listbox(client, alice, org_a, people):
    client.force_login(alice)
    body = search(client, org_a, "an").content.decode()
    assert "<html" not in body  # the partial alone for htmx
    assert 'role="listbox"' in body
    assert body.count('role="option"') == 2
    ids = re.findall(r'id="(crm-search-option-[^"]+)"', body)
    assert len(ids) == len(set(ids)) == 2


def test_without_javascript_the_form_opens_a_results_page(client, alice, org_a, people):
    client.force_login(alice)
    page = client.get(reverse("contact_list", kwargs={"org_slug": org_a.slug})).content.decode()
    search_url = reverse("crm_search", kwargs={"org_slug": org_a.slug})
    assert f'action="{search_url}"' in page
    assert 'hx-trigger="input changed delay:150ms' in page
    assert 'role="combobox"' in page
    assert "js/search.js" in page
    response = search(client, org_a, "ana", htmx=False)
    body = response.content.decode()
    assert "<html" in body and "Ana Popescu" in body
    assert 'value="ana"' in body
    assert "Type at least two characters." in search(client, org_a, "", htmx=False).content.decode()


def test_the_query_never_travels_in_a_url(client, alice, org_a, people):
    """A name, email or phone in a query string reaches access logs, history and Referer
    headers: the box POSTs it, and a GET with `q` (an old bookmark) searches nothing."""
    client.force_login(alice)
    page = client.get(reverse("contact_list", kwargs={"org_slug": org_a.slug})).content.decode()
    form = re.search(r'<form class="headersearch"[^>]*>', page).group(0)
    assert 'method="post"' in form
    assert 'hx-post="' in page and 'name="csrfmiddlewaretoken"' in page
    response = client.get(reverse("crm_search", kwargs={"org_slug": org_a.slug}), {"q": "ana"})
    assert response.status_code == 200
    assert "Ana Popescu" not in response.content.decode()
    search_page = re.search(r'<form class="card"[^>]*role="search"', response.content.decode()).group(0)
    assert 'method="post"' in search_page


def test_own_visibility_hides_other_peoples_contacts(client, alice, bob, org_a, people):
    with tenant_context(org_a):  # only the active organization's row can change
        Organization.objects.filter(pk=org_a.pk).update(contact_visibility=Organization.ContactVisibility.OWN)
    with tenant_context(org_a):
        Contact.objects.filter(pk=people["andrei"].pk).update(owner=bob)
        ContactShare.objects.create(organization=org_a, contact=people["ana"], user=bob)
    client.force_login(bob)
    assert names(search(client, org_a, "pop")) == ["Andrei Pop", "Ana Popescu"]
    assert names(search(client, org_a, "stef")) == []
    assert names(search(client, org_a, "stefan.turcanu@example.ro")) == []
    assert names(search(client, org_a, "0721 234 567")) == []
    # Companies are not restricted by contact visibility.
    assert "Științe Aplicate SRL" in search(client, org_a, "stiin").content.decode()


def test_outsider_gets_404_and_sees_nothing_of_a(client, charlie, org_a, org_b, people):
    client.force_login(charlie)
    assert search(client, org_a, "stef").status_code == 404
    assert search(client, org_a, "stef", htmx=False).status_code == 404
    # In its own organization, only its own look-alike.
    response = search(client, org_b, "stefan.turcanu@example.ro")
    assert names(response) == ["Ștefan Țurcanu"]
    assert str(people["stefan"].pk) not in re.findall(r"crm-search-option-c(\d+)", response.content.decode())
    body = search(client, org_b, "stiin").content.decode()
    assert "Științe" not in body and "No people or companies found." in body


def test_hostile_queries_are_escaped(client, alice, org_a, people):
    client.force_login(alice)
    create_contact(organization=org_a, actor=alice, data={"first_name": "<script>alert(1)</script>", "last_name": "X"})
    body = search(client, org_a, "script").content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)" in body
    for text in naughty_strings()[:120]:
        for htmx in (True, False):
            response = search(client, org_a, text, htmx=htmx)
            assert response.status_code == 200, text
            assert "<script>alert(" not in response.content.decode().replace("<script src=", ""), text
