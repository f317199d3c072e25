"""Imports of a sales history: deals (pipeline and stage by name, value and currency, status,
close date, owner, company, people by email) and transactions (type, date, amount, currency,
reference, contact or company, linked deal), through the import job, with the row report,
the revert and the tenant walls."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contacts.models import Company, Contact
from contacts.services.companies import create_company
from contacts.services.contacts import create_contact
from deals.models import Deal, DealEvent, Transaction
from deals.services.catalog import create_lost_reason
from deals.services.deals import create_deal
from deals.services.pipelines import create_pipeline, default_pipeline
from imports import services
from imports.mapping_sales import read_date
from imports.models import Import
from imports.records import ImportOptions
from imports.sales_writers import read_amount
from logicnet.audit.models import AuditEvent
from logicnet.jobs.services import execute_job
from logicnet.tenancy.context import tenant_context


@pytest.fixture(autouse=True)
def imports_dir(tmp_path, settings):
    settings.IMPORTS_DIR = tmp_path / "imports"
    return settings.IMPORTS_DIR


@pytest.fixture
def crm(org_a, org_b, alice, charlie):
    sales = default_pipeline(org_a, alice)
    partners = create_pipeline(organization=org_a, actor=alice, name="Partners", stages=[("Intro", 10), ("Signed", 90)])
    create_lost_reason(organization=org_a, actor=alice, name="Price")
    acme = create_company(organization=org_a, actor=alice, name="Șantierul Nou SRL")
    ana = create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Ana", "last_name": "Ștefănescu", "email": "ana@exemplu.ro", "company": acme},
    )
    ion = create_contact(organization=org_a, actor=alice, data={"first_name": "Ion", "email": "ion@exemplu.ro"})
    # Another organization's look-alike: never linked from organization A's import.
    create_contact(organization=org_b, actor=charlie, data={"first_name": "X", "email": "necunoscut@exemplu.ro"})
    create_company(organization=org_b, actor=charlie, name="Firma Nouă SRL")
    return {"sales": sales, "partners": partners, "acme": acme, "ana": ana, "ion": ion}


def upload(org, user, text: str, name: str = "sales.csv", kind: str = "contacts") -> Import:
    imp = services.create_import(
        organization=org, actor=user, uploaded=SimpleUploadedFile(name, text.encode("utf-8")), kind=kind
    )
    with tenant_context(org):
        imp.refresh_from_db()
    return imp


def run_import(org, user, imp: Import, options: ImportOptions | None = None) -> Import:
    services.set_mapping(imp=imp, actor=user, columns=services.mapping.columns_from_json(imp.columns), kind=imp.kind)
    services.set_options(imp=imp, options=options or ImportOptions())
    imp, _started = services.start_import(imp=imp, actor=user)
    execute_job(organization_id=org.pk, job_id=imp.job_id, final_attempt=True)
    with tenant_context(org):
        imp.refresh_from_db()
    return imp


def report(imp: Import) -> list[list[str]]:
    return list(csv.reader(io.StringIO(services.error_report(imp).lstrip("\ufeff"))))[1:]


def revert(org, user, imp: Import) -> Import:
    imp, _started = services.start_revert(imp=imp, actor=user)
    execute_job(organization_id=org.pk, job_id=imp.revert_job_id, final_attempt=True)
    with tenant_context(org):
        imp.refresh_from_db()
    return imp


DEALS = (
    "Deal Title,Pipeline,Stage,Value,Currency,Status,Lost Reason,Close Date,Owner,Organization,Contact Emails,Notes,Tags\n"
    'Ofertă birouri,Sales,proposal  SENT,"12.500,50",EUR,open,,2026-12-20,BOB@example.com,Șantierul Nou SRL,'
    '"ana@exemplu.ro; ion@exemplu.ro",Etaj 3,renovare\n'
    "Mentenanță,,,1 200,,câștigat,,05.03.2026,,Firma Nouă SRL,,,\n"
    'Licențe,Partners,Signed,"1,200.75",USD,lost,price,2026-02-01,someone@else.ro,,necunoscut@exemplu.ro,,\n'
    "Greșit,Sales,Closed,abc,JPY,maybe,,,,,,,\n"
)


def test_amounts_and_dates_as_people_write_them():
    assert read_amount("12.500,50") == (Decimal("12500.50"), "")
    assert read_amount("12,500.50") == (Decimal("12500.50"), "")
    assert read_amount("1 200") == (Decimal("1200"), "")
    assert read_amount("1,5") == (Decimal("1.5"), "")
    assert read_amount("1.234.567") == (Decimal("1234567"), "")
    assert read_amount("950 EUR") == (Decimal("950"), "EUR")
    assert read_amount("€ 10,99") == (Decimal("10.99"), "EUR")
    assert read_amount("250 lei") == (Decimal("250"), "RON")
    assert read_amount("-5") == (Decimal("-5"), "")
    assert read_amount("abc") == (None, "")
    assert read_date("2026-03-05 00:00:00") == datetime.date(2026, 3, 5)
    assert read_date("05.03.2026") == datetime.date(2026, 3, 5)


def test_a_deals_file_is_recognised_mapped_and_previewed_as_stored(org_a, alice, crm):
    imp = upload(org_a, alice, DEALS)
    assert imp.kind == Import.Kind.DEALS  # proposed from the headers
    fields = [c["field"] for c in imp.columns]
    assert fields == [
        "title",
        "pipeline",
        "stage",
        "value",
        "currency",
        "status",
        "lost_reason",
        "close_date",
        "owner",
        "company",
        "contacts",
        "notes",
        "tags",
    ]
    services.set_mapping(imp=imp, actor=alice, columns=services.mapping.columns_from_json(imp.columns), kind="deals")
    rows, prepared = services.preview(imp, org_a)
    assert prepared and [r.line for r in rows] == [2, 3, 4, 5]
    first = rows[0].values
    assert (first["pipeline"], first["stage"], first["value"], first["currency"]) == (
        "Sales",
        "Proposal sent",
        Decimal("12500.50"),
        "EUR",
    )
    assert first["contacts"] == ["ana@exemplu.ro", "ion@exemplu.ro"] and first["owner"] == "bob@example.com"
    assert rows[2].notes == [
        "someone@else.ro is not a member of the organization: the deal goes to the import's owner.",
        "No contact has the address necunoscut@exemplu.ro: the deal was imported without them.",
    ]
    assert rows[3].errors == [
        "The pipeline Sales has no stage Closed (its stages are: Qualified, Contact made, Proposal sent, Negotiation).",
        "Value: abc is not an amount.",
        "Deals are in RON, EUR, USD, not JPY.",
        "maybe is not a status (open, won or lost).",
    ]


def test_deals_import_with_people_companies_history_report_and_revert(org_a, org_b, alice, bob, crm):
    imp = run_import(org_a, alice, upload(org_a, alice, DEALS))
    assert imp.status == Import.Status.DONE
    assert (imp.created_count, imp.updated_count, imp.skipped_count, imp.failed_count) == (3, 0, 0, 1)
    with tenant_context(org_a):
        deals = {d.title: d for d in Deal.objects.prefetch_related("contacts", "tags")}
        assert set(deals) == {"Ofertă birouri", "Mentenanță", "Licențe"}
        offer = deals["Ofertă birouri"]
        assert (offer.pipeline_id, offer.stage.name, offer.value, offer.currency) == (
            crm["sales"].pk,
            "Proposal sent",
            Decimal("12500.50"),
            "EUR",
        )
        assert (offer.status, offer.expected_close, offer.owner_id, offer.company_id) == (
            "open",
            datetime.date(2026, 12, 20),
            bob.pk,
            crm["acme"].pk,
        )
        assert {c.pk for c in offer.contacts.all()} == {crm["ana"].pk, crm["ion"].pk}
        assert [t.name for t in offer.tags.all()] == ["renovare"] and offer.notes == "Etaj 3"
        won = deals["Mentenanță"]
        assert (won.stage.name, won.value, won.currency, won.status, won.owner_id) == (
            "Qualified",
            Decimal("1200.00"),
            "RON",
            "won",
            alice.pk,
        )
        assert timezone.localtime(won.closed_at).date() == datetime.date(2026, 3, 5)
        assert won.company.name == "Firma Nouă SRL"  # created in A, not taken from B
        assert set(won.events.values_list("kind", "from_value", "to_value")) == {
            (DealEvent.Kind.CREATED, "", "1200.00 RON"),
            (DealEvent.Kind.STATUS, "open", "won"),
        }
        lost = deals["Licențe"]
        assert (lost.pipeline_id, lost.stage.name, lost.value, lost.currency, lost.status, lost.lost_reason.name) == (
            crm["partners"].pk,
            "Signed",
            Decimal("1200.75"),
            "USD",
            "lost",
            "Price",
        )
        assert list(lost.contacts.all()) == [] and lost.owner_id == alice.pk
        # One audit event for the batch, naming ids only.
        event = AuditEvent.objects.get(action="deal.imported")
        assert event.details["created"] == 3 and "Ofertă" not in str(event.details)
    assert report(imp) == [
        ["4", "note", "someone@else.ro is not a member of the organization: the deal goes to the import's owner."],
        ["4", "note", "No contact has the address necunoscut@exemplu.ro: the deal was imported without them."],
        [
            "5",
            "failed",
            "The pipeline Sales has no stage Closed (its stages are: Qualified, Contact made, Proposal sent, "
            "Negotiation).; Value: abc is not an amount.; Deals are in RON, EUR, USD, not JPY.; "
            "maybe is not a status (open, won or lost).",
        ],
    ]
    with tenant_context(org_b):
        assert Deal.objects.count() == 0

    imp = revert(org_a, alice, imp)
    assert imp.status == Import.Status.REVERTED and imp.revert_result == {"deleted": 4, "restored": 0, "kept": 0}
    with tenant_context(org_a):
        assert Deal.objects.count() == 0 and DealEvent.objects.count() == 0
        assert [c.name for c in Company.objects.all()] == ["Șantierul Nou SRL"]
        assert Contact.objects.count() == 2  # the people the deals named stay


TRANSACTIONS = (
    "Type,Date,Amount,Currency,Invoice Number,Description,Contact Email,Company,Deal\n"
    'Factură,2026-03-01,"1.500,00",RON,F-001,Prima factură,ana@exemplu.ro,,ofertă  BIROURI\n'
    "payment,2026-03-10,1500,,F-001,,ana@exemplu.ro,,\n"
    "invoice,05/04/2026,250.5 EUR,,F-002,,,Alt Client SRL,\n"
    "invoice,2026-04-06,10,,F-002,,,Alt Client SRL,\n"
    "refund,2026-04-07,-5,,,,nimeni@exemplu.ro,,\n"
    "order,,100,,,,ion@exemplu.ro,,Nu există\n"
)


def test_transactions_import_links_people_and_deals_skips_repeats_and_reverts(org_a, org_b, alice, crm, monkeypatch):
    with tenant_context(org_a):
        first_stage = crm["sales"].stages.order_by("position").first()
    offer = create_deal(
        organization=org_a, actor=alice, title="Ofertă birouri", stage=first_stage, contacts=[crm["ana"]]
    )
    monkeypatch.setattr(services, "BATCH_SIZE", 3)  # the repeated F-002 is in the next batch
    imp = upload(org_a, alice, TRANSACTIONS, name="facturi.csv")
    assert imp.kind == Import.Kind.TRANSACTIONS
    imp = run_import(org_a, alice, imp)
    assert (imp.created_count, imp.skipped_count, imp.failed_count) == (3, 1, 2)
    with tenant_context(org_a):
        names = {c.pk: c.name for c in Company.objects.all()}
        rows = [
            (*row[:6], names[row[6]], row[7])
            for row in Transaction.objects.order_by("date").values_list(
                "kind", "date", "amount", "currency", "reference", "contact_id", "company_id", "deal_id"
            )
        ]
        assert rows == [
            ("invoice", datetime.date(2026, 3, 1), Decimal("1500.00"), "RON", "F-001", crm["ana"].pk, "Șantierul Nou SRL", offer.pk),
            ("payment", datetime.date(2026, 3, 10), Decimal("1500.00"), "RON", "F-001", crm["ana"].pk, "Șantierul Nou SRL", None),
            ("invoice", datetime.date(2026, 4, 5), Decimal("250.50"), "EUR", "F-002", None, "Alt Client SRL", None),
        ]  # fmt: skip
        assert Transaction.objects.get(date=datetime.date(2026, 3, 1)).description == "Prima factură"
    assert report(imp) == [
        ["5", "skipped", "duplicate of line 4"],
        ["6", "failed", "Enter the amount without a sign; a refund is its own type."],
        ["7", "failed", "This row has no date."],
    ]
    with tenant_context(org_b):
        assert Transaction.objects.count() == 0

    # The same file again records nothing twice.
    again = run_import(org_a, alice, upload(org_a, alice, TRANSACTIONS, name="facturi.csv"))
    assert (again.created_count, again.skipped_count, again.failed_count) == (0, 4, 2)
    assert report(again)[0] == ["2", "skipped", "already recorded (Invoice F-001)"]

    imp = revert(org_a, alice, imp)
    assert imp.revert_result == {"deleted": 4, "restored": 0, "kept": 0}  # three rows and the new company
    with tenant_context(org_a):
        assert Transaction.objects.count() == 0
        assert Deal.objects.filter(pk=offer.pk).exists()


def test_an_unknown_deal_title_is_a_note_and_the_options_page_fits_the_kind(client, org_a, alice, crm):
    text = "Type,Date,Amount,Contact Email,Deal\ninvoice,2026-03-01,100,ion@exemplu.ro,Nu există\n"
    imp = upload(org_a, alice, text, kind="transactions")
    assert imp.kind == Import.Kind.TRANSACTIONS
    services.set_mapping(
        imp=imp, actor=alice, columns=services.mapping.columns_from_json(imp.columns), kind="transactions"
    )
    rows, _prepared = services.preview(imp, org_a)
    assert rows[0].errors == []
    assert rows[0].notes == [
        "no deal of this contact or company is titled Nu există: the transaction was imported without a deal."
    ]
    client.force_login(alice)
    page = client.get(reverse("import_preview", args=[org_a.slug, imp.pk])).content.decode()
    assert "Lawful basis" not in page and 'name="mode"' not in page
    response = client.post(reverse("import_preview", args=[org_a.slug, imp.pk]), {"start": "1"})
    assert response.status_code == 302
    with tenant_context(org_a):
        imp.refresh_from_db()
    assert imp.status == Import.Status.QUEUED


def test_upload_page_offers_every_kind(client, org_a, alice):
    client.force_login(alice)
    page = client.get(reverse("imports_list", args=[org_a.slug])).content.decode()
    for value in ("contacts", "companies", "deals", "transactions"):
        assert f'value="{value}"' in page
