"""Exports of the CRM's lists (exports/): what they hold, who may get them, how they are kept."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Membership, Organization
from activity.models import Interaction, InteractionParticipant
from contacts.models import Contact
from contacts.services.companies import create_company
from contacts.services.contacts import create_contact
from exports import services
from exports.sealed import SealedFileError, read_sealed
from logicnet.audit.models import AuditEvent
from logicnet.jobs.models import Job
from logicnet.jobs.services import execute_job
from logicnet.tenancy.context import tenant_context
from logicnet.tenancy.roles import Actor, Role
from tests.factories import make_member, make_user


@pytest.fixture(autouse=True)
def _own_exports_folder(settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"


def actor_of(organization, user) -> Actor:
    return Actor.from_membership(
        Membership.objects.select_related("organization").get(organization=organization, user=user)
    )


def run(organization, user, list_key="contacts", params=None, file_format="csv", bom=False) -> Job:
    job = services.start_export(
        actor=actor_of(organization, user), list_key=list_key, params=params or {}, file_format=file_format, bom=bom
    )
    execute_job(organization_id=organization.pk, job_id=job.pk, final_attempt=True)
    with tenant_context(organization):
        job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    return job


def content_of(organization, user, job) -> bytes:
    with tenant_context(organization):
        job = services.get_export_for(actor_of(organization, user), job.pk)
        _name, _type, chunks = services.open_download(actor_of(organization, user), job)
        return b"".join(chunks)


def csv_rows(organization, user, job) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content_of(organization, user, job).decode("utf-8-sig"))))


@pytest.fixture
def people(org_a, alice, bob):
    acme = create_company(organization=org_a, actor=alice, name="Șantierul Nou SRL")
    return {
        "ana": create_contact(
            organization=org_a,
            actor=alice,
            data={"first_name": "Ana-Maria", "last_name": "Ștefănescu", "email": "ana@exemplu.ro", "company": acme},
        ),
        "formula": create_contact(
            organization=org_a, actor=alice, data={"first_name": '=HYPERLINK("x")', "last_name": "@SUM(1)"}
        ),
        "bobs": create_contact(
            organization=org_a, actor=bob, data={"first_name": "Bogdan", "last_name": "Ionescu", "owner": bob}
        ),
    }


def test_csv_holds_the_decrypted_values_with_formulas_neutralised(org_a, alice, people):
    job = run(org_a, alice)
    rows = csv_rows(org_a, alice, job)
    header, body = rows[0], rows[1:]
    assert header[:6] == ["ID", "First name", "Last name", "Email", "Phone", "Company"]
    by_id = {int(row[0]): row for row in body}
    assert len(body) == 3 and job.result["rows"] == 3
    ana = by_id[people["ana"].pk]
    assert ana[1:6] == ["Ana-Maria", "Ștefănescu", "ana@exemplu.ro", "", "Șantierul Nou SRL"]
    formula = by_id[people["formula"].pk]
    assert formula[1:3] == ['\'=HYPERLINK("x")', "'@SUM(1)"]
    assert (job.progress_done, job.progress_total) == (3, 3)


@pytest.mark.parametrize("value", ["=1+1", "+40 721", "-2", "@x", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(value):
    from logicnet.spreadsheet import safe_cell as neutralise

    assert neutralise(value) == "'" + value
    assert neutralise("a" + value) == "a" + value


def test_bom_only_when_asked(org_a, alice, people):
    plain = content_of(org_a, alice, run(org_a, alice))
    with_bom = content_of(org_a, alice, run(org_a, alice, bom=True))
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert with_bom.startswith(b"\xef\xbb\xbf") and with_bom[3:].startswith(b"ID,")


def test_xlsx_opens_with_openpyxl_and_holds_the_values(org_a, alice, people):
    job = run(org_a, alice, file_format="xlsx")
    assert job.result["filename"].endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(content_of(org_a, alice, job)), read_only=True)
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    assert rows[0][:3] == ["ID", "First name", "Last name"]
    # Ids have 16 digits, past Excel's 15: written as text, so no digit is rounded away.
    by_id = {int(row[0]): row for row in rows[1:]}
    assert by_id[people["ana"].pk][1:3] == ["Ana-Maria", "Ștefănescu"]
    assert by_id[people["ana"].pk][5] == "Șantierul Nou SRL"
    assert by_id[people["formula"].pk][1] == '\'=HYPERLINK("x")'  # text, not a formula


def test_restricted_contacts_are_left_out(org_a, alice, people):
    with tenant_context(org_a):
        Contact.objects.filter(pk=people["ana"].pk).update(restricted_at=timezone.now())
    ids = {int(row[0]) for row in csv_rows(org_a, alice, run(org_a, alice))[1:]}
    assert ids == {people["formula"].pk, people["bobs"].pk}


def test_a_member_exports_only_the_contacts_they_see(org_a, alice, bob, people):
    with tenant_context(org_a):
        Organization.objects.filter(pk=org_a.pk).update(contact_visibility=Organization.ContactVisibility.OWN)
    ids = {int(row[0]) for row in csv_rows(org_a, bob, run(org_a, bob))[1:]}
    assert ids == {people["bobs"].pk}
    # The owner still sees (and exports) everyone.
    assert len(csv_rows(org_a, alice, run(org_a, alice))) == 4


def test_the_list_filter_applies(org_a, alice, bob, people):
    job = run(org_a, alice, params={"owner": [str(bob.pk)]})
    ids = {int(row[0]) for row in csv_rows(org_a, alice, job)[1:]}
    assert ids == {people["bobs"].pk}


def test_many_pages_in_order_without_loss(org_a, alice, monkeypatch):
    from exports.registry import export_list

    with tenant_context(org_a):
        Contact.objects.bulk_create([Contact(organization=org_a, first_name=f"Persoana {i}") for i in range(23)])
    monkeypatch.setattr(export_list("contacts"), "page_size", 5)
    rows = csv_rows(org_a, alice, run(org_a, alice))[1:]
    assert sorted(row[1] for row in rows) == sorted(f"Persoana {i}" for i in range(23))
    assert len({row[0] for row in rows}) == 23


def test_companies_and_interactions(org_a, alice, people):
    rows = csv_rows(org_a, alice, run(org_a, alice, "companies"))
    assert rows[1][1] == "Șantierul Nou SRL"
    with tenant_context(org_a):
        note = Interaction.objects.create(organization=org_a, subject="Ofertă", body="Preț: 10 lei", author=alice)
        InteractionParticipant.objects.create(
            organization=org_a, interaction=note, contact=people["ana"], occurred_at=note.occurred_at
        )
        hidden = Interaction.objects.create(organization=org_a, subject="Restricționat", author=alice)
        InteractionParticipant.objects.create(
            organization=org_a, interaction=hidden, contact=people["bobs"], occurred_at=hidden.occurred_at
        )
        Contact.objects.filter(pk=people["bobs"].pk).update(restricted_at=timezone.now())
    workbook = load_workbook(
        io.BytesIO(content_of(org_a, alice, run(org_a, alice, "interactions", file_format="xlsx")))
    )
    values = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    assert [row[3] for row in values[1:]] == ["Ofertă"]  # the one naming a restricted contact is left out
    assert values[1][4] == "Preț: 10 lei" and values[1][6] == "Ana-Maria Ștefănescu"


def test_every_export_is_audited_without_personal_data(org_a, alice, people):
    job = run(org_a, alice, params={"status": ["lead"], "company_q": ["v1.1.c2VhbGVk"]})
    content_of(org_a, alice, job)
    with tenant_context(org_a):
        events = {e.action: e for e in AuditEvent.objects.filter(target_id=str(job.pk))}
    assert set(events) == {"export.started", "export.finished", "export.downloaded"}
    finished = events["export.finished"]
    assert finished.actor_id == alice.pk
    assert finished.details["rows"] == 3
    assert finished.details["filter"] == {"company_q": ["(sealed)"], "status": ["lead"]}
    text = json.dumps([e.details for e in events.values()], ensure_ascii=False)
    for value in ("Ana", "Ștefănescu", "ana@exemplu.ro", "Șantierul"):
        assert value not in text


def test_the_file_is_encrypted_at_rest_and_bound_to_its_export(org_a, alice, people):
    job = run(org_a, alice)
    path = services.export_path(org_a.pk, job.pk)
    raw = path.read_bytes()
    assert b"Ana-Maria" not in raw and "Ștefănescu".encode() not in raw and b"ana@exemplu.ro" not in raw
    with tenant_context(org_a), pytest.raises(SealedFileError):
        b"".join(read_sealed(path, organization_id=org_a.pk, name="export-1"))  # another export's name
    cut = path.with_name("cut.sealed")
    cut.write_bytes(raw[:-5])
    with tenant_context(org_a), pytest.raises(SealedFileError):
        b"".join(read_sealed(cut, organization_id=org_a.pk, name=f"export-{job.pk}"))


def test_expiry_hides_the_download_and_the_sweep_deletes_the_file(org_a, alice, people, client):
    job = run(org_a, alice)
    path = services.export_path(org_a.pk, job.pk)
    client.force_login(alice)
    url = reverse("export_download", kwargs={"org_slug": org_a.slug, "export_id": job.pk})
    assert client.get(url).status_code == 200
    assert services.delete_expired_exports() == 0 and path.exists()
    # Eight days on: the link is refused and the beat sweep deletes the file.
    with tenant_context(org_a):
        Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=8))
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].endswith(f"/o/{org_a.slug}/exports/")
    assert services.delete_expired_exports(now=time.time() + 8 * 86400) == 1
    assert not path.exists()


def test_only_the_creator_and_admins_reach_an_export(org_a, org_b, alice, bob, charlie, people, client):
    job = run(org_a, bob)
    admin = make_user("admin@example.com", "Admin")
    make_member(org_a, admin, Role.ADMIN)
    other = make_user("other@example.com", "Other Member")
    make_member(org_a, other, Role.MEMBER)
    for name in ("export_detail", "export_download"):
        url = reverse(name, kwargs={"org_slug": org_a.slug, "export_id": job.pk})
        for user, status in ((bob, 200), (admin, 200), (alice, 200), (other, 404), (charlie, 404)):
            client.force_login(user)
            assert client.get(url).status_code == status, (name, user.email)
        # Organization B's owner through B's own URL: RLS and the scope find nothing.
        client.force_login(charlie)
        assert client.get(reverse(name, kwargs={"org_slug": org_b.slug, "export_id": job.pk})).status_code == 404
    with tenant_context(org_b):
        assert not Job.objects.filter(pk=job.pk).exists()


def test_read_only_members_may_not_export(org_a, client, people):
    reader = make_user("reader@example.com", "Reader")
    make_member(org_a, reader, Role.READ_ONLY)
    with pytest.raises(services.ExportError):
        services.start_export(actor=actor_of(org_a, reader), list_key="contacts", params={}, file_format="csv")
    client.force_login(reader)
    response = client.post(reverse("export_start", kwargs={"org_slug": org_a.slug}), {"list": "contacts"})
    assert response.status_code == 403
    page = client.get(reverse("contact_list", kwargs={"org_slug": org_a.slug}))
    assert b"Export these matches" not in page.content


def test_the_export_action_on_the_list_keeps_the_filter(org_a, alice, bob, people, client):
    client.force_login(alice)
    page = client.get(reverse("contact_list", kwargs={"org_slug": org_a.slug}) + f"?owner={bob.pk}")
    assert b"Export these matches" in page.content
    query = page.context["current_query"]
    response = client.post(
        reverse("export_start", kwargs={"org_slug": org_a.slug}),
        {"list": "contacts", "query": query, "format": "xlsx", "bom": "1"},
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        job = Job.objects.get(kind=services.EXPORT_JOB)
    assert response["Location"] == reverse("export_detail", kwargs={"org_slug": org_a.slug, "export_id": job.pk})
    assert job.params == {
        "list": "contacts",
        "filter": {"owner": [str(bob.pk)]},
        "format": "xlsx",
        "bom": True,
        "language": "en",
    }
    progress = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert b"hx-get" in progress.content and b"Queued" in progress.content
    index = client.get(reverse("export_index", kwargs={"org_slug": org_a.slug}))
    assert index.status_code == 200 and b"Contacts" in index.content


def test_an_export_whose_creator_left_fails_without_a_file(org_a, alice, bob, people):
    job = services.start_export(actor=actor_of(org_a, bob), list_key="contacts", params={}, file_format="csv")
    with tenant_context(org_a):
        assert Membership.objects.filter(organization=org_a, user=bob).delete()[0] == 1
    execute_job(organization_id=org_a.pk, job_id=job.pk, final_attempt=True)
    with tenant_context(org_a):
        job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert not services.export_path(org_a.pk, job.pk).exists()


def test_xlsx_goes_on_in_a_further_sheet_past_the_row_limit(monkeypatch):
    from exports.writers import XlsxWriter

    monkeypatch.setattr(XlsxWriter, "MAX_ROWS", 3)
    out = io.BytesIO()
    writer = XlsxWriter(out, bom=False, title="Contacts")
    writer.header(["ID", "Name"])
    writer.rows([[i, f"Persoana {i}"] for i in range(5)])
    writer.close()
    workbook = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    sheets = [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets]
    assert workbook.sheetnames == ["Contacts", "Contacts 2", "Contacts 3"]
    assert sheets[0] == [["ID", "Name"], [0, "Persoana 0"], [1, "Persoana 1"]]
    assert sheets[2] == [["ID", "Name"], [4, "Persoana 4"]]


def test_xlsx_writes_timestamps_as_dates_and_numbers_as_numbers(org_a, alice, people):
    import datetime

    job = run(org_a, alice, params={"col": ["email", "created", "updated"]}, file_format="xlsx")
    workbook = load_workbook(io.BytesIO(content_of(org_a, alice, job)))
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == ["ID", "First name", "Last name", "Email", "Created", "Updated"]
    with tenant_context(org_a):
        ana = Contact.objects.get(pk=people["ana"].pk)
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == str(ana.pk))
    created = row[4]
    assert created.is_date and isinstance(created.value, datetime.datetime)
    assert created.value == timezone.localtime(ana.created_at).replace(tzinfo=None, microsecond=0)
    assert row[0].data_type == "s" and row[1].value == "Ana-Maria"
    formula = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == str(people["formula"].pk))
    assert formula[1].data_type == "s" and formula[1].value == '\'=HYPERLINK("x")'


def test_the_file_holds_the_columns_the_list_shows(org_a, alice, people):
    header = csv_rows(org_a, alice, run(org_a, alice, params={"col": ["phone", "tags"]}))[0]
    assert header == ["ID", "First name", "Last name", "Phone", "Tags"]
    # No choice in the list's URL: the list's default columns, as the page shows them.
    header = csv_rows(org_a, alice, run(org_a, alice))[0]
    assert header == [
        "ID",
        "First name",
        "Last name",
        "Email",
        "Phone",
        "Company",
        "Owner",
        "Status",
        "Tags",
        "Updated",
    ]
    header = csv_rows(org_a, alice, run(org_a, alice, "companies", params={"col": ["industry", "created"]}))[0]
    assert header == ["ID", "Name", "Industry", "Created"]


def test_the_list_export_form_sends_the_chosen_columns(client, org_a, alice, people):
    client.force_login(alice)
    response = client.post(
        reverse("export_start", args=[org_a.slug]),
        {"list": "contacts", "format": "csv", "query": "col=email&col=owner&sort=name"},
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        job = Job.objects.get(kind=services.EXPORT_JOB)
    assert job.params["filter"]["col"] == ["email", "owner"]


def test_interactions_export_takes_its_filter_from_the_exports_page(client, org_a, alice, people):
    import datetime

    with tenant_context(org_a):
        old_call = Interaction.objects.create(
            organization=org_a,
            kind=Interaction.Kind.CALL,
            subject="Apel vechi",
            author=alice,
            occurred_at=datetime.datetime(2026, 1, 10, 9, 0, tzinfo=datetime.UTC),
        )
        Interaction.objects.create(
            organization=org_a,
            kind=Interaction.Kind.CALL,
            subject="Apel nou",
            author=alice,
            occurred_at=datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC),
        )
        Interaction.objects.create(organization=org_a, kind=Interaction.Kind.NOTE, subject="Notă", author=alice)
    client.force_login(alice)
    page = client.get(reverse("export_index", args=[org_a.slug])).content.decode()
    assert 'name="kind"' in page and 'name="occurred_from"' in page and 'name="occurred_to"' in page
    response = client.post(
        reverse("export_start", args=[org_a.slug]),
        {"list": "interactions", "format": "xlsx", "kind": "call", "occurred_to": "2026-02-01"},
    )
    assert response.status_code == 302
    with tenant_context(org_a):
        job = Job.objects.get(kind=services.EXPORT_JOB)
    assert job.params["filter"] == {"kind": ["call"], "occurred_to": ["2026-02-01"]}
    execute_job(organization_id=org_a.pk, job_id=job.pk, final_attempt=True)
    with tenant_context(org_a):
        job.refresh_from_db()
    workbook = load_workbook(io.BytesIO(content_of(org_a, alice, job)))
    rows = list(workbook.active.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[3]) for r in rows] == [(str(old_call.pk), "Apel vechi")]
    assert rows[0][2] == timezone.localtime(old_call.occurred_at).replace(tzinfo=None)  # a date cell
