"""Access and portability packages (logicnet/personal_data/access.py): everything the registry
classifies about a subject, secrets and other people's data left out, in JSON (against its
published schema), CSV and HTML."""

from __future__ import annotations

import csv
import datetime
import io
import json

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.services.contacts import create_contact
from logicnet.personal_data.access import (
    ANOTHER_PERSON,
    PACKAGE_SCHEMA,
    article_15_information,
    collect,
    provided_fields,
    to_csv_files,
    to_html,
    to_json,
)
from tests import subject_data as s
from tests.factories import make_user


@pytest.fixture
def subject(org_a, alice):
    return s.make_subject(org_a, alice)


def test_collect_gathers_the_contacts_data_across_models(subject, alice):
    contact = subject["contact"]
    data = collect("contact", contact, audit=False)
    sections = data.sections
    (row,) = sections["contacts.Contact"]
    assert row["id"] == contact.pk
    assert (row["first_name"], row["last_name"], row["email"]) == (s.FIRST, s.LAST, s.EMAIL)
    assert row["notes"] == s.NOTE and row["source_detail"] == "Glimmerholt fair"
    # Custom values under the organization's labels, the personal ones decrypted.
    assert row["custom"] == {"Quarry": s.QUARRY}
    assert row["custom_personal"] == {"Nickname": s.NICKNAME}
    assert row["company"] == "Wexbrindle Holdings"
    assert sorted(row["tags"]) == ["tea", "vip"]
    # A team member by name only; search columns are no information and stay out.
    assert row["owner"] == alice.full_name == "Alice Alpha"
    assert not {"email_index", "phone_index", "name_tokens"} & set(row)
    assert "contacts.ContactNameToken" not in sections
    assert [r["email"] for r in sections["contacts.ContactEmail"]] == [s.EXTRA_EMAIL]
    assert [r["street"] for r in sections["contacts.ContactAddress"]] == [s.STREET]
    assert len(sections["contacts.ContactPhone"]) == 1
    assert sorted(r["tag"] for r in sections["contacts.ContactTag"]) == ["tea", "vip"]
    assert [r["title"] for r in sections["activity.Task"]] == [s.TASK_TITLE]
    interactions = {r["subject"]: r for r in sections["activity.Interaction"]}
    shared = interactions[s.SHARED_INTERACTION[0]]
    assert sorted(map(str, shared["participants"])) == sorted([str(contact.pk), ANOTHER_PERSON, ANOTHER_PERSON])
    assert shared["author"] == "Alice Alpha"
    assert len(sections["activity.InteractionParticipant"]) == 2


def test_other_people_and_other_organizations_stay_out(subject, org_b, charlie):
    create_contact(organization=org_b, actor=charlie, data={"first_name": "Bogdan", "email": s.EMAIL})
    text = to_json(collect("contact", subject["contact"], audit=False)).decode()
    for other in s.OTHERS:
        for value in other.values():
            assert value not in text
    assert "Bogdan" not in text


def test_provided_only_is_the_portability_subset(subject):
    data = collect("contact", subject["contact"], provided_only=True, audit=False)
    (row,) = data.sections["contacts.Contact"]
    assert row["email"] == s.EMAIL and row["first_name"] == s.FIRST
    # Staff notes and where the data came from are not what the person provided.
    assert "notes" not in row and "source_detail" not in row and "owner" not in row
    assert "activity.Task" not in data.sections and "activity.Interaction" not in data.sections
    assert data.information is None
    assert set(row) - {"id"} <= set(provided_fields("contact")["contacts.Contact"])


def test_json_validates_against_the_published_schema_and_csv_and_html_are_readable(subject):
    data = collect("contact", subject["contact"], audit=False)
    document = json.loads(to_json(data))
    jsonschema.validate(document, PACKAGE_SCHEMA)
    jsonschema.validate(json.loads(to_json(collect("contact", subject["contact"], provided_only=True))), PACKAGE_SCHEMA)

    files = to_csv_files(data)
    assert set(files) == {f"{label.replace('.', '_').lower()}.csv" for label in data.sections}
    reader = csv.DictReader(io.StringIO(files["contacts_contact.csv"].decode("utf-8-sig")))
    (row,) = list(reader)
    assert row["email"] == s.EMAIL
    assert json.loads(row["custom_personal"]) == {"Nickname": s.NICKNAME}

    html = to_html(data)
    assert s.EMAIL in html and "Quenbyra" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html  # escaped
    assert "http://" not in html.replace("https://www.dataprotection.ro", "")  # no external assets
    assert "<link" not in html and "<script" not in html and "ANSPDCP" in html


def test_secrets_never_go_into_a_users_package(platform_db, org_a, alice):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from logicnet.tenancy.context import user_context

    with user_context(alice):  # devices are written by the web role only for their acting user
        TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    data = collect("user", alice)
    (user_row,) = data.sections["accounts.User"]
    assert user_row["email"] == "alice@example.com" and "password" not in user_row
    text = to_json(data).decode()
    assert alice.password not in text
    for device in data.sections.get("otp_totp.TOTPDevice", []):
        assert "key" not in device
    assert "sessions.Session" not in data.sections  # keys and session data only: secrets
    assert data.information["controller"]["name"] == "Logicnet"
    jsonschema.validate(json.loads(text), PACKAGE_SCHEMA)


