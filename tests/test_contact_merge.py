"""Merging duplicates: chosen values win, everything moves, nothing dangles, it is audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from activity.models import Interaction, InteractionParticipant, Task
from contacts.models import (
    Contact,
    ContactAddress,
    ContactEmail,
    ContactPhone,
    ContactShare,
    ContactTag,
    CustomField,
)
from contacts.services.contacts import create_contact, update_contact
from contacts.services.merge import merge_contacts
from logicnet.audit.models import AuditEvent
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Role
from tests.factories import make_member, make_user


@pytest.fixture
def pair(org_a, alice, bob):
    keep = create_contact(
        organization=org_a,
        actor=alice,
        data={
            "first_name": "Ana",
            "last_name": "Pop",
            "email": "ana@exemplu.ro",
            "phone": "+40 721 234 567",
            "job_title": "CEO",
            "tags": ["vip", "client"],
            "extra_emails": [{"email": "ana@home.ro", "label": "home"}],
        },
    )
    gone = create_contact(
        organization=org_a,
        actor=alice,
        data={
            "first_name": "Ana-Maria",
            "last_name": "Pop",
            "email": "anamaria@exemplu.ro",
            "phone": "0721 234 567",  # the same number, written differently
            "job_title": "",
            "tags": ["vip", "newsletter"],
            "extra_emails": [{"email": "am@work.ro", "label": "work"}],
            "extra_phones": [{"phone": "0744 555 666", "label": "home"}],
            "addresses": [{"city": "Cluj", "country": "RO"}],
            "owner": bob,
        },
    )
    with tenant_context(org_a):
        both = Interaction.objects.create(organization=org_a, subject="Meeting", author=alice)
        only_gone = Interaction.objects.create(organization=org_a, subject="Call", author=alice)
        for interaction, contact in ((both, keep), (both, gone), (only_gone, gone)):
            InteractionParticipant.objects.create(
                organization=org_a, interaction=interaction, contact=contact, occurred_at=interaction.occurred_at
            )
        Task.objects.create(organization=org_a, title="Call back", contact=gone, assignee=alice)
        ContactShare.objects.create(organization=org_a, contact=gone, user=bob)
    return keep, gone


def _fk_violations() -> list:
    """Rows pointing at a contact that no longer exists, for every table with a foreign key
    to contacts_contact (asked of the catalog, so a later table is covered too)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT cl.relname, a.attname
              FROM pg_constraint c
              JOIN pg_class cl ON cl.oid = c.conrelid
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
             WHERE c.contype = 'f' AND c.confrelid = 'contacts_contact'::regclass
            """
        )
        references = cursor.fetchall()
        dangling = []
        for table, column in references:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" t WHERE t."{column}" IS NOT NULL'
                f' AND NOT EXISTS (SELECT 1 FROM contacts_contact c WHERE c.id = t."{column}")'
            )
            if cursor.fetchone()[0]:
                dangling.append((table, column))
        return dangling


def test_merge_moves_everything_and_leaves_nothing_dangling(org_a, alice, bob, pair):
    keep, gone = pair
    merged = merge_contacts(
        organization=org_a,
        actor=alice,
        survivor=keep,
        duplicate=gone,
        choices={"first_name": "duplicate", "email": "duplicate", "owner": "duplicate", "job_title": "survivor"},
    )
    with tenant_context(org_a):
        assert not Contact.objects.filter(pk=gone.pk).exists()
        contact = Contact.objects.get(pk=keep.pk)
        assert contact.first_name == "Ana-Maria" and contact.job_title == "CEO" and contact.owner == bob
        assert contact.email == "anamaria@exemplu.ro"
        assert merged.version == contact.version == 2
        # The survivor's old primary email is kept as a further one, with the duplicate's.
        assert sorted(e.email for e in ContactEmail.objects.filter(contact=contact)) == [
            "am@work.ro",
            "ana@exemplu.ro",
            "ana@home.ro",
        ]
        # The same phone in two spellings is kept once; the further one moves (in E.164).
        assert [p.phone for p in ContactPhone.objects.filter(contact=contact)] == ["+40744555666"]
        assert ContactAddress.objects.get(contact=contact).city == "Cluj"
        assert sorted(t.name for t in contact.tags.all()) == ["client", "newsletter", "vip"]
        assert ContactTag.objects.filter(contact=contact).count() == 3
        assert InteractionParticipant.objects.filter(contact=contact).count() == 2
        assert Task.objects.get().contact_id == contact.pk
        assert ContactShare.objects.get().contact_id == contact.pk
        event = AuditEvent.objects.get(organization=org_a, action="contact.merged")
    assert event.target_id == str(keep.pk)
    assert event.details["survivor_id"] == keep.pk and event.details["duplicate_id"] == gone.pk
    assert "Ana" not in str(event.details)  # no personal data in the audit row
    assert _fk_violations() == []


def test_merge_keeping_the_survivors_email_keeps_the_other_as_further(org_a, alice, pair):
    keep, gone = pair
    merge_contacts(organization=org_a, actor=alice, survivor=keep, duplicate=gone, choices={})
    with tenant_context(org_a):
        contact = Contact.objects.get(pk=keep.pk)
        assert contact.email == "ana@exemplu.ro" and contact.first_name == "Ana"
        assert "anamaria@exemplu.ro" in [e.email for e in ContactEmail.objects.filter(contact=contact)]


def test_merge_refuses_itself_and_a_stale_pair(org_a, alice, pair):
    keep, gone = pair
    with pytest.raises(ValidationError):
        merge_contacts(organization=org_a, actor=alice, survivor=keep, duplicate=keep, choices={})
    update_contact(organization=org_a, actor=alice, contact=gone, data={"job_title": "CFO"}, expected_version=1)
    with pytest.raises(ValidationError, match="changed by someone else"):
        merge_contacts(
            organization=org_a, actor=alice, survivor=keep, duplicate=gone, choices={}, expected_versions=(1, 1)
        )
    with tenant_context(org_a):
        assert Contact.objects.filter(pk=gone.pk).exists()


def test_merge_page_shows_choices_and_merges(client, org_a, alice, pair):
    keep, gone = pair
    client.force_login(alice)
    page_url = reverse(
        "contact_merge", kwargs={"org_slug": org_a.slug, "contact_id": keep.pk, "other_contact_id": gone.pk}
    )
    page = client.get(page_url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Ana-Maria" in body and 'type="radio"' in body and 'name="email"' in body
    detail = client.get(reverse("contact_detail", kwargs={"org_slug": org_a.slug, "contact_id": keep.pk}))
    assert page_url in detail.content.decode()  # the detail page offers the merge
    response = client.post(page_url, {"keep": "a", "a_version": "1", "b_version": "1", "first_name": "b", "email": "a"})
    assert response.status_code == 302
    with tenant_context(org_a):
        assert Contact.objects.get(pk=keep.pk).first_name == "Ana-Maria"
        assert not Contact.objects.filter(pk=gone.pk).exists()
    assert _fk_violations() == []


def test_merge_page_outsider_404_and_read_only_403(client, org_a, org_b, charlie, pair):
    keep, gone = pair
    for slug in (org_a.slug, org_b.slug):
        page_url = reverse(
            "contact_merge", kwargs={"org_slug": slug, "contact_id": keep.pk, "other_contact_id": gone.pk}
        )
        client.force_login(charlie)
        assert client.get(page_url).status_code == 404
        assert client.post(page_url, {"keep": "a", "a_version": "1", "b_version": "1"}).status_code == 404
    reader = make_user("reader@example.com", "Read Only")
    make_member(org_a, reader, Role.READ_ONLY)
    client.force_login(reader)
    page_url = reverse(
        "contact_merge", kwargs={"org_slug": org_a.slug, "contact_id": keep.pk, "other_contact_id": gone.pk}
    )
    assert client.get(page_url).status_code == 403
    assert client.post(page_url, {"keep": "a", "a_version": "1", "b_version": "1"}).status_code == 403
    with tenant_context(org_a):
        assert Contact.objects.filter(pk__in=[keep.pk, gone.pk]).count() == 2


# --- choosing the survivor, custom fields -------------------------------------------------------


def _merge_url(org, one, two) -> str:
    return reverse("contact_merge", kwargs={"org_slug": org.slug, "contact_id": one.pk, "other_contact_id": two.pk})


def test_the_fuller_older_record_is_preselected_as_survivor(client, org_a, alice, pair):
    keep, _gone = pair
    # A nearly empty record just typed in, from whose page the merge is started.
    newcomer = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "ana2@exemplu.ro"})
    client.force_login(alice)
    page = client.get(_merge_url(org_a, newcomer, keep))
    assert page.context["keep"] == "b"  # the full record, not the page the merge came from
    body = page.content.decode()
    assert 'name="keep" value="b" checked' in body and 'name="keep" value="a" checked' not in body
    # A field the survivor lacks starts at the other's value; the rest at the survivor's.
    rows = {row["field"].name: row["checked"] for row in page.context["rows"]}
    assert rows["first_name"] == "b" and rows["job_title"] == "b" and rows["email"] == "b"
    # Keeping the newcomer instead, with the full record's values chosen column by column.
    response = client.post(
        _merge_url(org_a, newcomer, keep),
        {"keep": "a", "a_version": "1", "b_version": "1", "last_name": "b", "job_title": "b", "email": "a"},
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        merged = Contact.objects.get(pk=newcomer.pk)
        assert not Contact.objects.filter(pk=keep.pk).exists()
        assert (merged.first_name, merged.last_name, merged.job_title, merged.email) == (
            "Ana",
            "Pop",
            "CEO",
            "ana2@exemplu.ro",
        )


def test_custom_fields_are_chosen_one_by_one(client, org_a, alice):
    with tenant_context(org_a):
        CustomField.objects.create(organization=org_a, entity="contact", key="vat", label="VAT number", kind="text")
        CustomField.objects.create(organization=org_a, entity="contact", key="team", label="Team", kind="text")
        CustomField.objects.create(
            organization=org_a, entity="contact", key="cnp", label="CNP", kind="text", is_personal=True
        )
    one = create_contact(
        organization=org_a,
        actor=alice,
        data={
            "first_name": "Ion",
            "last_name": "Pop",
            "custom": {"vat": "RO1", "team": "North", "cnp": "1800101"},
        },
    )
    two = create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Ion", "custom": {"vat": "RO2", "cnp": "2900202"}},
    )
    client.force_login(alice)
    page = client.get(_merge_url(org_a, one, two))
    body = page.content.decode()
    for label, value in (("VAT number", "RO1"), ("VAT number", "RO2"), ("CNP", "2900202"), ("Team", "North")):
        assert label in body and value in body
    assert 'name="cf_vat" value="a" checked' in body
    response = client.post(
        _merge_url(org_a, one, two),
        {"keep": "a", "a_version": "1", "b_version": "1", "cf_vat": "b", "cf_cnp": "b", "cf_team": "b"},
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        merged = Contact.objects.get(pk=one.pk)
        # Taken from the other: its VAT and CNP, and its empty team.
        assert merged.custom == {"vat": "RO2"}
        assert merged.custom_personal == {"cnp": "2900202"}
        event = AuditEvent.objects.filter(action="contact.merged").get()
    assert event.details["fields_from_duplicate"] == ["cf_cnp", "cf_team", "cf_vat"]


def test_unchosen_custom_fields_keep_the_survivors_value_or_take_the_others(org_a, alice):
    with tenant_context(org_a):
        CustomField.objects.create(organization=org_a, entity="contact", key="vat", label="VAT", kind="text")
        CustomField.objects.create(organization=org_a, entity="contact", key="team", label="Team", kind="text")
    one = create_contact(organization=org_a, actor=alice, data={"first_name": "A", "custom": {"vat": "RO1"}})
    two = create_contact(
        organization=org_a, actor=alice, data={"first_name": "B", "custom": {"vat": "RO2", "team": "South"}}
    )
    merged = merge_contacts(organization=org_a, actor=alice, survivor=one, duplicate=two, choices={})
    assert merged.custom == {"vat": "RO1", "team": "South"}
