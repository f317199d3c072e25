"""A person asks an organization for a copy of their data, and gets it, in a real browser:
the public form, the confirmation link from the real mail (SMTP), the desk where an admin
confirms who the person is and approves, the package job on a real Celery worker (its
progress polled by htmx), the download link mailed from the status page, and the zip itself:
the subject's data, and nothing of the people they met or of another organization."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from playwright.sync_api import Page, expect

from activity.services import log_interaction
from contacts.services.contacts import create_contact
from tests import subject_data as s
from tests.browser.test_crm_day import sign_in
from tests.smtp import Mailbox, first_link

pytestmark = pytest.mark.browser

# Organization B's namesake: the same name, their own address and history.
B_EMAIL = "quenbyra.m@orlathwick.test"
B_INTERACTION = ("Visit to the Corvantel warehouse", "Discussed the Yseldrake shipment")


@pytest.fixture(autouse=True)
def private_dirs(settings, tmp_path):
    settings.PRIVACY_PACKAGES_DIR = tmp_path / "packages"
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"


def submit_public_request(page: Page, organization, *, right: str, email: str) -> None:
    page.goto(f"/p/{organization.slug}/privacy/")
    expect(page.get_by_role("heading", name=f"Privacy at {organization.name}", level=1)).to_be_visible()
    page.get_by_label(right).check()
    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("heading", name="Thank you: your request was sent")).to_be_visible()


def confirm_from_the_mail(page: Page, mailbox: Mailbox, organization, email: str) -> str:
    """Opens the confirmation link from the real mail and confirms; returns the reference."""
    message = mailbox.wait_for(email, subject=f"Confirm your privacy request to {organization.name}", timeout=30)
    page.goto(first_link(message))
    expect(page.get_by_role("heading", name="Confirm your request")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name=f"Your privacy request to {organization.name}")).to_be_visible()
    return page.locator("strong.reference").inner_text()


def open_on_the_desk(staff: Page, organization, reference: str) -> None:
    staff.goto(f"/o/{organization.slug}/privacy/")
    staff.get_by_role("link", name=reference).click()
    expect(staff.get_by_role("heading", name=f"Request {reference}", level=1)).to_be_visible()


def confirm_identity(staff: Page, full_name: str) -> None:
    identity = staff.get_by_role("region", name="Who is the person?")
    expect(identity.get_by_role("row")).to_have_count(2)  # the header and the one match in this organization
    identity.get_by_role("button", name=f"{full_name} is the person").click()
    expect(staff.get_by_role("region", name="The request", exact=True)).to_contain_text(
        f"{full_name} identity confirmed"
    )


def job_progress(staff: Page):
    return staff.get_by_role("region", name="Answer the request").locator(".job")


def test_a_person_gets_their_data_and_nobody_elses(
    platform_db, new_page, mailbox: Mailbox, start_job_worker, alice, org_a, charlie, org_b
):
    # platform_db: the worker reads the audit entries about the person through the platform alias.
    made = s.make_subject(org_a, alice)
    namesake = create_contact(
        organization=org_b, actor=charlie, data={"first_name": s.FIRST, "last_name": s.LAST, "email": B_EMAIL}
    )
    log_interaction(
        organization=org_b,
        actor=charlie,
        kind="meeting",
        occurred_at=made["shared"].occurred_at,
        subject=B_INTERACTION[0],
        body=B_INTERACTION[1],
        contacts=[namesake],
    )
    start_job_worker()

    # --- The person asks, and confirms their address from the mail.
    person = new_page("person")
    submit_public_request(person, org_a, right="Access: a copy of my data", email=s.EMAIL)
    reference = confirm_from_the_mail(person, mailbox, org_a, s.EMAIL)
    status_url = person.url

    # --- An admin finds the request, confirms who the person is, approves.
    staff = new_page("admin")
    sign_in(staff, alice)
    open_on_the_desk(staff, org_a, reference)
    full_name = f"{s.FIRST} {s.LAST}"
    confirm_identity(staff, full_name)
    staff.get_by_role("button", name="Approve and build the access package").click()

    # The worker builds the package; the request page polls its progress.
    expect(job_progress(staff)).to_contain_text("Package: Done — 100%")
    expect(job_progress(staff).get_by_role("progressbar")).to_have_attribute("value", "100")
    expect(staff.locator(".job[hx-get]")).to_have_count(0)  # finished: the polling stopped
    expect(staff.locator(".privacy-status")).to_have_text("Completed")  # updated with the last poll
    staff.reload()
    expect(staff.get_by_role("region", name="Answer the request")).to_contain_text("The access package is ready")

    # --- The person asks for the link on their status page and opens it from the mail.
    person.goto(status_url)
    expect(person.locator(".request-status")).to_have_text("Completed")
    person.get_by_role("button", name="Email me the download link").click()
    expect(person.get_by_text("A download link is on its way to your email address.")).to_be_visible()
    message = mailbox.wait_for(s.EMAIL, subject="download link", timeout=30)
    link = first_link(message)
    assert "/download/" in link

    response = person.context.request.get(link)
    assert response.status == 200, response.status
    assert response.headers["content-type"] == "application/zip"
    assert "no-store" in response.headers["cache-control"]
    assert f"{reference}-access.zip" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.body()))
    assert {"data.json", "index.html", "schema.json"} <= set(archive.namelist())
    everything = "\n".join(archive.read(name).decode() for name in archive.namelist())
    data = json.loads(archive.read("data.json"))
    assert data["subject_id"] == made["contact"].pk

    # The subject's own data: their address, their calls, the meeting they were in.
    for value in (s.EMAIL, s.EXTRA_EMAIL, s.SOLO_INTERACTION[1], s.SHARED_INTERACTION[1], s.TASK_TITLE):
        assert value in everything, value
    # Not the people they met, and nothing of organization B's namesake.
    for other in s.OTHERS:
        assert other["email"] not in everything and other["last_name"] not in everything
    for value in (B_EMAIL, *B_INTERACTION):
        assert value not in everything, value

    # The download is on the request's timeline.
    staff.reload()
    expect(staff.get_by_role("region", name="Timeline")).to_contain_text("Package downloaded")