def test_audit_entries_about_the_contact_are_included_without_the_actor(platform_db, alice):
    from tests.factories import make_organization

    organization = make_organization("Gamma SRL", owner=alice)
    contact = create_contact(organization=organization, actor=alice, data={"first_name": "Ana"})
    data = collect("contact", contact)
    events = data.sections["audit.AuditEvent"]
    assert [e["action"] for e in events] == ["contact.created"]
    assert events[0]["target_id"] == str(contact.pk)
    assert events[0]["actor_id"] == ANOTHER_PERSON
    assert "ip_address" in events[0]


def test_article_15_information_comes_from_the_registry(org_a):
    info = article_15_information(org_a, retention_overrides={"contact": datetime.timedelta(days=3 * 365)})
    assert info["controller"] == {"name": org_a.name, "role": "controller", "processor": "Logicnet", "country": "RO"}
    purposes = {p["key"]: p for p in info["purposes"]}
    assert purposes["customer_relationships"]["role"] == "processor"
    assert purposes["customer_relationships"]["legal_basis"] == "f"
    assert info["complaint"]["authority"] == "ANSPDCP"
    assert "automated" in info["automated_decision_making"]
    retention = {r["key"]: r for r in info["retention"]}
    assert retention["contact"]["duration_days"] == 3 * 365 and retention["contact"]["set_by_organization"]
    assert {"15", "16", "17", "18", "20", "21"} <= {r["article"] for r in info["rights"]}
    assert info["recipients"] and info["categories"] and info["stores"]
    with pytest.raises(ValueError, match="cannot be overridden"):
        article_15_information(org_a, retention_overrides={"security_log": datetime.timedelta(days=1)}, kind="user")


def _contact_with_interactions(organization, actor, name: str, count: int):
    from django.utils import timezone

    from activity.services import log_interaction

    contact = create_contact(
        organization=organization,
        actor=actor,
        data={"first_name": name, "email": f"{name}@example.test", "tags": ["a"]},
    )
    partner = create_contact(organization=organization, actor=actor, data={"first_name": f"{name}-partner"})
    for n in range(count):
        log_interaction(
            organization=organization,
            actor=actor,
            kind="note",
            occurred_at=timezone.now() - datetime.timedelta(hours=n),
            subject=f"note {n}",
            body="details",
            contacts=[contact, partner],
        )
    return contact


def test_query_count_does_not_grow_with_the_interactions(org_a, alice, django_assert_max_num_queries):
    few = _contact_with_interactions(org_a, alice, "few", 5)
    many = _contact_with_interactions(org_a, alice, "many", 50)
    with CaptureQueriesContext(connection) as captured:
        assert len(collect("contact", few, audit=False).sections["activity.Interaction"]) == 5
    with django_assert_max_num_queries(len(captured.captured_queries)):
        data = collect("contact", many, audit=False)
    assert len(data.sections["activity.Interaction"]) == 50
    # Participants in no particular order (ids are not chronological): the subject and "another person".
    assert all(
        set(r["participants"]) == {many.pk, ANOTHER_PERSON} and len(r["participants"]) == 2
        for r in data.sections["activity.Interaction"]
    )


def test_a_new_user_has_a_small_package(platform_db):
    user = make_user("dora@example.com", "Dora Delta")
    data = collect("user", user)
    assert data.sections["accounts.User"][0]["full_name"] == "Dora Delta"
    assert data.sections["account.EmailAddress"][0]["email"] == "dora@example.com"


def test_the_package_holds_the_contacts_deals_and_transactions(subject, alice):
    """The sales issue landed: a contact's deals, their line items and the contact's
    transactions are in the package through the registry's subject paths; a deal's other
    people are not."""
    from decimal import Decimal

    from deals.services.deals import add_line_item, create_deal
    from deals.services.pipelines import default_pipeline
    from deals.services.transactions import record_transaction
    from logicnet.tenancy.context import tenant_context

    contact = subject["contact"]
    organization = contact.organization
    pipeline = default_pipeline(organization, alice)
    with tenant_context(organization):
        stage = pipeline.stages.order_by("position").first()
    other = create_contact(organization=organization, actor=alice, data={"first_name": "Someone", "last_name": "Else"})
    deal = create_deal(
        organization=organization,
        actor=alice,
        title="Quarry tools for Glimmerholt",
        stage=stage,
        value=Decimal("1200.00"),
        contacts=[contact, other],
    )
    add_line_item(
        organization=organization,
        actor=alice,
        deal=deal,
        description="Chisels",
        quantity=Decimal("2"),
        unit_price=Decimal("30.00"),
    )
    record_transaction(
        organization=organization,
        actor=alice,
        kind="payment",
        date=datetime.date(2026, 11, 2),
        amount=Decimal("600.00"),
        currency="RON",
        reference="OP-17",
        description="Advance for the tools",
        contact=contact,
        deal=deal,
    )
    sections = collect("contact", contact, audit=False).sections
    assert [r["title"] for r in sections["deals.Deal"]] == ["Quarry tools for Glimmerholt"]
    assert [r["description"] for r in sections["deals.DealLineItem"]] == ["Chisels"]
    assert [r["description"] for r in sections["deals.Transaction"]] == ["Advance for the tools"]
    assert "Someone" not in json.dumps(to_json(collect("contact", contact, audit=False)), default=str)
