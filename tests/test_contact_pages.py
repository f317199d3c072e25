"""The contact record's pages: create, detail, edit, delete, duplicates, concurrency,
visibility, hostile input, and the batched access audit."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from contacts import access_log
from contacts.models import Contact, ContactEmail, ContactShare, CustomField, Tag
from contacts.services.companies import create_company
from contacts.services.contacts import create_contact, find_duplicates, update_contact
from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role
from tests.factories import make_member, make_user
from tests.shared_fixtures import naughty_strings


def url(name, organization, **kwargs):
    return reverse(name, kwargs={"org_slug": organization.slug, **kwargs})


def form_data(**overrides) -> dict:
    data = {
        "first_name": "Ana",
        "last_name": "Pop",
        "email": "ana@exemplu.ro",
        "email_label": "work",
        "phone": "0721 234 567",
        "phone_label": "mobile",
        "status": "lead",
        "source": "manual",
        "source_date": "2025-01-15",
        "submit_token": "",
        "emails-TOTAL_FORMS": "0",
        "emails-INITIAL_FORMS": "0",
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
        "addresses-TOTAL_FORMS": "0",
        "addresses-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def audit_events(organization, action: str) -> list[AuditEvent]:
    with tenant_context(organization):
        return list(AuditEvent.objects.filter(organization=organization, action=action).order_by("pk"))


def read(organization, pk) -> Contact:
    with tenant_context(organization):
        contact = Contact.objects.get(pk=pk)
        for field in ("first_name", "last_name", "email", "phone", "notes", "job_title"):
            getattr(contact, field)
        return contact


@pytest.fixture
def ana(org_a, alice):
    return create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Ana", "last_name": "Pop", "email": "ana@exemplu.ro", "phone": "+40 721 234 567"},
    )


# --- services ---------------------------------------------------------------------------------


def test_create_sets_every_field(org_a, alice, bob):
    with tenant_context(org_a):
        CustomField.objects.create(organization=org_a, entity="contact", key="vat", label="VAT", kind="text")
        CustomField.objects.create(
            organization=org_a, entity="contact", key="cnp", label="CNP", kind="text", is_personal=True
        )
        CustomField.objects.create(organization=org_a, entity="contact", key="seats", label="Seats", kind="number")
    company = create_company(organization=org_a, actor=alice, name="Alfa SRL")
    child_birthday = timezone.localdate().replace(year=timezone.localdate().year - 10)
    contact = create_contact(
        organization=org_a,
        actor=alice,
        data={
            "first_name": " Ion ",
            "email": "ion@exemplu.ro",
            "phone": "0721000111",
            "company": company,
            "owner": bob,
            "tags": ["vip", "VIP", "client"],
            "status": "customer",
            "date_of_birth": child_birthday,
            "preferred_language": "ro",
            "source": "web_form",
            "source_detail": "newsletter",
            "extra_emails": [{"email": "ion@home.ro", "label": "home"}, {"email": "ion@exemplu.ro"}],
            "extra_phones": [{"phone": "0744000111", "label": "work"}],
            "addresses": [{"street": "Str. Lungă 1", "city": "Cluj", "country": "ro"}],
            "custom": {"vat": "RO123", "cnp": "1900101", "seats": "12"},
        },
    )
    with tenant_context(org_a):
        contact = Contact.objects.get(pk=contact.pk)
        assert contact.first_name == "Ion"
        assert contact.is_minor
        assert contact.created_by == alice and contact.owner == bob and contact.company == company
        assert sorted(t.name for t in contact.tags.all()) == ["client", "vip"]
        # The extra equal to the primary is dropped.
        assert [(e.email, e.label) for e in contact.extra_emails.all()] == [("ion@home.ro", "home")]
        assert [p.phone for p in contact.extra_phones.all()] == ["+40744000111"]
        assert contact.addresses.get().country == "RO"
        assert contact.custom == {"vat": "RO123", "seats": "12"}
        assert contact.custom_personal == {"cnp": "1900101"}


def test_invalid_custom_value_and_foreign_company_are_refused(org_a, org_b, alice, charlie):
    with tenant_context(org_a):
        CustomField.objects.create(organization=org_a, entity="contact", key="seats", label="Seats", kind="number")
    with pytest.raises(ValidationError) as caught:
        create_contact(organization=org_a, actor=alice, data={"first_name": "Ion", "custom": {"seats": "many"}})
    assert "cf_seats" in caught.value.message_dict

    theirs = create_company(organization=org_b, actor=charlie, name="Beta")
    with pytest.raises(ValidationError) as caught:
        create_contact(organization=org_a, actor=alice, data={"first_name": "Ion", "company": theirs})
    assert "company" in caught.value.message_dict
    with pytest.raises(ValidationError):
        create_contact(organization=org_a, actor=alice, data={"first_name": "Ion", "owner": charlie})


def test_two_updates_from_the_same_version_the_second_is_refused(org_a, alice, bob, ana):
    first = update_contact(
        organization=org_a, actor=alice, contact=ana, data={"job_title": "CEO"}, expected_version=ana.version
    )
    assert first.version == ana.version + 1
    with pytest.raises(ValidationError, match="changed by someone else"):
        update_contact(organization=org_a, actor=bob, contact=ana, data={"job_title": "CTO"}, expected_version=1)
    contact = read(org_a, ana.pk)
    assert contact.job_title == "CEO" and contact.updated_by == alice and contact.version == 2


def test_find_duplicates_reads_primary_and_further_values(org_a, org_b, alice, charlie, ana):
    other = create_contact(
        organization=org_a,
        actor=alice,
        data={
            "first_name": "Dan",
            "extra_emails": [{"email": "dan@x.ro"}],
            "extra_phones": [{"phone": "0744 111 222"}],
        },
    )
    assert [c.pk for c in find_duplicates(org_a, ["ANA@exemplu.ro"], [])] == [ana.pk]
    assert [c.pk for c in find_duplicates(org_a, [], ["0721234567"])] == [ana.pk]
    assert [c.pk for c in find_duplicates(org_a, ["dan@x.ro"], [])] == [other.pk]
    assert [c.pk for c in find_duplicates(org_a, [], ["+40744111222"])] == [other.pk]
    assert find_duplicates(org_a, ["ana@exemplu.ro"], [], exclude=ana.pk) == []
    assert find_duplicates(org_b, ["ana@exemplu.ro"], ["0721234567"]) == []


def test_a_further_email_of_another_contact_is_a_validation_error(org_a, alice, ana):
    create_contact(organization=org_a, actor=alice, data={"first_name": "Dan", "extra_emails": [{"email": "d@x.ro"}]})
    with pytest.raises(ValidationError, match="already exists"):
        create_contact(
            organization=org_a, actor=alice, data={"first_name": "Eva", "extra_emails": [{"email": "D@x.ro"}]}
        )


# --- pages ------------------------------------------------------------------------------------


def test_create_through_the_form(client, org_a, alice, bob):
    client.force_login(alice)
    response = client.get(url("contact_create", org_a))
    assert response.status_code == 200
    data = form_data(
        tags="vip, client",
        owner=str(bob.pk),
        **{
            "emails-TOTAL_FORMS": "1",
            "emails-0-email": "ana@home.ro",
            "emails-0-label": "home",
            "addresses-TOTAL_FORMS": "1",
            "addresses-0-label": "home",
            "addresses-0-city": "Iași",
            "addresses-0-country": "ro",
        },
    )
    response = client.post(url("contact_create", org_a), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(org_a):
        contact = Contact.objects.get()
        assert contact.email == "ana@exemplu.ro"
        assert contact.phone == "+40721234567"  # stored in E.164, shown as people write it
        assert contact.owner == bob
        assert [e.email for e in contact.extra_emails.all()] == ["ana@home.ro"]
        assert contact.addresses.get().city == "Iași"
    assert response["Location"] == url("contact_detail", org_a, contact_id=contact.pk)
    page = client.get(response["Location"]).content.decode()
    for text in ("Ana Pop", "ana@exemplu.ro", "ana@home.ro", "Iași", "vip", "Bob Beta", "+40 721 234 567"):
        assert text in page


def test_a_double_submit_creates_one_contact(client, org_a, alice):
    client.force_login(alice)
    data = form_data(email="", phone="", submit_token="abc123")
    first = client.post(url("contact_create", org_a), data)
    second = client.post(url("contact_create", org_a), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    with tenant_context(org_a):
        assert Contact.objects.count() == 1


def test_invalid_phone_and_email_say_which_field_and_keep_the_input(client, org_a, alice):
    client.force_login(alice)
    response = client.post(
        url("contact_create", org_a),
        form_data(first_name="Ștefan", last_name="Ionescu-Ü", phone="call me maybe", email="not-an-email", notes="ok"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Phone" in page and "country code" in page
    assert "Email address" in page and "valid email" in page
    for typed in ("Ștefan", "Ionescu-Ü", "call me maybe", "not-an-email"):
        assert typed in page
    with tenant_context(org_a):
        assert not Contact.objects.exists()


def test_add_another_email_rerenders_with_an_empty_row(client, org_a, alice):
    client.force_login(alice)
    response = client.post(url("contact_create", org_a), form_data(first_name="Ion", add_email="1"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="emails-0-email"' in page and 'value="Ion"' in page
    with tenant_context(org_a):
        assert not Contact.objects.exists()


def test_a_duplicate_email_is_a_form_error_and_a_duplicate_phone_a_warning(client, org_a, alice, ana):
    client.force_login(alice)
    response = client.post(url("contact_create", org_a), form_data(first_name="Ana2", phone=""))
    assert response.status_code == 400
    assert "already exist" in response.content.decode()
    detail = url("contact_detail", org_a, contact_id=ana.pk)
    response = client.post(url("contact_create", org_a), form_data(first_name="Ana3", email="", phone="0721234567"))
    assert response.status_code == 400
    assert detail in response.content.decode()
    response = client.post(
        url("contact_create", org_a),
        form_data(first_name="Ana3", email="", phone="0721234567", confirm_duplicates="on"),
    )
    assert response.status_code == 302
    # The htmx partial answers while typing.
    partial = client.post(url("contact_duplicates", org_a), {"email": "ANA@exemplu.ro", "emails-0-email": "x@y.ro"})
    assert partial.status_code == 200 and detail in partial.content.decode()
    assert client.post(url("contact_duplicates", org_a), {"email": "nobody@x.ro"}).content.decode().strip() == ""
    # POSTed only: typed addresses in a query string would reach the access log.
    assert client.get(url("contact_duplicates", org_a), {"email": "ANA@exemplu.ro"}).status_code == 405
    form_page = client.get(url("contact_create", org_a)).content.decode()
    assert "hx-post=" in form_page and 'hx-get="' + url("contact_duplicates", org_a) not in form_page


def test_edit_through_the_form_and_a_concurrent_edit_is_refused(client, org_a, alice, bob, ana):
    client.force_login(alice)
    edit = url("contact_edit", org_a, contact_id=ana.pk)
    page = client.get(edit).content.decode()
    assert 'name="version" value="1"' in page
    first = client.post(edit, form_data(job_title="CEO", version="1", submit_token="t1"))
    assert first.status_code == 302
    client.force_login(bob)
    second = client.post(edit, form_data(job_title="CTO", version="1", submit_token="t2"))
    assert second.status_code == 400
    assert "changed by someone else" in second.content.decode()
    assert "CTO" in second.content.decode()  # what was typed is kept
    contact = read(org_a, ana.pk)
    assert contact.job_title == "CEO" and contact.version == 2


def test_delete_is_confirmed_then_audited(client, org_a, alice, ana):
    client.force_login(alice)
    delete = url("contact_delete", org_a, contact_id=ana.pk)
    assert client.get(delete).status_code == 200
    with tenant_context(org_a):
        assert Contact.objects.filter(pk=ana.pk).exists()
    assert client.post(delete).status_code == 302
    with tenant_context(org_a):
        assert not Contact.objects.filter(pk=ana.pk).exists()
    assert [e.target_id for e in audit_events(org_a, "contact.deleted")] == [str(ana.pk)]


@pytest.mark.parametrize("name", ["contact_detail", "contact_edit", "contact_delete"])
def test_outsider_gets_404(client, org_a, org_b, charlie, ana, name):
    client.force_login(charlie)
    assert client.get(url(name, org_a, contact_id=ana.pk)).status_code == 404
    assert client.get(url(name, org_b, contact_id=ana.pk)).status_code == 404
    assert client.post(url(name, org_b, contact_id=ana.pk), form_data()).status_code == 404
    assert read(org_a, ana.pk).first_name == "Ana"


def test_read_only_member_reads_but_cannot_write(client, org_a, ana):
    reader = make_user("reader@example.com", "Read Only")
    make_member(org_a, reader, Role.READ_ONLY)
    client.force_login(reader)
    page = client.get(url("contact_detail", org_a, contact_id=ana.pk))
    assert page.status_code == 200
    assert url("contact_edit", org_a, contact_id=ana.pk) not in page.content.decode()
    assert client.get(url("contact_edit", org_a, contact_id=ana.pk)).status_code == 403
    assert client.post(url("contact_create", org_a), form_data(email="r@x.ro")).status_code == 403
    assert client.post(url("contact_edit", org_a, contact_id=ana.pk), form_data(version="1")).status_code == 403
    assert client.post(url("contact_delete", org_a, contact_id=ana.pk)).status_code == 403


def test_visibility_own_shows_owned_and_shared_contacts_only(client, org_a, alice, bob):
    org_a.contact_visibility = "own"
    with tenant_context(org_a):  # only the active organization's row can change
        org_a.save(update_fields=["contact_visibility"])
    mine = create_contact(organization=org_a, actor=bob, data={"first_name": "Mine", "owner": bob})
    theirs = create_contact(organization=org_a, actor=alice, data={"first_name": "Theirs", "owner": alice})
    shared = create_contact(organization=org_a, actor=alice, data={"first_name": "Shared", "owner": alice})
    with tenant_context(org_a):
        ContactShare.objects.create(organization=org_a, contact=shared, user=bob)
    client.force_login(bob)
    assert client.get(url("contact_detail", org_a, contact_id=mine.pk)).status_code == 200
    assert client.get(url("contact_detail", org_a, contact_id=shared.pk)).status_code == 200
    assert client.get(url("contact_detail", org_a, contact_id=theirs.pk)).status_code == 404
    assert client.get(url("contact_edit", org_a, contact_id=theirs.pk)).status_code == 404
    client.force_login(alice)  # the owner sees everything
    assert client.get(url("contact_detail", org_a, contact_id=mine.pk)).status_code == 200


def test_detail_query_count_is_constant(client, org_a, alice, django_assert_max_num_queries):
    small = create_contact(organization=org_a, actor=alice, data={"first_name": "Small", "email": "small@x.ro"})
    big = create_contact(
        organization=org_a,
        actor=alice,
        data={
            "first_name": "Big",
            "email": "big@x.ro",
            "tags": [f"tag{i}" for i in range(8)],
            "extra_emails": [{"email": f"big{i}@x.ro"} for i in range(6)],
            "extra_phones": [{"phone": f"0744 000 00{i}"} for i in range(6)],
            "addresses": [{"city": f"City {i}"} for i in range(4)],
        },
    )
    client.force_login(alice)
    client.get(url("contact_detail", org_a, contact_id=small.pk))  # warm the key cache

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for contact in (small, big):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("contact_detail", org_a, contact_id=contact.pk)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], [q["sql"][:150] for q in queries.captured_queries]
    # 26 today: 12 for the session, user, two-factor and membership, 6 for the contact and
    # its prefetched emails, phones, addresses and tags, 5 for the duplicate check, custom
    # field definitions, navigation. Room is left for the timeline partial's own queries.
    with django_assert_max_num_queries(32):
        client.get(url("contact_detail", org_a, contact_id=big.pk))


# --- hostile strings --------------------------------------------------------------------------


def test_hostile_strings_round_trip_escaped(client, org_a, alice):
    client.force_login(alice)
    for n, text in enumerate(naughty_strings()[::5]):
        first = text.replace("\x00", "")[:100].strip() or "x"
        response = client.post(
            url("contact_create", org_a),
            form_data(first_name=first, last_name=text[:100], job_title=text[:120], notes=text, email="", phone=""),
        )
        assert response.status_code in (302, 400), (n, text, response.status_code)
        if response.status_code == 400:
            continue  # refused with a form error (e.g. a control character), never a 500
        page = client.get(response["Location"])
        assert page.status_code == 200
        body = page.content.decode()
        assert "<script>alert" not in body
        contact_id = int(response["Location"].rstrip("/").split("/")[-1])
        edit = client.get(url("contact_edit", org_a, contact_id=contact_id))
        assert edit.status_code == 200
        assert "<script>alert" not in edit.content.decode()
        saved = client.post(
            url("contact_edit", org_a, contact_id=contact_id),
            form_data(first_name=first, last_name=text[:100], notes=text, email="", phone="", version="1"),
        )
        assert saved.status_code in (302, 400), (n, text)


# --- access audit -----------------------------------------------------------------------------


def test_opening_a_contact_is_audited_in_batches(client, org_a, alice, ana):
    access_log.redis_client().delete(access_log.QUEUE_KEY)
    client.force_login(alice)
    for _ in range(3):
        assert client.get(url("contact_detail", org_a, contact_id=ana.pk)).status_code == 200
    assert not audit_events(org_a, "contact.viewed")  # nothing written by the page itself
    assert access_log.redis_client().llen(access_log.QUEUE_KEY) == 3
    from contacts.tasks import flush_contact_views

    assert flush_contact_views() == 3
    events = audit_events(org_a, "contact.viewed")
    assert len(events) == 3
    event = events[0]
    assert (event.organization_id, event.actor_id, event.target_type, event.target_id) == (
        org_a.pk,
        alice.pk,
        "contact",
        str(ana.pk),
    )
    assert datetime.datetime.fromisoformat(event.details["viewed_at"]) <= timezone.now()
    assert access_log.redis_client().llen(access_log.QUEUE_KEY) == 0
    assert flush_contact_views() == 0


def test_a_failed_drain_keeps_the_views_for_the_next_run(org_a, alice, ana, monkeypatch):
    client = access_log.redis_client()
    client.delete(access_log.QUEUE_KEY)
    access_log.record_contact_view(organization_id=org_a.pk, contact_id=ana.pk, user_id=alice.pk)

    def fail(entries):
        raise RuntimeError("database down")

    monkeypatch.setattr(access_log, "_write_batch", fail)
    with pytest.raises(RuntimeError):
        access_log.drain_contact_views()
    assert client.llen(access_log.QUEUE_KEY) == 1
    monkeypatch.undo()
    assert access_log.drain_contact_views() == 1


def test_tags_are_per_organization(org_a, org_b, alice, charlie):
    create_contact(organization=org_a, actor=alice, data={"first_name": "A", "tags": ["vip"]})
    create_contact(organization=org_b, actor=charlie, data={"first_name": "B", "tags": ["vip"]})
    with tenant_context(org_a):
        assert Tag.objects.filter(name="vip").count() == 1
    with tenant_context(org_b):
        assert Tag.objects.filter(name="vip").count() == 1
    with tenant_context(org_a):
        assert ContactEmail.objects.count() == 0


def test_one_tag_rule_for_contacts_and_companies(org_a, alice):
    """Case and spacing make no second tag, for contacts and companies alike; a tag longer than
    60 characters is refused with the same message by both, never stored cut."""
    create_contact(organization=org_a, actor=alice, data={"first_name": "A", "tags": ["Client  nou", "VIP"]})
    create_company(organization=org_a, actor=alice, name="Brutăria", data={"tags": ["vip", "client nou"]})
    with tenant_context(org_a):
        assert sorted(Tag.objects.values_list("name", flat=True)) == ["Client nou", "VIP"]
    too_long = "x" * 61
    with pytest.raises(ValidationError) as contact_error:
        create_contact(organization=org_a, actor=alice, data={"first_name": "B", "tags": [too_long]})
    with pytest.raises(ValidationError) as company_error:
        create_company(organization=org_a, actor=alice, name="Moara", data={"tags": [too_long]})
    assert (
        contact_error.value.message_dict
        == company_error.value.message_dict
        == {"tags": ["A tag can have at most 60 characters."]}
    )
    with tenant_context(org_a):
        assert not Contact.objects.filter(tags__name__startswith="xxx").exists()


def test_the_contact_form_refuses_a_tag_longer_than_60_characters(client, org_a, alice):
    client.force_login(alice)
    response = client.post(url("contact_create", org_a), form_data(tags="ok, " + "y" * 61))
    assert response.status_code == 400  # the form again, with its errors
    assert response.context["form"].errors["tags"] == ["A tag can have at most 60 characters."]


# --- one normal form for email and phone --------------------------------------------------------


def test_services_store_national_numbers_in_e164_whoever_calls(org_a, alice):
    """An import or the API calls the service with what it was given: the number is stored
    in E.164 (the organization's country reads a national one), its index is the same as
    for the international spelling, and the email's domain is lower-cased."""
    contact = create_contact(
        organization=org_a,
        actor=alice,
        data={
            "first_name": "Ana",
            "email": "  Ana.Pop@Exemplu.RO ",
            "phone": "0721-234-567",
            "extra_phones": [{"phone": "0744.111.222", "label": "work"}],
        },
    )
    company = create_company(organization=org_a, actor=alice, name="Firma SRL", data={"phone": "021 312 3456"})
    with tenant_context(org_a):
        contact = Contact.objects.get(pk=contact.pk)
        assert contact.phone == "+40721234567"
        assert contact.email == "Ana.Pop@exemplu.ro"
        assert [p.phone for p in contact.extra_phones.all()] == ["+40744111222"]
        assert type(company).objects.get(pk=company.pk).phone == "+40213123456"
    assert [c.pk for c in find_duplicates(org_a, ["ana.pop@EXEMPLU.ro"], ["+40 744 111 222"])] == [contact.pk]


def test_a_national_number_is_read_in_the_organizations_country(org_a, alice):
    org_a.country = "DE"
    with tenant_context(org_a):  # only the active organization's row can change (a row policy)
        org_a.save(update_fields=["country"])
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Jonas", "phone": "030 1234567"})
    with tenant_context(org_a):
        assert Contact.objects.get(pk=contact.pk).phone == "+49301234567"


def test_a_service_refuses_what_is_not_a_phone_number(org_a, alice):
    with pytest.raises(ValidationError) as caught:
        create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "phone": "12"})
    assert "phone" in caught.value.message_dict
    with tenant_context(org_a):
        assert not Contact.objects.exists()


