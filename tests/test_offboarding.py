"""An organization leaves (logicnet/personal_data/offboarding.py): afterwards nothing
personal of it is readable in any table or any file, whoever reads the database."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.exports import MEMBER_EXPORT, export_path
from accounts.models import Invitation, Membership, Organization
from accounts.services import invite_member
from activity.services import create_task, log_interaction
from contacts.models import Company, Contact, SavedView
from contacts.services.companies import create_company
from contacts.services.contacts import create_contact
from contacts.services.custom_fields import create_custom_field
from contacts.services.views import create_saved_view
from logicnet.encryption.exceptions import DecryptionError
from logicnet.encryption.keys import decrypt_value, encrypt_value
from logicnet.jobs.models import Job
from logicnet.jobs.services import execute_job, start_job
from logicnet.personal_data.offboarding import offboard_organization
from logicnet.tenancy.context import tenant_context
from tests.factories import make_organization
from tests.leak_scan import scan_files, scan_tables

# One distinctive value per kind of field; none is a word any other row could hold.
ORG_NAME = "Zorvexquill Trading"
INVITED = "yolanda.pristwick@zorvexquill.test"
CONTACT = {
    "first_name": "Quenbyra",
    "last_name": "Marrowfeld",
    "email": "quenbyra.marrowfeld@zorvexquill.test",
    "job_title": "Thistlewright",
    "notes": "Prefers Vantablossom tea",
    "source_detail": "Glimmerholt fair",
}
COMPANY = {"name": "Wexbrindle Holdings", "address": "Strada Ploverneck 9", "notes": "Met at Harrowquay"}
CUSTOM_PLAIN = "Plumbrookite"
CUSTOM_PERSONAL = "Kestrivane Ortolan"
INTERACTION = ("Call about Brindlethorpe", "Asked about Saffrowick invoices")
TASK_TITLE = "Send Quillfeather contract"
SAVED_FILTER = "Wexbrin"
LEGACY_JOB_ERROR = "duplicate key value (email)=(quenbyra.marrowfeld@zorvexquill.test)"

PLAINTEXT_BEFORE = [ORG_NAME, INVITED, CUSTOM_PLAIN, LEGACY_JOB_ERROR]
EVERY_VALUE = [
    ORG_NAME,
    "zorvexquill",  # in the slug, and in the export's file name
    INVITED,
    *CONTACT.values(),
    *COMPANY.values(),
    CUSTOM_PLAIN,
    CUSTOM_PERSONAL,
    *INTERACTION,
    TASK_TITLE,
    SAVED_FILTER,
]


@pytest.fixture
def leaving(platform_db, alice, org_b, charlie):
    """An organization with a distinctive value in every kind of personal field, plaintext
    and encrypted, in the database and in its files."""
    organization = make_organization(ORG_NAME, owner=alice)
    invite_member(organization=organization, actor=alice, email=INVITED, role="member")
    create_custom_field(organization=organization, actor=alice, entity="contact", label="Quarry", kind="text")
    create_custom_field(
        organization=organization, actor=alice, entity="contact", label="Nickname", kind="text", is_personal=True
    )
    company = create_company(
        organization=organization,
        actor=alice,
        name=COMPANY["name"],
        data={"address": COMPANY["address"], "notes": COMPANY["notes"]},
    )
    contact = create_contact(
        organization=organization,
        actor=alice,
        data={**CONTACT, "company": company, "custom": {"quarry": CUSTOM_PLAIN, "nickname": CUSTOM_PERSONAL}},
    )
    log_interaction(
        organization=organization,
        actor=alice,
        kind="call",
        occurred_at=timezone.now(),
        subject=INTERACTION[0],
        body=INTERACTION[1],
        contacts=[contact],
    )
    create_task(
        organization=organization,
        actor=alice,
        title=TASK_TITLE,
        due_at=timezone.now() + datetime.timedelta(days=1),
        assignee=alice,
        contact=contact,
    )
    create_saved_view(
        organization=organization,
        actor=alice,
        entity="contact",
        name="Wexbrindle people",
        params={"status": ["lead"]},
        personal_params={"company_name": [SAVED_FILTER]},
    )
    export = start_job(organization=organization, actor=alice, kind=MEMBER_EXPORT)
    execute_job(organization_id=organization.pk, job_id=export.pk, final_attempt=True)
    with tenant_context(organization):
        # A job row from before errors were made safe: its text quotes a value.
        Job.objects.create(organization=organization, kind=MEMBER_EXPORT, state="failed", error=LEGACY_JOB_ERROR)
    media = settings.MEDIA_ROOT / str(organization.pk)
    media.mkdir(parents=True, exist_ok=True)
    (media / "card.txt").write_text(f"{CONTACT['first_name']} {CONTACT['last_name']}")
    # Organization B has the same kinds of data; it must come through untouched.
    create_contact(organization=org_b, actor=charlie, data={"first_name": "Bogdan", "source_detail": "Stays"})
    return {"organization": organization, "contact": contact, "export": export, "media": media}


def test_offboarding_leaves_nothing_personal_readable_in_any_table_or_file(leaving, org_b):
    organization = leaving["organization"]
    assert export_path(leaving["export"]).exists()
    # The scan sees every tenant's rows (the owner reads past row-level security): the
    # plaintext values are there before offboarding, so finding none afterwards means something.
    before = "\n".join(scan_tables(PLAINTEXT_BEFORE))
    for value in PLAINTEXT_BEFORE:
        assert value.lower() in before.lower(), value
    with tenant_context(organization):
        sealed = Contact.objects.values_list("source_detail", flat=True).get()
    assert CONTACT["source_detail"] not in sealed.token  # encrypted, not merely hidden

    report = offboard_organization(organization=organization)

    assert scan_tables(EVERY_VALUE) == []
    assert scan_files(EVERY_VALUE) == []
    assert not export_path(leaving["export"]).exists() and not leaving["media"].exists()
    organization.refresh_from_db()
    assert not organization.is_active
    assert report.key_versions == [1]
    # Even a ciphertext copied out before (a backup) cannot be opened any more.
    with tenant_context(organization), pytest.raises(DecryptionError, match="destroyed"):
        decrypt_value(organization.pk, "contacts.Contact", "source_detail", sealed.token)
    with tenant_context(organization):
        assert not Contact.objects.exists() and not Invitation.objects.exists() and not SavedView.objects.exists()
        assert Company.objects.get().name == ""
    assert not Membership.objects.filter(organization=organization).exists()
    # The other organization is untouched.
    with tenant_context(org_b):
        assert Contact.objects.get().source_detail == "Stays"
        assert encrypt_value(org_b.pk, "contacts.Contact", "notes", b"x")


def test_the_command_offboards_and_the_organization_is_gone_for_its_members(leaving, client, alice):
    organization = leaving["organization"]
    slug = organization.slug
    call_command("destroy_organization_key", organization=slug, yes=True)
    assert Organization.objects.get(pk=organization.pk).slug == f"offboarded-{organization.pk}"
    client.force_login(alice)
    assert client.get(reverse("dashboard", args=[slug])).status_code == 404
    # A second run finds nothing left to erase, and no key is created again.
    report = offboard_organization(organization=Organization.objects.get(pk=organization.pk))
    assert report.deleted_rows == {} and report.deleted_paths == []
