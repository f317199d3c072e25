"""Erasure and restriction, answered from the privacy desk in a real browser.

Erasure: the person asks on the public page and confirms from the real mail; an admin
confirms who they are, reads the preview derived from the registry, erases; the job runs on
a real Celery worker, the contact's page is gone and the person is told by mail.

Restriction: staff record a request received by phone, restrict the contact from the desk;
the contact's page says so and offers no Edit; lifting it tells the person first."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from activity.models import Interaction
from contacts.models import Contact
from logicnet.tenancy.context import tenant_context
from privacy.models import PrivacyRequest
from tests import subject_data as s
from tests.browser.test_crm_day import sign_in
from tests.browser.test_privacy_access import (
    confirm_from_the_mail,
    confirm_identity,
    job_progress,
    open_on_the_desk,
    submit_public_request,
)
from tests.smtp import Mailbox

pytestmark = pytest.mark.browser

FULL_NAME = f"{s.FIRST} {s.LAST}"


@pytest.fixture(autouse=True)
def private_dirs(settings, tmp_path):
    settings.PRIVACY_PACKAGES_DIR = tmp_path / "packages"
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"


def row_of(table, records: str):
    return table.get_by_role("row").filter(has=table.page.get_by_role("rowheader", name=records, exact=True))


def test_a_person_is_erased_at_their_request(platform_db, new_page, mailbox: Mailbox, start_job_worker, alice, org_a):
    # platform_db: the erasure job redacts the audit entries through the platform alias.
    made = s.make_subject(org_a, alice)
    contact_url = f"/o/{org_a.slug}/contacts/{made['contact'].pk}/"
    start_job_worker()

    person = new_page("person")
    submit_public_request(person, org_a, right="Erasure: delete my data", email=s.EMAIL)
    reference = confirm_from_the_mail(person, mailbox, org_a, s.EMAIL)

    staff = new_page("admin")
    sign_in(staff, alice)
    # The contact's page is there before.
    staff.goto(contact_url)
    expect(staff.get_by_role("heading", level=1)).to_contain_text(FULL_NAME)

    open_on_the_desk(staff, org_a, reference)
    confirm_identity(staff, FULL_NAME)

    # --- The preview: what each kind of record undergoes; nothing changed yet.
    staff.get_by_role("link", name="Preview the erasure").click()
    expect(staff.get_by_role("heading", name="Erasure preview (Art. 17)", level=1)).to_be_visible()
    table = staff.get_by_role("table", name="What happens to each kind of record")
    expect(row_of(table, "Contacts")).to_contain_text("deleted")
    expect(row_of(table, "Interactions")).to_contain_text("the person is taken out")
    expect(row_of(table, "Interactions")).to_contain_text("(1 stays for the others on it)")
    # This request is not among what goes: it stays as the proof of the answer.
    expect(row_of(table, "Privacy requests")).to_have_count(0)
    expect(staff.get_by_text("This request itself is kept as the proof")).to_be_visible()
    with tenant_context(org_a):
        assert Contact.objects.filter(pk=made["contact"].pk).exists()

    # --- Erase: back on the request, the job runs to the end.
    staff.get_by_role("button", name="Erase this person's data").click()
    expect(staff.get_by_role("heading", name=f"Request {reference}", level=1)).to_be_visible()
    expect(job_progress(staff)).to_contain_text("Erasure: Done — 100%")
    expect(staff.locator(".job[hx-get]")).to_have_count(0)
    expect(staff.locator(".privacy-status")).to_have_text("Completed")  # updated with the last poll

    # The contact's page is gone; the meeting with the two others stays for them.
    response = staff.goto(contact_url)
    assert response is not None and response.status == 404
    with tenant_context(org_a):
        assert not Contact.objects.filter(pk=made["contact"].pk).exists()
        assert Interaction.objects.filter(pk=made["shared"].pk).exists()
        assert not Interaction.objects.filter(pk__in=[i.pk for i in made["solo"]]).exists()

    # The person was told (before the request forgot their address).
    message = mailbox.wait_for(s.EMAIL, subject=f"Your privacy request to {org_a.name} is answered", timeout=30)
    assert reference in message["Subject"]
    with tenant_context(org_a):
        assert PrivacyRequest.objects.get(reference=reference).email == ""


def test_staff_restrict_a_contact_from_the_desk(new_page, mailbox: Mailbox, start_job_worker, alice, org_a):
    made = s.make_subject(org_a, alice)
    start_job_worker()

    staff = new_page("admin")
    sign_in(staff, alice)

    # --- A request received by phone, recorded on the desk.
    staff.goto(f"/o/{org_a.slug}/privacy/")
    record = staff.get_by_role("region", name="Record a request received by mail or phone")
    record.get_by_label("Restriction: stop using my data for now").check()
    record.get_by_label("The person's email address").fill(s.EMAIL)
    record.get_by_role("button", name="Record the request").click()
    heading = staff.get_by_role("heading", name=re.compile(r"^Request PR-"), level=1)
    expect(heading).to_be_visible()
    reference = heading.inner_text().removeprefix("Request ")
    mailbox.wait_for(s.EMAIL, subject="was received", timeout=30)  # the receipt with the reference

    confirm_identity(staff, FULL_NAME)
    answer = staff.get_by_role("region", name="Answer the request")
    answer.get_by_role("button", name="Restrict processing").click()
    expect(answer.get_by_role("button", name="Tell the person and lift the restriction")).to_be_visible()
    expect(staff.get_by_role("region", name="Timeline")).to_contain_text("Processing restricted")

    # --- The contact's page: the banner, and no way to edit it outside the desk.
    staff.get_by_role("region", name="The request", exact=True).get_by_role("link", name=FULL_NAME).click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text(FULL_NAME)
    expect(staff.get_by_role("status").filter(has_text="Processing restricted")).to_be_visible()
    expect(staff.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    with tenant_context(org_a):
        assert Contact.objects.get(pk=made["contact"].pk).restricted_at is not None

    # --- Lifting it tells the person first (Art. 18(3)); then the page is editable again.
    open_on_the_desk(staff, org_a, reference)
    staff.get_by_role("button", name="Tell the person and lift the restriction").click()
    expect(staff.get_by_role("button", name="Restrict processing")).to_be_visible()
    mailbox.wait_for(s.EMAIL, subject="will lift the restriction", timeout=30)
    staff.get_by_role("region", name="The request", exact=True).get_by_role("link", name=FULL_NAME).click()
    expect(staff.get_by_role("link", name="Edit", exact=True)).to_be_visible()
    expect(staff.get_by_text("Processing restricted")).to_have_count(0)
