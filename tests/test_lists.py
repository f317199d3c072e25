"""Contacts and companies lists: filters, sort, keyset pagination, query counts, saved views,
bulk actions, visibility, and the outsider's 404 on every URL of the lists."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.db.models import F
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization
from contacts import selectors_lists
from contacts.models import Company, Contact, ContactShare, ContactTag, CustomField, SavedView, Tag
from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role
from tests.factories import make_member, make_user
from tests.shared_fixtures import naughty_strings

ROW_ID = re.compile(r'name="ids" value="(\d+)"')


def make_contact(org, actor, first="Ana", last="Pop", **plain) -> Contact:
    """Through the real service for the encrypted fields; plain columns set afterwards."""
    data = {"first_name": first, "last_name": last}
    for key in ("email", "phone"):
        if key in plain:
            data[key] = plain.pop(key)
    contact = create_contact(organization=org, actor=actor, data=data)
    tags = plain.pop("tags", [])
    if plain or tags:
        with tenant_context(org):
            if plain:
                Contact.objects.filter(pk=contact.pk).update(**plain)
            for tag in tags:
                ContactTag.objects.create(organization=org, contact=contact, tag=tag)
            contact.refresh_from_db()
    return contact


def make_company(org, name="Alfa SRL", **plain) -> Company:
    with tenant_context(org):
        return Company.objects.create(organization=org, name=name, **plain)


def make_tag(org, name) -> Tag:
    with tenant_context(org):
        return Tag.objects.create(organization=org, name=name)


def list_url(org, name="contact_list") -> str:
    return reverse(name, kwargs={"org_slug": org.slug})


def listed_ids(response) -> list[int]:
    return [int(pk) for pk in ROW_ID.findall(response.content.decode())]


@pytest.fixture
def reader(org_a):
    user = make_user("reader@example.com", "Read Only")
    make_member(org_a, user, Role.READ_ONLY)
    return user


# --- the list and its filters -------------------------------------------------------------------


def test_contact_list_shows_rows_with_their_columns(client, alice, org_a):
    company = make_company(org_a, "Ștefănescu Consulting")
    vip = make_tag(org_a, "vip")
    make_contact(org_a, alice, "Ștefan", "Ionescu", email="stefan@example.ro", company=company, tags=[vip])
    client.force_login(alice)
    response = client.get(list_url(org_a))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ștefan Ionescu" in body
    assert "stefan@example.ro" in body
    assert "Ștefănescu Consulting" in body
    assert ">vip<" in body
    assert "cannot sort by them" in body  # why there is no name sort


def test_empty_list_says_so(client, alice, org_a):
    client.force_login(alice)
    body = client.get(list_url(org_a)).content.decode()
    assert "No contacts yet." in body
    body = client.get(list_url(org_a), {"status": "customer"}).content.decode()
    assert "No contacts match these filters." in body


def test_filters_by_tag_owner_status_and_company(client, alice, bob, org_a):
    vip, new = make_tag(org_a, "vip"), make_tag(org_a, "new")
    company = make_company(org_a)
    both = make_contact(org_a, alice, "Both", "Tags", tags=[vip, new])
    only_vip = make_contact(org_a, alice, "Only", "Vip", tags=[vip])
    bobs = make_contact(org_a, alice, "Owned", "Bybob", owner=bob, status="customer")
    at_company = make_contact(org_a, alice, "Works", "There", company=company, status="customer")
    client.force_login(alice)
    assert set(listed_ids(client.get(list_url(org_a), {"tag": [vip.pk]}))) == {both.pk, only_vip.pk}
    assert listed_ids(client.get(list_url(org_a), {"tag": [vip.pk, new.pk]})) == [both.pk]
    assert listed_ids(client.get(list_url(org_a), {"owner": bob.pk})) == [bobs.pk]
    assert set(listed_ids(client.get(list_url(org_a), {"status": "customer"}))) == {bobs.pk, at_company.pk}
    assert listed_ids(client.get(list_url(org_a), {"company": company.pk})) == [at_company.pk]
    assert listed_ids(client.get(list_url(org_a), filtered_by_company_name(client, org_a, "alf"))) == [at_company.pk]
    assert listed_ids(client.get(list_url(org_a), {"status": "customer", "owner": bob.pk})) == [bobs.pk]


def filtered_by_company_name(client, org, name: str, **more) -> QueryDict:
    """POSTs the filter form as the browser does; returns the query string of the list it
    redirects to."""
    response = client.post(list_url(org), {"company_name": name, **more})
    assert response.status_code == 302
    assert response["Location"].startswith(list_url(org) + "?")
    return QueryDict(urlsplit(response["Location"]).query)


def test_a_company_name_filter_never_travels_in_a_url(client, alice, org_a, org_b, charlie):
    """The name is POSTed and comes back as an opaque token (sealed with the organization's
    key): access logs, history and Referer headers never see it."""
    company = make_company(org_a)
    at_company = make_contact(org_a, alice, "Works", "There", company=company, status="customer")
    make_contact(org_a, alice, "Elsewhere", "Too", status="customer")
    client.force_login(alice)
    query = filtered_by_company_name(client, org_a, "alf", status="customer", col=["email"])
    assert "alfa" not in query.urlencode().lower()
    assert set(query) == {"company_q", "status", "col"}
    page = client.get(list_url(org_a), query)
    assert listed_ids(page) == [at_company.pk]
    body = page.content.decode()
    assert 'value="alf"' in body  # the form shows it back (in the page, not the URL)
    assert "company_name=" not in body  # neither the pager nor the saved-view form carries it
    assert re.search(r'<form class="card list-filters" method="post"', body)
    # A plain company_name in a URL (an old bookmark) filters nothing.
    assert len(listed_ids(client.get(list_url(org_a), {"company_name": "alf"}))) == 2
    # Another organization cannot open the token: the filter is dropped, not applied.
    client.force_login(charlie)
    assert client.get(list_url(org_b), query).status_code == 200
    assert 'value="alf"' not in client.get(list_url(org_b), query).content.decode()


def test_a_saved_view_keeps_its_company_name_filter_encrypted(client, alice, org_a):
    company = make_company(org_a)
    at_company = make_contact(org_a, alice, "Works", "There", company=company)
    make_contact(org_a, alice, "Elsewhere", "Too")
    client.force_login(alice)
    query = filtered_by_company_name(client, org_a, "Alfa", status="lead")
    save = reverse("contact_view_save", kwargs={"org_slug": org_a.slug})
    response = client.post(save, {"entity": "contact", "name": "Alfa people", "query": query.urlencode()})
    assert response.status_code == 302 and "Alfa" not in response["Location"]
    with tenant_context(org_a):
        view = SavedView.objects.get(name="Alfa people")
        assert view.params == {"status": ["lead"]}
        assert view.personal_params == {"company_name": ["Alfa"]}
    with tenant_context(org_a), connection.cursor() as cursor:
        cursor.execute("SELECT params::text, personal_params FROM contacts_savedview WHERE id = %s", [view.pk])
        stored = " ".join(cursor.fetchone())
    assert "Alfa" not in stored and "alfa" not in stored.lower()
    # Opening the view applies the filter again through a fresh token.
    body = client.get(list_url(org_a)).content.decode()
    link = re.search(rf'href="\?([^"]*view={view.pk})"', body).group(1).replace("&amp;", "&")
    assert "alfa" not in link.lower()
    assert listed_ids(client.get(list_url(org_a) + "?" + link)) == [at_company.pk]


def test_filters_by_created_and_updated_ranges(client, alice, org_a):
    old = make_contact(org_a, alice, "Old", "One")
    new = make_contact(org_a, alice, "New", "One")
    last_year = timezone.now() - datetime.timedelta(days=365)
    with tenant_context(org_a):
        Contact.objects.filter(pk=old.pk).update(created_at=last_year, updated_at=last_year)
    today = timezone.localdate()
    client.force_login(alice)
    recent = {"created_from": (today - datetime.timedelta(days=7)).isoformat()}
    assert listed_ids(client.get(list_url(org_a), recent)) == [new.pk]
    earlier = {"created_to": (today - datetime.timedelta(days=300)).isoformat()}
    assert listed_ids(client.get(list_url(org_a), earlier)) == [old.pk]
    assert listed_ids(client.get(list_url(org_a), {"updated_from": today.isoformat()})) == [new.pk]
    assert listed_ids(client.get(list_url(org_a), {"updated_to": today.isoformat()})) != []
    # A malformed date is reported, not a server error, and the other filters still apply.
    response = client.get(list_url(org_a), {"created_from": "not-a-date"})
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()


def test_filters_by_non_personal_custom_fields_only(client, alice, org_a):
    with tenant_context(org_a):
        CustomField.objects.create(organization=org_a, entity="contact", key="region", label="Region", kind="text")
        CustomField.objects.create(organization=org_a, entity="contact", key="seats", label="Seats", kind="number")
        CustomField.objects.create(organization=org_a, entity="contact", key="paid", label="Paid", kind="checkbox")
        CustomField.objects.create(
            organization=org_a, entity="contact", key="langs", label="Languages", kind="multi", choices=["ro", "en"]
        )
        CustomField.objects.create(
            organization=org_a, entity="contact", key="cnp", label="Personal code", kind="text", is_personal=True
        )
    north = make_contact(
        org_a, alice, "North", "One", custom={"region": "north", "seats": "12.50", "paid": True, "langs": ["ro", "en"]}
    )
    south = make_contact(org_a, alice, "South", "Two", custom={"region": "south", "seats": "3", "paid": False})
    client.force_login(alice)
    assert listed_ids(client.get(list_url(org_a), {"cf_region": "north"})) == [north.pk]
    assert listed_ids(client.get(list_url(org_a), {"cf_seats": "12.5"})) == [north.pk]
    assert listed_ids(client.get(list_url(org_a), {"cf_paid": "yes"})) == [north.pk]
    assert listed_ids(client.get(list_url(org_a), {"cf_paid": "no"})) == [south.pk]
    assert listed_ids(client.get(list_url(org_a), {"cf_langs": "en"})) == [north.pk]
    # The personal field is not a filter (it is encrypted), and the page says so.
    response = client.get(list_url(org_a), {"cf_cnp": "1234"})
    assert set(listed_ids(response)) == {north.pk, south.pk}
    body = response.content.decode()
    assert 'name="cf_cnp"' not in body
    assert "encrypted and cannot be used as filters" in body
    # Custom columns come from the column chooser.
    body = client.get(list_url(org_a), {"col": ["cf_region", "email"]}).content.decode()
    assert "north" in body and ">Region<" in body


def test_column_chooser_keeps_the_choice_in_the_query_string(client, alice, org_a):
    make_contact(org_a, alice, "Ana", "Pop", email="ana@example.com", phone="0721 234 567")
    client.force_login(alice)
    body = client.get(list_url(org_a), {"col": ["phone"]}).content.decode()
    assert "ana@example.com" not in body
    assert "+40721234567" in body or "0721 234 567" in body
    assert "col=phone" in body  # carried into the saved-view form and the pager


# --- sort and keyset pagination ------------------------------------------------------------------


def _expected_order(org, sort):
    column = selectors_lists.SORTS[sort]
    order = [f"-{column}", "-pk"] if sort.startswith("-") else [column, "pk"]
    with tenant_context(org):
        return list(Contact.objects.filter(organization=org).order_by(*order).values_list("pk", flat=True))


def _walk(client, url, params, direction="next"):
    """Follow the pager links; returns the pages of ids in the order visited."""
    pages = []
    response = client.get(url, params)
    while True:
        pages.append(listed_ids(response))
        found = re.search(rf'rel="{direction}" href="([^"]+)"', response.content.decode())
        if not found:
            return pages, response
        response = client.get(url + found.group(1).replace("&amp;", "&"))


@pytest.mark.parametrize("sort", ["-created", "created", "-updated", "updated"])
def test_cursor_pages_forward_and_back_without_gaps_or_duplicates(client, alice, org_a, monkeypatch, sort):
    monkeypatch.setattr(selectors_lists, "PAGE_SIZE", 5)
    contacts = [make_contact(org_a, alice, f"Person{n}", "Test") for n in range(23)]
    # Ties on the sort column: the id breaks them.
    same = timezone.now() - datetime.timedelta(days=1)
    with tenant_context(org_a):
        Contact.objects.filter(pk__in=[c.pk for c in contacts[5:12]]).update(created_at=same, updated_at=same)
    expected = _expected_order(org_a, sort)
    client.force_login(alice)
    pages, last = _walk(client, list_url(org_a), {"sort": sort})
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [pk for page in pages for pk in page] == expected
    # And back from the last page to the first, through "Previous".
    found = re.search(r'rel="prev" href="([^"]+)"', last.content.decode())
    back_pages, first = _walk(client, list_url(org_a) + found.group(1).replace("&amp;", "&"), {}, "prev")
    assert back_pages == list(reversed(pages[:-1]))
    assert 'rel="prev"' not in first.content.decode()


def test_deep_page_uses_no_offset_and_no_full_count(client, alice, org_a, monkeypatch):
    monkeypatch.setattr(selectors_lists, "PAGE_SIZE", 3)
    monkeypatch.setattr(selectors_lists, "COUNT_CAP", 5)
    for n in range(10):
        make_contact(org_a, alice, f"Deep{n}", "Test")
    expected = _expected_order(org_a, "-created")
    with tenant_context(org_a):
        row = Contact.objects.get(pk=expected[6])
    cursor = selectors_lists.make_cursor("-created", row, "after")
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(list_url(org_a), {"cursor": cursor})
    assert listed_ids(response) == expected[7:10]
    sql = [q["sql"].upper() for q in queries.captured_queries if "CONTACTS_CONTACT" in q["sql"].upper()]
    assert not any("OFFSET" in s for s in sql), sql
    assert all("LIMIT" in s for s in sql if "COUNT(" in s), sql
    assert "More than 5 matches" in response.content.decode()


def test_forged_or_foreign_cursor_shows_the_first_page(client, alice, org_a):
    contact = make_contact(org_a, alice)
    client.force_login(alice)
    for cursor in (
        "garbage",
        "eyJzIjoiLWNyZWF0ZWQifQ:forged",
        selectors_lists.make_cursor("created", contact, "after"),
    ):
        response = client.get(list_url(org_a), {"cursor": cursor, "sort": "-created"})
        assert response.status_code == 200
        assert listed_ids(response) == [contact.pk]


def _list_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries.captured_queries)


MAX_LIST_QUERIES = 25


def test_contact_list_query_count_is_constant(client, alice, bob, org_a, django_assert_max_num_queries):
    company = make_company(org_a)
    tags = [make_tag(org_a, f"t{n}") for n in range(3)]
    with tenant_context(org_a):
        CustomField.objects.create(organization=org_a, entity="contact", key="pc", label="PC", kind="text")
        CustomField.objects.create(
            organization=org_a, entity="contact", key="secret", label="Secret", kind="text", is_personal=True
        )
    columns = {"col": ["email", "phone", "company", "owner", "status", "tags", "created", "updated", "cf_pc"]}
    columns["col"].append("cf_secret")
    for n in range(5):
        make_contact(org_a, alice, f"P{n}", "X", email=f"p{n}@example.com", company=company, owner=bob, tags=tags)
    client.force_login(alice)
    _list_queries(client, list_url(org_a), columns)  # warm caches (keys, sessions)
    five = _list_queries(client, list_url(org_a), columns)
    for n in range(5, 50):
        make_contact(org_a, alice, f"P{n}", "X", email=f"p{n}@example.com", company=company, owner=bob, tags=tags)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(list_url(org_a), columns)
    assert len(listed_ids(response)) == 50
    assert _list_queries(client, list_url(org_a), columns) == five


def test_company_list_counts_people_without_n_plus_one(client, alice, org_a, django_assert_max_num_queries):
    companies = [make_company(org_a, f"Company {n}", industry="IT") for n in range(5)]
    for company in companies:
        make_contact(org_a, alice, "Emp", "Loyee", company=company)
        make_contact(org_a, alice, "Emp", "Loyee", company=company)
    client.force_login(alice)
    _list_queries(client, list_url(org_a, "company_list"))
    five = _list_queries(client, list_url(org_a, "company_list"))
    for n in range(5, 50):
        make_company(org_a, f"Company {n}", industry="IT")
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(list_url(org_a, "company_list"))
    assert _list_queries(client, list_url(org_a, "company_list")) == five
    body = response.content.decode()
    assert body.count(">2</a>") == 5  # two people at each of the first five
    assert "Company 49" in body


def test_company_filters(client, alice, bob, org_a):
    vip = make_tag(org_a, "vip")
    it = make_company(org_a, "Soft SRL", industry="IT", size="10-49", owner=bob)
    make_company(org_a, "Farm SRL", industry="Agriculture", size="1-9")
    with tenant_context(org_a):
        from contacts.models import CompanyTag

        CompanyTag.objects.create(organization=org_a, company=it, tag=vip)
    client.force_login(alice)
    url = list_url(org_a, "company_list")
    for params in ({"industry": "it"}, {"size": "10-49"}, {"tag": [vip.pk]}, {"owner": bob.pk}):
        body = client.get(url, params).content.decode()
        assert "Soft SRL" in body and "Farm SRL" not in body, params
    body = client.get(url, {"created_to": "2000-01-01"}).content.decode()
    assert "No companies match these filters." in body


# --- visibility ---------------------------------------------------------------------------------


def test_own_visibility_limits_the_list_to_owned_and_shared(client, alice, bob, org_a):
    with tenant_context(org_a):  # only the active organization's row can change
        Organization.objects.filter(pk=org_a.pk).update(contact_visibility=Organization.ContactVisibility.OWN)
    mine = make_contact(org_a, alice, "Bobs", "Own", owner=bob)
    shared = make_contact(org_a, alice, "Shared", "Withbob", owner=alice)
    hidden = make_contact(org_a, alice, "Alices", "Only", owner=alice)
    with tenant_context(org_a):
        ContactShare.objects.create(organization=org_a, contact=shared, user=bob)
    client.force_login(bob)
    assert set(listed_ids(client.get(list_url(org_a)))) == {mine.pk, shared.pk}
    # The owner of the organization sees everything.
    client.force_login(alice)
    assert set(listed_ids(client.get(list_url(org_a)))) == {mine.pk, shared.pk, hidden.pk}


# --- saved views ----------------------------------------------------------------------------------


def test_saved_views_personal_and_shared(client, alice, bob, org_a):
    vip = make_tag(org_a, "vip")
    client.force_login(bob)
    save = reverse("contact_view_save", kwargs={"org_slug": org_a.slug})
    query = f"tag={vip.pk}&status=customer&col=email&cursor=xyz&bogus=1"
    response = client.post(save, {"entity": "contact", "name": "My customers", "query": query})
    assert response.status_code == 302
    client.post(save, {"entity": "contact", "name": "Team VIPs", "query": f"tag={vip.pk}", "is_shared": "on"})
    with tenant_context(org_a):
        personal = SavedView.objects.get(name="My customers")
        shared = SavedView.objects.get(name="Team VIPs")
    assert personal.owner == bob and not personal.is_shared
    assert personal.params == {"col": ["email"], "status": ["customer"], "tag": [str(vip.pk)]}
    assert f"view={personal.pk}" in response["Location"]
    body = client.get(list_url(org_a)).content.decode()
    assert "My customers" in body and "Team VIPs" in body
    # Opening a view applies it: its link carries the filters.
    assert re.search(rf'href="\?col=email&amp;status=customer&amp;tag={vip.pk}&amp;view={personal.pk}"', body)
    client.force_login(alice)
    body = client.get(list_url(org_a)).content.decode()
    assert "Team VIPs" in body and "My customers" not in body
    # Someone else's personal view does not exist for alice, even as the organization's owner.
    delete = reverse("saved_view_delete", kwargs={"org_slug": org_a.slug, "view_id": personal.pk})
    assert client.post(delete).status_code == 404
    # An admin may delete a shared view of someone else.
    delete_shared = reverse("saved_view_delete", kwargs={"org_slug": org_a.slug, "view_id": shared.pk})
    assert client.post(delete_shared).status_code == 302
    with tenant_context(org_a):
        assert not SavedView.objects.filter(pk=shared.pk).exists()
        assert AuditEvent.objects.filter(action="saved_view.deleted", organization=org_a).exists()


def test_only_owner_or_admin_deletes_a_shared_view(client, alice, bob, org_a):
    with tenant_context(org_a):
        shared = SavedView.objects.create(organization=org_a, entity="contact", name="All", owner=alice, is_shared=True)
        own = SavedView.objects.create(organization=org_a, entity="contact", name="Mine", owner=bob)
    client.force_login(bob)
    url = reverse("saved_view_delete", kwargs={"org_slug": org_a.slug, "view_id": shared.pk})
    assert client.post(url).status_code == 403
    url = reverse("saved_view_delete", kwargs={"org_slug": org_a.slug, "view_id": own.pk})
    assert client.post(url).status_code == 302
    with tenant_context(org_a):
        assert list(SavedView.objects.values_list("pk", flat=True)) == [shared.pk]


def test_company_saved_view(client, alice, org_a):
    client.force_login(alice)
    save = reverse("contact_view_save", kwargs={"org_slug": org_a.slug})
    response = client.post(save, {"entity": "company", "name": "IT", "query": "industry=IT&status=lead"})
    assert response["Location"].startswith(list_url(org_a, "company_list"))
    with tenant_context(org_a):
        assert SavedView.objects.get(name="IT").params == {"industry": ["IT"]}
    assert "IT" in client.get(list_url(org_a, "company_list")).content.decode()


def test_saved_view_needs_a_name(client, alice, org_a):
    client.force_login(alice)
    save = reverse("contact_view_save", kwargs={"org_slug": org_a.slug})
    response = client.post(save, {"entity": "contact", "name": "  ", "query": "status=lead"}, follow=True)
    assert "Give the view a name" in response.content.decode()
    with tenant_context(org_a):
        assert not SavedView.objects.exists()


# --- bulk actions ---------------------------------------------------------------------------------


def bulk(client, org, follow=False, **data):
    return client.post(reverse("contact_bulk", kwargs={"org_slug": org.slug}), data, follow=follow)


def test_bulk_tag_a_selection(client, alice, org_a):
    vip = make_tag(org_a, "vip")
    chosen = [make_contact(org_a, alice, f"C{n}", "X") for n in range(3)]
    other = make_contact(org_a, alice, "Not", "Chosen")
    client.force_login(alice)
    response = bulk(client, org_a, action="tag", tag=vip.pk, ids=[c.pk for c in chosen[:2]], query="status=lead")
    assert response.status_code == 302
    assert response["Location"] == list_url(org_a) + "?status=lead"
    # Tagging again, with one more, changes only the one that lacks it.
    bulk(client, org_a, action="tag", tag=vip.pk, ids=[c.pk for c in chosen])
    with tenant_context(org_a):
        tagged = set(ContactTag.objects.filter(tag=vip).values_list("contact_id", flat=True))
        assert tagged == {c.pk for c in chosen}
        versions = dict(Contact.objects.values_list("pk", "version"))
        events = list(AuditEvent.objects.filter(action="contact.bulk_tagged").order_by("pk"))
    assert versions[chosen[0].pk] == 2 and versions[chosen[2].pk] == 2 and versions[other.pk] == 1
    assert [e.details["count"] for e in events] == [2, 1]
    assert events[0].actor_id == alice.pk
    assert events[0].details["ids"] == sorted(c.pk for c in chosen[:2])


def test_bulk_on_all_matches_of_a_filter(client, alice, bob, org_a, monkeypatch):
    from contacts.services import bulk as bulk_services

    monkeypatch.setattr(bulk_services, "BATCH_SIZE", 2)
    leads = [make_contact(org_a, alice, f"L{n}", "X", status="lead") for n in range(5)]
    customer = make_contact(org_a, alice, "Cust", "Omer", status="customer")
    client.force_login(alice)
    response = bulk(client, org_a, action="owner", owner=bob.pk, all_matching="1", query="status=lead")
    assert response.status_code == 302
    with tenant_context(org_a):
        owners = dict(Contact.objects.values_list("pk", "owner_id"))
        updated_by = set(Contact.objects.filter(pk__in=[c.pk for c in leads]).values_list("updated_by", flat=True))
        events = AuditEvent.objects.filter(action="contact.bulk_owner_changed")
        assert sum(e.details["count"] for e in events) == 5
        assert events.count() == 3  # batches of two
    assert all(owners[c.pk] == bob.pk for c in leads) and owners[customer.pk] is None
    assert updated_by == {alice.pk}
    bulk(client, org_a, action="status", status="prospect", all_matching="1", query=f"owner={bob.pk}")
    with tenant_context(org_a):
        assert set(Contact.objects.filter(owner=bob).values_list("status", flat=True)) == {"prospect"}
        assert Contact.objects.get(pk=customer.pk).status == "customer"


def test_bulk_untag(client, alice, org_a):
    vip = make_tag(org_a, "vip")
    contacts = [make_contact(org_a, alice, f"C{n}", "X", tags=[vip]) for n in range(2)]
    client.force_login(alice)
    bulk(client, org_a, action="untag", tag=vip.pk, ids=[contacts[0].pk])
    with tenant_context(org_a):
        assert list(ContactTag.objects.values_list("contact_id", flat=True)) == [contacts[1].pk]
        assert AuditEvent.objects.get(action="contact.bulk_untagged").details["count"] == 1


def test_bulk_delete_asks_for_confirmation_with_the_count(client, alice, org_a):
    contacts = [make_contact(org_a, alice, f"C{n}", "X") for n in range(3)]
    client.force_login(alice)
    ids = [c.pk for c in contacts[:2]]
    response = bulk(client, org_a, action="delete", ids=ids)
    assert response.status_code == 200
    body = response.content.decode()
    assert "This deletes 2 contacts" in body
    with tenant_context(org_a):
        assert Contact.objects.count() == 3
    response = bulk(client, org_a, action="delete", ids=ids, confirmed="1")
    assert response.status_code == 302
    with tenant_context(org_a):
        assert list(Contact.objects.values_list("pk", flat=True)) == [contacts[2].pk]
        assert sorted(AuditEvent.objects.get(action="contact.bulk_deleted").details["ids"]) == sorted(ids)


def test_bulk_actions_reach_only_visible_contacts(client, alice, bob, org_a, org_b, charlie):
    with tenant_context(org_a):  # only the active organization's row can change
        Organization.objects.filter(pk=org_a.pk).update(contact_visibility=Organization.ContactVisibility.OWN)
    vip = make_tag(org_a, "vip")
    bobs = make_contact(org_a, alice, "Bobs", "Own", owner=bob)
    alices = make_contact(org_a, alice, "Alices", "Own", owner=alice)
    foreign = make_contact(org_b, charlie, "Foreign", "One")
    client.force_login(bob)
    bulk(client, org_a, action="tag", tag=vip.pk, ids=[bobs.pk, alices.pk, foreign.pk])
    bulk(client, org_a, action="delete", confirmed="1", all_matching="1", query="")
    with tenant_context(org_a):
        assert list(Contact.objects.values_list("pk", flat=True)) == [alices.pk]
        assert not ContactTag.objects.filter(contact=alices).exists()
    with tenant_context(org_b):
        assert Contact.objects.filter(pk=foreign.pk).exists()


def test_bulk_refuses_another_organizations_tag_and_bad_input(client, alice, charlie, org_a, org_b):
    contact = make_contact(org_a, alice)
    their_tag = make_tag(org_b, "theirs")
    client.force_login(alice)
    response = bulk(client, org_a, action="tag", tag=their_tag.pk, ids=[contact.pk])
    assert response.status_code == 302
    response = bulk(client, org_a, action="tag", ids=["x"], follow=True)
    assert response.status_code == 200
    response = bulk(client, org_a, action="status", status="customer")
    assert response.status_code == 302
    with tenant_context(org_a):
        assert not ContactTag.objects.exists()
        assert Contact.objects.get(pk=contact.pk).status == "lead"


def test_read_only_member_cannot_bulk_or_save_views(client, alice, org_a, reader):
    vip = make_tag(org_a, "vip")
    contact = make_contact(org_a, alice)
    client.force_login(reader)
    assert bulk(client, org_a, action="tag", tag=vip.pk, ids=[contact.pk]).status_code == 403
    save = reverse("contact_view_save", kwargs={"org_slug": org_a.slug})
    assert client.post(save, {"entity": "contact", "name": "x"}).status_code == 403
    body = client.get(list_url(org_a)).content.decode()
    assert 'id="bulk-form"' not in body and 'name="ids"' not in body
    with tenant_context(org_a):
        assert not ContactTag.objects.exists()


def test_bulk_bumps_version_and_leaves_encrypted_fields(client, alice, org_a):
    contact = make_contact(org_a, alice, "Ștefan", "Ionescu", email="s@example.ro")
    client.force_login(alice)
    bulk(client, org_a, action="status", status="customer", ids=[contact.pk])
    with tenant_context(org_a):
        again = Contact.objects.get(pk=contact.pk)
        assert (again.first_name, again.email, again.status, again.version) == ("Ștefan", "s@example.ro", "customer", 2)
        assert again.updated_at > contact.updated_at
        Contact.objects.filter(pk=contact.pk).update(version=F("version"))


# --- outsiders and hostile strings ----------------------------------------------------------------


def test_outsider_gets_404_on_every_list_url(client, alice, org_a, charlie, org_b):
    contact = make_contact(org_a, alice)
    with tenant_context(org_a):
        view = SavedView.objects.create(organization=org_a, entity="contact", name="V", owner=alice, is_shared=True)
    client.force_login(charlie)
    slug = org_a.slug
    for name in ("contact_list", "company_list", "crm_search"):
        assert client.get(reverse(name, kwargs={"org_slug": slug}), {"q": "an"}).status_code == 404, name
    posts = [
        reverse("contact_view_save", kwargs={"org_slug": slug}),
        reverse("saved_view_delete", kwargs={"org_slug": slug, "view_id": view.pk}),
        reverse("contact_bulk", kwargs={"org_slug": slug}),
    ]
    for url in posts:
        assert client.post(url, {"action": "delete", "ids": [contact.pk], "confirmed": "1"}).status_code == 404, url
    # Through its own organization, A's saved view is not there either.
    own = reverse("saved_view_delete", kwargs={"org_slug": org_b.slug, "view_id": view.pk})
    assert client.post(own).status_code == 404
    bulk(client, org_b, action="delete", ids=[contact.pk], confirmed="1")
    with tenant_context(org_a):
        assert Contact.objects.filter(pk=contact.pk).exists()
        assert SavedView.objects.filter(pk=view.pk).exists()


def test_hostile_strings_in_names_and_query_strings(client, alice, org_a):
    strings = naughty_strings()[:120]
    for text in strings[:40]:
        make_contact(org_a, alice, text[:100], "Naughty")
    client.force_login(alice)
    response = client.get(list_url(org_a))
    assert response.status_code == 200
    assert "<script>alert(" not in response.content.decode()
    for text in strings:
        for params in ({"company_name": text[:100]}, {"cf_x": text, "sort": text, "cursor": text}, {"col": text}):
            assert client.get(list_url(org_a), params).status_code == 200, text
        assert client.get(list_url(org_a, "company_list"), {"industry": text[:100]}).status_code == 200, text