def test_the_edit_form_shows_the_stored_number_as_people_write_it(client, org_a, alice, ana):
    client.force_login(alice)
    page = client.get(url("contact_edit", org_a, contact_id=ana.pk)).content.decode()
    assert 'value="+40 721 234 567"' in page


@pytest.mark.parametrize("page", ["contact_create", "company_create"])
def test_the_owner_of_something_new_starts_as_its_creator(client, org_a, bob, page):
    client.force_login(bob)
    form = client.get(url(page, org_a)).context["form"]
    assert form["owner"].value() == bob.pk


# --- tap to call, mail to ------------------------------------------------------------------------


def test_phones_and_emails_are_tap_to_call_and_mail_to_links(client, org_a, alice):
    ana = create_contact(
        organization=org_a,
        actor=alice,
        data={
            "first_name": "Ana",
            "email": "ana@exemplu.ro",
            "phone": "+40 721 234 567",
            "extra_emails": [{"email": "a+b?c@x.ro"}],
            "extra_phones": [{"phone": "0744 000 111"}],
        },
    )
    with tenant_context(org_a):
        company = create_company(organization=org_a, actor=alice, name="Gamma", data={"phone": "0212 000 111"})
    client.force_login(alice)
    page = client.get(url("contact_detail", org_a, contact_id=ana.pk)).content.decode()
    assert '<a href="mailto:ana@exemplu.ro" class="mailto">ana@exemplu.ro</a>' in page
    assert '<a href="mailto:a%2Bb%3Fc@x.ro" class="mailto">a+b?c@x.ro</a>' in page  # no header smuggled in
    assert '<a href="tel:+40721234567" class="tel">+40 721 234 567</a>' in page
    assert '<a href="tel:+40744000111" class="tel">+40 744 000 111</a>' in page
    page = client.get(url("company_detail", org_a, company_id=company.pk)).content.decode()
    assert '<a href="tel:+40212000111" class="tel">+40 21 200 0111</a>' in page
    rows = client.get(url("contact_list", org_a)).content.decode()
    assert '<a href="mailto:ana@exemplu.ro">ana@exemplu.ro</a>' in rows
    assert '<a href="tel:+40721234567">+40 721 234 567</a>' in rows  # formatted as on the record
