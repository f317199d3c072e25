"""The one bulk write path (logicnet/bulk) and the import writers on it (imports/writers.py),
against the real PostgreSQL as the application role: modes, dedupe inside the file and
against existing contacts, suppression, restriction, the revert journal, row-level security,
one audit event per batch, rollback mid-batch, and equality with the single-contact service."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from contacts.models import Company, Contact, ContactAddress, ContactEmail, ContactPhone, ContactTag
from contacts.selectors import find_contacts_by_email, find_contacts_by_phone, search_contacts
from contacts.services.contacts import create_contact
from imports.records import Address, CompanyRecord, ContactRecord, ImportOptions, Labelled, MatchOn, Mode
from imports.writers import (
    prepare_companies,
    prepare_contacts,
    revert_companies,
    revert_contacts,
    write_companies,
    write_contacts,
)
from logicnet.audit.models import AuditEvent
from logicnet.bulk.models import RevertEntry
from logicnet.bulk.writes import BulkWriteError, insert_rows, update_rows
from logicnet.tenancy.context import platform_reads, tenant_context
from privacy.models import Suppression


def record(line: int, first: str, last: str = "", email: str = "", phone: str = "", **kw) -> ContactRecord:
    return ContactRecord(
        line=line,
        first_name=first,
        last_name=last,
        emails=[Labelled(email)] if email else [],
        phones=[Labelled(phone)] if phone else [],
        **kw,
    )


def options(**kw) -> ImportOptions:
    return ImportOptions(**{"source_detail": "Existing customers", "lawful_basis": "legitimate interest", **kw})


def stored(organization, model, pk, *columns):
    with tenant_context(organization), connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()


def contacts_of(organization) -> list[Contact]:
    with tenant_context(organization):
        return list(Contact.objects.filter(organization=organization).order_by("created_at", "pk"))


@pytest.fixture
def existing(org_a, alice):
    return create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Ana", "last_name": "Pop", "email": "ana@example.ro", "phone": "0721 000 001"},
    )


def test_creates_contacts_as_the_service_stores_them(org_a, alice):
    rows = [
        ContactRecord(
            line=2,
            first_name="  Ștefan ",
            last_name="Popescu",
            emails=[Labelled("Stefan.Popescu@Exemplu.RO", "work"), Labelled("stefan@home.ro", "home")],
            phones=[Labelled("0722 123 456"), Labelled("+40 31 123 4567", "work")],
            addresses=[Address(city="Cluj-Napoca", country="România")],
            company="Exemplu SRL",
            job_title="Inginer",
            date_of_birth=datetime.date(2015, 5, 1),
            external_id="crm-17",
            tags=["vip", " Newsletter "],
        )
    ]
    with transaction.atomic(), tenant_context(org_a):
        result = write_contacts(org_a, rows, options(tags=["import-2026"]), batch_ref=1, actor=alice)
    assert (result.created, result.updated, result.skipped, result.failed) == (1, 0, 0, 0)
    with tenant_context(org_a):
        contact = Contact.objects.get(organization=org_a)
        assert (contact.first_name, contact.last_name, contact.email, contact.phone) == (
            "Ștefan",
            "Popescu",
            "Stefan.Popescu@exemplu.ro",
            "+40722123456",
        )
        assert contact.is_minor and contact.source == Contact.Source.IMPORT and contact.version == 1
        assert contact.source_detail == "Existing customers — legitimate interest"
        assert contact.created_by_id == alice.pk and contact.external_id == "crm-17"
        assert contact.company.name == "Exemplu SRL"
        assert [e.email for e in ContactEmail.objects.filter(contact=contact)] == ["stefan@home.ro"]
        assert [p.phone for p in ContactPhone.objects.filter(contact=contact)] == ["+40311234567"]
        assert [(a.city, a.country) for a in ContactAddress.objects.filter(contact=contact)] == [("Cluj-Napoca", "RO")]
        assert sorted(t.tag.name for t in ContactTag.objects.filter(contact=contact)) == [
            "Newsletter",
            "import-2026",
            "vip",
        ]
        # Ids come from the table's keyed permutation, not a plain sequence.
        assert contact.pk >= 2**52
    # The same search columns as the single-contact service computes for the same values.
    twin = create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Ștefan", "last_name": "Popescu", "email": "twin@example.ro", "phone": "0722 999 999"},
    )
    assert stored(org_a, Contact, contact.pk, "name_tokens") == stored(org_a, Contact, twin.pk, "name_tokens")
    assert [c.pk for c in find_contacts_by_email(org_a, "STEFAN.popescu@exemplu.ro")] == [contact.pk]
    assert [c.pk for c in find_contacts_by_email(org_a, "stefan@HOME.ro")] == [contact.pk]
    assert [c.pk for c in find_contacts_by_phone(org_a, "0722-123-456")] == [contact.pk]
    assert [c.pk for c in find_contacts_by_phone(org_a, "031 123 4567")] == [contact.pk]
    with tenant_context(org_a):
        assert {c.pk for c in search_contacts(org_a, "stef pop")} == {contact.pk, twin.pk}
    # Ciphertext, never plaintext, in the table.
    first_name, email = stored(org_a, Contact, contact.pk, "first_name", "email")
    assert first_name.startswith("v2.") and "Popescu" not in email


def test_the_obtained_on_day_is_the_platforms_calendar_day(org_a, alice, monkeypatch):
    # 22:30 UTC on 6 December is 00:30 on 7 December in Bucharest: an import then, like a
    # contact added by hand then, was obtained on the 7th (an access request shows the day).
    late = datetime.datetime(2026, 12, 6, 22, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: late)
    with transaction.atomic(), tenant_context(org_a):
        write_contacts(org_a, [record(2, "Ana", email="ana@late.ro")], options(), batch_ref=3, actor=alice)
    by_hand = create_contact(organization=org_a, actor=alice, data={"first_name": "Ion", "email": "ion@late.ro"})
    (imported,) = [c for c in contacts_of(org_a) if c.pk != by_hand.pk]
    assert imported.source_date == by_hand.source_date == datetime.date(2026, 12, 7)
    assert imported.created_at == late


def test_preview_shows_what_will_be_stored_with_errors_and_matches(org_a, alice, existing):
    rows = [
        record(2, "Ana", email="ANA@example.ro"),
        record(3, "Bad", email="not-an-email"),
        record(4, "Dan", phone="12"),
        record(5, "", email="x@example.ro"),
        record(6, "Eva", email="eva@example.ro", addresses=[Address(country="Atlantis")]),
    ]
    with tenant_context(org_a):
        prepared = prepare_contacts(org_a, rows, options())
    assert prepared[0].match == existing.pk and prepared[0].errors == []
    assert prepared[0].values["email"] == "ANA@example.ro"
    assert prepared[1].errors and prepared[2].errors and prepared[3].errors and prepared[4].errors
    assert prepared[4].match is None


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (Mode.CREATE, (1, 0, 1)),
        (Mode.UPDATE, (0, 1, 1)),
        (Mode.CREATE_UPDATE, (1, 1, 0)),
    ],
)
def test_modes(org_a, alice, existing, mode, expected):
    rows = [record(2, "Ana", "Popa", email="ana@example.ro", job_title="Director"), record(3, "Nou", email="nou@x.ro")]
    with tenant_context(org_a):
        result = write_contacts(org_a, rows, options(mode=mode), batch_ref=5, actor=alice)
    assert (result.created, result.updated, result.skipped) == expected
    with tenant_context(org_a):
        ana = Contact.objects.get(pk=existing.pk)
        if mode == Mode.CREATE:
            assert (ana.last_name, ana.job_title, ana.version) == ("Pop", "", 1)
        else:
            assert (ana.last_name, ana.job_title, ana.version) == ("Popa", "Director", 2)
            assert [c.pk for c in search_contacts(org_a, "popa")] == [existing.pk]


def test_duplicates_inside_the_file_are_reported_across_batches(org_a, alice):
    with tenant_context(org_a):
        first = write_contacts(
            org_a,
            [record(2, "Ana", email="ana@x.ro"), record(3, "Ana bis", email="ANA@x.ro")],
            options(),
            batch_ref=9,
            actor=alice,
        )
        second = write_contacts(org_a, [record(4, "Ana ter", email="ana@x.ro")], options(), batch_ref=9, actor=alice)
    assert first.created == 1 and [(o.line, o.reason) for o in first.outcomes] == [(3, "duplicate of line 2")]
    assert second.created == second.updated == 0
    assert [(o.line, o.reason) for o in second.outcomes] == [(4, "duplicate of line 2")]
    assert len(contacts_of(org_a)) == 1


def test_matching_on_phone_and_external_id_and_extra_emails(org_a, alice, existing):
    with tenant_context(org_a):
        ContactEmail.objects.create(organization=org_a, contact=existing, email="ana.work@example.ro")
        by_extra = write_contacts(
            org_a, [record(2, "Ana", email="Ana.Work@example.ro", job_title="CFO")], options(), batch_ref=1, actor=alice
        )
        by_phone = write_contacts(
            org_a,
            [record(2, "Ana", phone="+40 721 000 001", email="ana2@example.ro")],
            options(match_on=MatchOn.PHONE),
            batch_ref=2,
            actor=alice,
        )
        first = write_contacts(
            org_a,
            [record(2, "Ion", external_id="X-1")],
            options(match_on=MatchOn.EXTERNAL_ID),
            batch_ref=3,
            actor=alice,
        )
        again = write_contacts(
            org_a,
            [record(2, "Ion", "Ionescu", external_id="X-1")],
            options(match_on=MatchOn.EXTERNAL_ID),
            batch_ref=4,
            actor=alice,
        )
    assert (by_extra.updated, by_phone.updated, first.created, again.updated) == (1, 1, 1, 1)
    with tenant_context(org_a):
        ana = Contact.objects.get(pk=existing.pk)
        assert ana.job_title == "CFO"
        assert sorted(e.email for e in ContactEmail.objects.filter(contact=ana)) == [
            "ana.work@example.ro",
            "ana2@example.ro",
        ]
        assert Contact.objects.filter(organization=org_a).count() == 2


def test_an_email_of_another_contact_fails_the_row(org_a, alice, existing):
    with tenant_context(org_a):
        result = write_contacts(
            org_a,
            [record(2, "Ana", phone="0799 000 000", email="ana@example.ro")],
            options(match_on=MatchOn.PHONE),
            batch_ref=1,
            actor=alice,
        )
    assert result.failed == 1 and "another contact" in result.outcomes[0].reason


def test_suppressed_people_are_not_imported_again(org_a, alice, existing):
    from privacy.services.fulfilment import _suppress

    with tenant_context(org_a):
        _suppress(existing)
        existing.delete()
        result = write_contacts(
            org_a,
            [record(2, "Ana", email="ana@EXAMPLE.ro"), record(3, "Ana", phone="0721000001"), record(4, "Ok")],
            options(),
            batch_ref=1,
            actor=alice,
        )
        assert Suppression.objects.filter(organization=org_a).count() == 2
    assert result.created == 1 and result.skipped == 2
    assert {o.reason for o in result.outcomes} == {
        "on the suppression list: this person was erased at their request (GDPR Art. 17)"
    }


def test_restricted_contacts_are_not_updated(org_a, alice, existing):
    with tenant_context(org_a):
        Contact.objects.filter(pk=existing.pk).update(restricted_at=timezone.now())
        result = write_contacts(
            org_a, [record(2, "Ana", "Changed", email="ana@example.ro")], options(), batch_ref=1, actor=alice
        )
        assert Contact.objects.get(pk=existing.pk).last_name == "Pop"
    assert result.skipped == 1 and "restricted" in result.outcomes[0].reason


def test_revert_deletes_what_it_created_and_restores_what_it_updated(org_a, alice, existing):
    before = stored(org_a, Contact, existing.pk, "first_name", "last_name", "email_index", "name_tokens", "job_title")
    with tenant_context(org_a):
        result = write_contacts(
            org_a,
            [
                record(2, "Ana", "Popovici", email="ana@example.ro", job_title="CEO", company="Nou SRL", tags=["t"]),
                record(3, "Nou", email="nou@example.ro", phone="0733 000 000"),
            ],
            options(),
            batch_ref=77,
            actor=alice,
        )
        ContactEmail.objects.create(organization=org_a, contact=existing, email="added-later@example.ro")
    assert (result.created, result.updated) == (1, 1)
    with tenant_context(org_a):
        assert RevertEntry.objects.filter(organization=org_a, batch_ref=77).count() == 3  # 2 contacts, 1 company
        totals = revert_contacts(org_a, 77, actor=alice)
    assert totals == {"deleted": 2, "restored": 1, "kept": 0}  # the new contact and the new company
    after = stored(org_a, Contact, existing.pk, "first_name", "last_name", "email_index", "name_tokens", "job_title")
    assert after == before
    with tenant_context(org_a):
        ana = Contact.objects.get(pk=existing.pk)
        assert (ana.last_name, ana.job_title, ana.company_id, ana.version) == ("Pop", "", None, 3)
        assert not ContactTag.objects.filter(contact=ana).exists()
        assert [c.pk for c in Contact.objects.filter(organization=org_a)] == [existing.pk]
        assert not Company.objects.filter(organization=org_a).exists()
        assert not RevertEntry.objects.filter(organization=org_a, batch_ref=77).exists()
        assert [c.pk for c in search_contacts(org_a, "pop")] == [existing.pk]


def test_revert_keeps_a_contact_changed_since(org_a, alice, existing):
    from contacts.services.contacts import update_contact

    with tenant_context(org_a):
        write_contacts(org_a, [record(2, "Ana", "Popa", email="ana@example.ro")], options(), batch_ref=3, actor=alice)
    contact = contacts_of(org_a)[0]
    update_contact(organization=org_a, actor=alice, contact=contact, data={"notes": "x"}, expected_version=2)
    with tenant_context(org_a):
        assert revert_contacts(org_a, 3, actor=alice) == {"deleted": 0, "restored": 0, "kept": 1}
        assert Contact.objects.get(pk=existing.pk).last_name == "Popa"


def test_rls_other_organizations_rows_are_neither_matched_nor_touched(org_a, org_b, alice, charlie, existing):
    with tenant_context(org_b):
        result = write_contacts(
            org_b, [record(2, "Ana", "B", email="ana@example.ro")], options(), batch_ref=1, actor=charlie
        )
    assert result.created == 1 and result.updated == 0
    with tenant_context(org_a):
        assert Contact.objects.get(pk=existing.pk).last_name == "Pop"
        assert revert_contacts(org_a, 1, actor=alice) == {"deleted": 0, "restored": 0, "kept": 0}
    assert len(contacts_of(org_b)) == 1
    # The bulk path refuses to run outside the organization's context.
    with tenant_context(org_b), pytest.raises(BulkWriteError):
        insert_rows(Contact, org_a, [{"first_name": "X"}])


def test_a_batch_gets_permuted_ids_tokens_and_its_references_checked_per_statement(org_a, org_b, alice, charlie):
    """The batch's ids come from one call (logicnet_next_id_batch), in the permuted range and
    in row order; the token triggers write the name tokens; a reference to another
    organization's row fails the whole statement like a missing one (checked once per INSERT,
    logicnet/tenancy/rls.py), and so does an UPDATE that moves a row onto it."""
    with tenant_context(org_b):
        theirs = Company.objects.create(organization=org_b, name="Beta SRL", created_by=charlie)
    with tenant_context(org_a):
        ours = Company.objects.create(organization=org_a, name="Alfa SRL", created_by=alice)
        rows = [{"first_name": f"Ion{i}", "last_name": "Popa", "company_id": ours.pk} for i in range(50)]
        ids = insert_rows(Contact, org_a, rows)
        assert len(set(ids)) == 50 and all(2**52 <= pk < 2**53 for pk in ids)
        names = {contact.pk: contact.first_name for contact in Contact.objects.filter(pk__in=ids)}
        assert [names[pk] for pk in ids] == [row["first_name"] for row in rows]  # ids in row order
        assert search_contacts(org_a, "Ion7", limit=5)[0].pk == ids[7]
        for company_id in (theirs.pk, ours.pk + 10**9):
            with pytest.raises(IntegrityError, match="violates foreign key constraint"), transaction.atomic():
                insert_rows(
                    Contact,
                    org_a,
                    [{"first_name": "Ok", "company_id": ours.pk}, {"first_name": "No", "company_id": company_id}],
                )
        with pytest.raises(IntegrityError, match="violates foreign key constraint"), transaction.atomic():
            update_rows(Contact, org_a, [{"id": ids[0], "company_id": theirs.pk}], ["company_id"])
        assert update_rows(Contact, org_a, [{"id": pk, "company_id": ours.pk} for pk in ids], ["company_id"]) == 50
        assert Contact.objects.filter(organization=org_a).count() == 50


def test_rollback_mid_batch_leaves_nothing(org_a, alice):
    with pytest.raises(RuntimeError), transaction.atomic(), tenant_context(org_a):
        write_contacts(org_a, [record(2, "Ana", email="a@x.ro")], options(), batch_ref=4, actor=alice)
        raise RuntimeError("worker killed")
    with tenant_context(org_a):
        assert not Contact.objects.filter(organization=org_a).exists()
        assert not RevertEntry.objects.filter(organization=org_a).exists()
        # The checkpoint did not move: the same batch runs again, once.
        result = write_contacts(org_a, [record(2, "Ana", email="a@x.ro")], options(), batch_ref=4, actor=alice)
    assert result.created == 1 and len(contacts_of(org_a)) == 1


def test_one_audit_event_per_batch(platform_db, org_a, alice):
    with tenant_context(org_a):
        write_contacts(
            org_a, [record(n, f"P{n}", email=f"p{n}@x.ro") for n in range(2, 52)], options(), batch_ref=8, actor=alice
        )
    with platform_reads():
        events = list(AuditEvent.objects.filter(organization=org_a, action="contact.imported"))
    assert len(events) == 1 and events[0].details["created"] == 50 and len(events[0].details["ids"]) == 50


def test_companies_write_match_and_revert(org_a, alice):
    with tenant_context(org_a):
        first = write_companies(
            org_a,
            [
                CompanyRecord(line=2, name="Acme SRL", domain="https://www.acme.ro/x", phone="021 123 4567"),
                CompanyRecord(line=3, name="ACME  srl"),
                CompanyRecord(line=4, name="Beta SA", tags=["furnizor"]),
            ],
            options(),
            batch_ref=10,
            actor=alice,
        )
        prepared = prepare_companies(org_a, [CompanyRecord(line=2, name="acme srl", industry="IT")], options())
        second = write_companies(
            org_a, [CompanyRecord(line=2, name="acme srl", industry="IT")], options(), batch_ref=11, actor=alice
        )
    assert (first.created, first.skipped, second.updated) == (2, 1, 1)
    assert prepared[0].match is not None
    with tenant_context(org_a):
        acme = Company.objects.get(pk=prepared[0].match)
        assert (acme.name, acme.domain, acme.phone, acme.industry) == ("Acme SRL", "www.acme.ro", "+40211234567", "IT")
        assert revert_companies(org_a, 11, actor=alice)["restored"] == 1
        assert Company.objects.get(pk=acme.pk).industry == ""
        assert revert_companies(org_a, 10, actor=alice)["deleted"] == 2
        assert not Company.objects.filter(organization=org_a).exists()


def test_contact_import_links_existing_companies_by_name(org_a, alice):
    from contacts.services.companies import create_company

    company = create_company(organization=org_a, actor=alice, name="Ștefănescu & Fiii SRL")
    with tenant_context(org_a):
        write_contacts(org_a, [record(2, "Ion", company="STEFANESCU & FIII srl")], options(), batch_ref=1, actor=alice)
        assert Contact.objects.get(organization=org_a).company_id == company.pk
        assert Company.objects.filter(organization=org_a).count() == 1


def test_erasing_a_person_removes_their_journal_so_a_revert_cannot_bring_them_back(org_a, alice, existing):
    from logicnet.personal_data.erasure import execute

    with tenant_context(org_a):
        write_contacts(org_a, [record(2, "Ana", "Popa", email="ana@example.ro")], options(), batch_ref=6, actor=alice)
        assert RevertEntry.objects.filter(organization=org_a, record_id=existing.pk).count() == 1
    execute(contacts_of(org_a)[0], audit=False)
    with tenant_context(org_a):
        assert not RevertEntry.objects.filter(organization=org_a, record_id=existing.pk).exists()
        assert revert_contacts(org_a, 6, actor=alice) == {"deleted": 0, "restored": 0, "kept": 0}
        assert not Contact.objects.filter(pk=existing.pk).exists()


def test_the_plans_contact_limit_fails_new_people_and_keeps_updates(org_a, alice, existing, settings):
    """Billing on, Free plan at its limit: the batch's new people fail with the upgrade message,
    the update of a person already held goes ahead (billing.limits.check_contacts)."""
    from billing.models import Plan
    from billing.plans import ensure_plans

    ensure_plans()
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET, settings.BILLING_ENABLED = "sk_test", "whsec", True
    Plan.objects.filter(is_default=True).update(contacts=1)  # org_a holds one contact: full
    rows = [record(2, "Ana", "Popa", email="ana@example.ro"), record(3, "Nou", email="nou@x.ro")]
    with tenant_context(org_a):
        result = write_contacts(org_a, rows, options(), batch_ref=11, actor=alice)
    assert (result.created, result.updated, result.failed) == (0, 1, 1)
    assert result.outcomes[0].line == 3 and "Billing" in result.outcomes[0].reason
    assert len(contacts_of(org_a)) == 1
