"""Company pages and services: create, read, edit (with optimistic locking), delete; domain
and phone normalisation; hostile strings; a pinned query count on the detail page."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from activity.models import Task
from contacts.models import Company, CompanyTag, Contact
from contacts.services.companies import (
    StaleCompanyError,
    create_company,
    delete_company,
    normalize_domain,
    update_company,
)
from contacts.services.contacts import create_contact
from contacts.services.custom_fields import create_custom_field
from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role
from tests.factories import make_member, make_user
from tests.shared_fixtures import naughty_strings


def url(name: str, organization, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": organization.slug, **kwargs})


@pytest.fixture
def company(org_a, alice):
    return create_company(organization=org_a, actor=alice, name="Alfa Construct SRL")


@pytest.fixture
def reader(org_a):
    user = make_user("reader@example.com", "Read Only")
    make_member(org_a, user, Role.READ_ONLY)
    return user


def form_data(**overrides) -> dict:
    data = {
        "name": "Beta Logistics SRL",
        "domain": "https://WWW.Beta-Logistics.RO/contact?x=1",
        "industry": "Logistics",
        "size": Company.Size.SMALL,
        "phone": "0721 234 567",
        "address": "Str. Lungă 5\nCluj-Napoca",
        "notes": "Prefers calls in the morning.",
        "tags": "vip, partner , vip",
        "owner": "",
    }
    data.update(overrides)
    return data


# --- services ---------------------------------------------------------------------------------


def test_create_company_with_a_name_only(org_a, alice):
    company = create_company(organization=org_a, actor=alice, name="  Solo SRL ")
    with tenant_context(org_a):
        company = Company.objects.get(pk=company.pk)
        assert company.name == "Solo SRL"
        assert company.created_by == alice
        assert AuditEvent.objects.filter(action="company.created", target_id=str(company.pk)).exists()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("example.com", "example.com"),
        ("https://WWW.Example.COM/about/us?x=1#top", "www.example.com"),
        ("http://user:secret@shop.example.ro:8080/", "shop.example.ro"),
        ("  Example.org.  ", "example.org"),
        ("//cdn.example.net/x", "cdn.example.net"),
        ("https://bücher.de", "xn--bcher-kva.de"),
        ("", ""),
    ],
)
def test_domain_is_normalised_to_its_lowercase_host(typed, stored):
    assert normalize_domain(typed) == stored


@pytest.mark.parametrize(
    "typed", ["not a domain", "localhost", "https://", "<script>.com", "a..b", "[a]", "http://[x.com", "a]b.com"]
)
def test_a_value_without_a_host_is_not_a_domain(typed):
    with pytest.raises(ValidationError):
        normalize_domain(typed)


def test_update_refuses_a_stale_version_and_overwrites_nothing(org_a, alice, bob, company):
    with tenant_context(org_a):
        first = Company.objects.get(pk=company.pk)
        second = Company.objects.get(pk=company.pk)
    update_company(organization=org_a, actor=alice, company=first, data={"industry": "Retail"}, expected_version=1)
    with pytest.raises(StaleCompanyError):
        update_company(organization=org_a, actor=bob, company=second, data={"industry": "Mining"}, expected_version=1)
    with tenant_context(org_a):
        stored = Company.objects.get(pk=company.pk)
    assert (stored.industry, stored.version, stored.updated_by) == ("Retail", 2, alice)


def test_owner_must_be_a_member(org_a, alice, charlie, company):
    with pytest.raises(ValidationError) as caught:
        update_company(organization=org_a, actor=alice, company=company, data={"owner": charlie}, expected_version=1)
    assert "owner" in caught.value.message_dict


# --- pages ------------------------------------------------------------------------------------


def test_create_company_through_the_form(client, org_a, alice, bob):
    client.force_login(alice)
    response = client.post(url("company_create", org_a), form_data(owner=bob.pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(org_a):
        company = Company.objects.get()
        assert response["Location"] == url("company_detail", org_a, company_id=company.pk)
        assert company.name == "Beta Logistics SRL"
        assert company.domain == "www.beta-logistics.ro"
        assert company.phone == "+40721234567"
        assert company.size == Company.Size.SMALL
        assert company.owner == bob
        assert company.address == "Str. Lungă 5\nCluj-Napoca"
        assert sorted(t.name for t in company.tags.all()) == ["partner", "vip"]
        assert company.created_by == alice


def test_detail_shows_every_field_and_the_companys_people(client, org_a, alice, bob, company):
    update_company(
        organization=org_a,
        actor=alice,
        company=company,
        data={
            "domain": "alfa.ro",
            "industry": "Construction",
            "owner": bob,
            "notes": "Big <b>client</b>",
            "tags": ["vip"],
        },
        expected_version=1,
    )
    person = create_contact(organization=org_a, actor=alice, data={"first_name": "Ioana", "last_name": "Pop"})
    with tenant_context(org_a):
        person.company = company
        person.save(update_fields=["company"])
    client.force_login(alice)
    response = client.get(url("company_detail", org_a, company_id=company.pk))
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("Alfa Construct SRL", "alfa.ro", "Construction", "Bob Beta", "vip", "Ioana Pop"):
        assert text in page
    assert "Big &lt;b&gt;client&lt;/b&gt;" in page
    assert "<b>client</b>" not in page


def test_people_on_the_detail_page_are_paginated_by_cursor(client, org_a, alice, company):
    from contacts.views.companies import PEOPLE_PAGE_SIZE

    for n in range(PEOPLE_PAGE_SIZE + 3):
        contact = create_contact(organization=org_a, actor=alice, data={"first_name": f"Person{n:03d}"})
        with tenant_context(org_a):
            contact.company = company
            contact.save(update_fields=["company"])
    client.force_login(alice)
    first = client.get(url("company_detail", org_a, company_id=company.pk))
    people = first.context["people"]
    assert len(people) == PEOPLE_PAGE_SIZE
    assert first.context["next_cursor"]
    second = client.get(url("company_detail", org_a, company_id=company.pk), {"after": first.context["next_cursor"]})
    rest = second.context["people"]
    assert len(rest) == 3
    assert not {p.pk for p in people} & {p.pk for p in rest}
    assert second.context["next_cursor"] is None
    # A tampered cursor is ignored, not a server error.
    assert client.get(url("company_detail", org_a, company_id=company.pk), {"after": "x~y"}).status_code == 200


def test_people_list_follows_contact_visibility(client, org_a, alice, bob, company):
    from contacts.services.custom_fields import update_contact_visibility

    mine = create_contact(organization=org_a, actor=alice, data={"first_name": "Bobs"})
    theirs = create_contact(organization=org_a, actor=alice, data={"first_name": "Alices"})
    with tenant_context(org_a):
        for contact, owner in ((mine, bob), (theirs, alice)):
            contact.company, contact.owner = company, owner
            contact.save(update_fields=["company", "owner"])
    update_contact_visibility(organization=org_a, actor=alice, visibility="own")
    client.force_login(bob)
    response = client.get(url("company_detail", org_a, company_id=company.pk))
    assert [p.pk for p in response.context["people"]] == [mine.pk]


def test_edit_company_through_the_form(client, org_a, alice, company):
    client.force_login(alice)
    edit = url("company_edit", org_a, company_id=company.pk)
    page = client.get(edit)
    assert page.status_code == 200
    assert 'name="version" value="1"' in page.content.decode()
    response = client.post(edit, form_data(name="Alfa Renamed", version=1, tags="new"))
    assert response.status_code == 302
    with tenant_context(org_a):
        stored = Company.objects.get(pk=company.pk)
        assert stored.name == "Alfa Renamed"
        assert stored.version == 2
        assert [t.name for t in stored.tags.all()] == ["new"]
        assert AuditEvent.objects.filter(action="company.updated", target_id=str(company.pk)).exists()


def test_second_of_two_simultaneous_edits_is_told_and_overwrites_nothing(client, org_a, alice, bob, company):
    client.force_login(alice)
    edit = url("company_edit", org_a, company_id=company.pk)
    assert client.post(edit, form_data(name="First Save", version=1)).status_code == 302
    client.force_login(bob)
    response = client.post(edit, form_data(name="Second Save", version=1))
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else changed this company" in page
    assert 'value="Second Save"' in page  # what they typed is still there
    with tenant_context(org_a):
        assert Company.objects.get(pk=company.pk).name == "First Save"


def test_invalid_phone_says_why_and_keeps_the_rest(client, org_a, alice):
    client.force_login(alice)
    response = client.post(url("company_create", org_a), form_data(phone="call me maybe", industry="Kept Industry"))
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["phone"]
    page = response.content.decode()
    assert 'value="Kept Industry"' in page
    assert 'value="call me maybe"' in page
    with tenant_context(org_a):
        assert not Company.objects.exists()


@pytest.mark.parametrize("typed", ["not a domain", "[a]"])
def test_invalid_domain_is_a_form_error(client, org_a, alice, typed):
    client.force_login(alice)
    response = client.post(url("company_create", org_a), form_data(domain=typed))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["domain"]


def test_owner_choices_are_the_organizations_members(client, org_a, org_b, alice, charlie):
    client.force_login(alice)
    response = client.post(url("company_create", org_a), form_data(owner=charlie.pk))
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors


def test_delete_keeps_the_people_and_tasks(client, org_a, alice, company):
    person = create_contact(organization=org_a, actor=alice, data={"first_name": "Kept"})
    with tenant_context(org_a):
        person.company = company
        person.save(update_fields=["company"])
        task = Task.objects.create(organization=org_a, title="Follow up", company=company)
    client.force_login(alice)
    confirm = client.get(url("company_delete", org_a, company_id=company.pk))
    assert confirm.status_code == 200
    assert "One person is linked to this company" in confirm.content.decode()
    response = client.post(url("company_delete", org_a, company_id=company.pk))
    assert response.status_code == 302
    with tenant_context(org_a):
        assert not Company.objects.filter(pk=company.pk).exists()
        assert Contact.objects.get(pk=person.pk).company_id is None
        assert Task.objects.get(pk=task.pk).company_id is None
        assert not CompanyTag.objects.exists()
        assert AuditEvent.objects.filter(action="company.deleted", target_id=str(company.pk)).exists()


def test_delete_company_service_clears_links(org_a, alice, company):
    person = create_contact(organization=org_a, actor=alice, data={"first_name": "Kept"})
    with tenant_context(org_a):
        person.company = company
        person.save(update_fields=["company"])
    delete_company(organization=org_a, actor=alice, company=company)
    with tenant_context(org_a):
        assert Contact.objects.filter(pk=person.pk, company=None).exists()


# --- who may do what --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["company_detail", "company_edit", "company_delete"])
def test_outsider_gets_404(client, org_a, org_b, charlie, company, name):
    client.force_login(charlie)
    assert client.get(url(name, org_a, company_id=company.pk)).status_code == 404
    assert client.post(url(name, org_a, company_id=company.pk), form_data()).status_code == 404
    # Nor through the outsider's own organization.
    assert client.get(url(name, org_b, company_id=company.pk)).status_code == 404
    assert client.post(url(name, org_b, company_id=company.pk), form_data()).status_code == 404
    with tenant_context(org_a):
        assert Company.objects.get(pk=company.pk).name == "Alfa Construct SRL"


def test_outsider_gets_404_on_create(client, org_a, charlie):
    client.force_login(charlie)
    assert client.get(url("company_create", org_a)).status_code == 404


def test_read_only_member_reads_but_cannot_write(client, org_a, reader, company):
    client.force_login(reader)
    assert client.get(url("company_detail", org_a, company_id=company.pk)).status_code == 200
    assert client.post(url("company_create", org_a), form_data()).status_code == 403
    assert client.post(url("company_edit", org_a, company_id=company.pk), form_data(version=1)).status_code == 403
    assert client.post(url("company_delete", org_a, company_id=company.pk)).status_code == 403
    with tenant_context(org_a):
        assert Company.objects.count() == 1
        assert Company.objects.get(pk=company.pk).name == "Alfa Construct SRL"


def test_member_creates_edits_and_deletes(client, org_a, bob):
    client.force_login(bob)
    assert client.post(url("company_create", org_a), form_data()).status_code == 302
    with tenant_context(org_a):
        company = Company.objects.get()
    edit = client.post(url("company_edit", org_a, company_id=company.pk), form_data(name="Changed", version=1))
    assert edit.status_code == 302
    assert client.post(url("company_delete", org_a, company_id=company.pk)).status_code == 302


# --- hostile strings --------------------------------------------------------------------------


def _hostile_strings() -> list[str]:
    picked = naughty_strings()[::5]
    return [line for line in picked if len(line) <= 200]


def test_hostile_strings_round_trip_through_create_and_detail(client, org_a, alice):
    client.force_login(alice)
    for text in _hostile_strings():
        response = client.post(
            url("company_create", org_a),
            form_data(name=text, industry=text[:100], address=text, notes=text, tags="", domain="", phone=""),
        )
        assert response.status_code in (200, 302), (text, response.status_code)
        if response.status_code != 302:
            continue  # refused with a form error (blank, or a NUL character): fine
        detail = client.get(response["Location"])
        assert detail.status_code == 200, text
        page = detail.content.decode()
        name = " ".join(text.split())
        assert escape(name) in page, text
        if "<" in name and len(name) >= 8:
            assert name not in page, f"unescaped: {text!r}"
        edit = client.get(response["Location"] + "edit/")
        assert edit.status_code == 200, text


# --- query count ------------------------------------------------------------------------------


def _company_with(org_a, alice, people: int):
    company = create_company(
        organization=org_a, actor=alice, name=f"Company with {people}", data={"tags": ["a", "b"], "owner": alice}
    )
    for n in range(people):
        contact = create_contact(organization=org_a, actor=alice, data={"first_name": f"P{n}", "job_title": "CEO"})
        with tenant_context(org_a):
            contact.company = company
            contact.save(update_fields=["company"])
    return company


# Session, user, user session, two-factor devices and membership (11), then the page:
# the tenant setting, company, its owner, custom field definitions, one page of people,
# tags, the organization switcher (9). None grows with the number of people.
DETAIL_QUERIES = 20


def test_detail_query_count_is_constant(client, org_a, alice, bob, django_assert_max_num_queries):
    for n, kind in enumerate(("text", "number", "date")):
        create_custom_field(organization=org_a, actor=alice, entity="company", label=f"F{n}", kind=kind)
    small = _company_with(org_a, alice, people=2)
    large = _company_with(org_a, alice, people=30)
    client.force_login(alice)
    client.get(url("company_detail", org_a, company_id=small.pk))  # session and key caches warm
    counts = []
    for company in (small, large):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("company_detail", org_a, company_id=company.pk)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(DETAIL_QUERIES):
        client.get(url("company_detail", org_a, company_id=large.pk))
