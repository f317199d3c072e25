"""Erasing one data subject (logicnet/personal_data/erasure.py): a preview without personal
values, then an erasure that leaves no trace of them in any table, decrypted or plain, keeps
shared interactions for the others, redacts the audit log without breaking its chain, and
resumes after a crash."""

from __future__ import annotations

import json

import pytest
from django.apps import apps

from activity.models import Interaction, InteractionParticipant, Task
from contacts.models import Company, CompanyNameToken, Contact
from contacts.selectors import search_companies
from contacts.services.contacts import create_contact
from logicnet.audit.models import AuditEvent
from logicnet.audit.services import REDACTED, record_event, verify_audit_log
from logicnet.encryption.fields import encrypted_fields_of
from logicnet.personal_data.erasure import ErasurePlan, execute, plan
from logicnet.tenancy.context import platform_reads, tenant_context
from tests import subject_data as s
from tests.factories import make_organization
from tests.leak_scan import scan_tables


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    """Each test its own audit anchor file: another test's anchored heads would not match."""
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"
    return settings.AUDIT_ANCHOR_FILE


def _decrypted_values(organization) -> list[str]:
    """Every encrypted value of the organization, decrypted, as text."""
    values = []
    with tenant_context(organization):
        for model in apps.get_models():
            fields = encrypted_fields_of(model)
            if not fields:
                continue
            for row in model._base_manager.filter(organization=organization):
                for model_field in fields:
                    value = getattr(row, model_field.attname)
                    if value not in (None, ""):
                        values.append(f"{model._meta.label}.{model_field.name}: {json.dumps(value, default=str)}")
    return values


def _traces(organization, values) -> list[str]:
    decrypted = _decrypted_values(organization)
    found = [line for line in decrypted for value in values if value.lower() in line.lower()]
    return found + scan_tables(values)


def test_the_plan_is_a_preview_without_personal_values(org_a, alice):
    made = s.make_subject(org_a, alice)
    preview = plan("contact", made["contact"], audit=False)
    document = json.dumps(preview.as_dict())
    for value in s.IDENTIFYING:
        assert value.lower() not in document.lower()
    steps = {(step.model, step.path): step for step in preview.steps}
    assert steps[("contacts.Contact", "pk")].action == "delete_row"
    assert steps[("contacts.Contact", "pk")].rows == 1
    interactions = steps[("activity.Interaction", "participants")]
    assert (interactions.action, interactions.rows, interactions.shared_rows) == ("unlink", 2, 1)
    assert steps[("activity.InteractionParticipant", "contact")].note.startswith("handled by the unlink")
    assert steps[("contacts.ContactNameToken", "contact")].action == "follows"
    assert steps[("contacts.ContactEmail", "contact")].rows == 1
    assert steps[("activity.Task", "contact")].action == "delete_row"
    assert {store["key"] for store in preview.stores} >= {"export_files", "backups", "mail_sent"}
    assert ErasurePlan.from_dict(json.loads(document)).as_dict() == preview.as_dict()


def test_erasure_leaves_no_trace_and_keeps_the_shared_interaction(platform_db, alice):
    organization = make_organization("Zorvexquill Trading", owner=alice)
    made = s.make_subject(organization, alice)
    contact, others = made["contact"], made["others"]
    # An event from before values were kept out of audit details: it names the email.
    legacy = record_event(
        action="contact.imported", actor=alice, organization=organization, target=contact, details={"email": s.EMAIL}
    )
    assert _traces(organization, [s.EMAIL]), "the scan sees the values before erasure"

    counts = execute(plan("contact", contact), batch_size=2)

    assert _traces(organization, s.IDENTIFYING) == []
    with tenant_context(organization):
        assert not Contact.objects.filter(pk=contact.pk).exists()
        assert not Task.objects.filter(pk=made["task"].pk).exists()
        assert not Interaction.objects.filter(pk__in=[i.pk for i in made["solo"]]).exists()
        shared = Interaction.objects.get(pk=made["shared"].pk)
        assert shared.body == s.SHARED_INTERACTION[1]
        remaining = set(InteractionParticipant.objects.filter(interaction=shared).values_list("contact", flat=True))
        assert remaining == {o.pk for o in others}
        assert Contact.objects.filter(pk__in=[o.pk for o in others]).count() == 2
    # The audit log: redacted, not deleted, and still verifiable.
    with platform_reads():
        event = AuditEvent.objects.get(pk=legacy.pk)
        assert event.details["email"] == REDACTED
        assert AuditEvent.objects.filter(target_type="contact", target_id=str(contact.pk)).count() >= 2
    assert verify_audit_log().intact
    assert counts["deleted"]["contacts.Contact"] == 1
    assert counts["unlinked"]["activity.InteractionParticipant"] == 2
    assert counts["deleted_when_nobody_left"]["activity.Interaction"] == 1
    assert counts["audit_values_redacted"] == 1
    assert s.EMAIL not in json.dumps(counts)
    # Nothing is left to do: a second run completes at once.
    assert execute(
        plan_or_subject={
            "kind": "contact",
            "subject_id": contact.pk,
            "organization_id": organization.pk,
            "created_at": "",
            "steps": [],
        }
    )["already_erased"]


class Crash(Exception):
    pass


def test_an_interrupted_erasure_resumes_to_completion(org_a, alice):
    made = s.make_subject(org_a, alice, interactions=4)
    contact = made["contact"]
    preview = plan("contact", contact, audit=False).as_dict()
    batches = []

    def crash_after_two_batches(label, done):
        batches.append(label)
        if len(batches) == 2:
            raise Crash

    with pytest.raises(Crash):
        execute(preview, batch_size=1, report=crash_after_two_batches, audit=False)
    with tenant_context(org_a):
        assert Contact.objects.filter(pk=contact.pk).exists()  # its own row goes last
        # The first batches committed, and no interaction was left without participants.
        assert not Interaction.objects.filter(organization=org_a, interactionparticipant__isnull=True).exists()

    counts = execute(preview, batch_size=1, audit=False)

    assert not counts["already_erased"]
    with tenant_context(org_a):
        assert not Contact.objects.filter(pk=contact.pk).exists()
        assert Interaction.objects.filter(organization=org_a).count() == 1  # the shared one
    assert _traces(org_a, [s.EMAIL, s.FIRST, s.LAST, s.EXTRA_EMAIL]) == []


def test_a_sole_traders_company_is_anonymised_and_unsearchable(org_a, alice):
    from contacts.services.companies import create_company

    company = create_company(
        organization=org_a, actor=alice, name="Ilinca Vrabetescu PFA", data={"address": "Strada Lunga 1", "notes": "x"}
    )
    preview = plan("company", company, audit=False)
    steps = {step.model: step for step in preview.steps}
    assert steps["contacts.Company"].fields["name"] == "anonymise"
    assert steps["contacts.Company"].derived == {"name": ["name_tokens", "name_index"]}
    assert steps["contacts.CompanyNameToken"].action == "follows"

    counts = execute(company, audit=False)

    assert counts["anonymised"] == {"contacts.Company": 1}
    with tenant_context(org_a):
        kept = Company.objects.get(pk=company.pk)
        assert kept.name == f"Anonymised company {company.pk}"
        assert kept.address == "" and kept.notes == ""
        assert CompanyNameToken.objects.filter(company=kept).exists()  # the new name's tokens
    assert search_companies(org_a, "Vrabetescu") == []
    assert search_companies(org_a, "Anonymised")
    assert _traces(org_a, ["Ilinca", "Vrabetescu", "Strada Lunga"]) == []


def test_a_members_account_erasure_leaves_the_organization_and_its_contacts(platform_db, org_a, alice, bob):
    from accounts.models import Membership, Organization, User

    contact = create_contact(organization=org_a, actor=bob, data={"first_name": "Ana", "owner": bob})

    counts = execute(plan("user", bob), batch_size=10)

    assert not User.objects.filter(pk=bob.pk).exists()
    assert counts["deleted"]["accounts.User"] == 1
    assert Organization.objects.get(pk=org_a.pk).name == "Alpha SRL"
    with tenant_context(org_a):
        kept = Contact.objects.get(pk=contact.pk)
        assert kept.owner_id is None and kept.first_name == "Ana"
        assert Membership.objects.filter(organization=org_a).count() == 1  # alice's
    assert scan_tables(["bob@example.com", "Bob Beta"]) == []
    assert verify_audit_log().intact


def test_a_persons_search_tokens_are_found_through_the_tokens_they_hold(org_a, alice):
    """The token tables are indexed by organization and token, not by contact: the registry
    reaches a person's token rows through the tokens on their row (one index probe each),
    and counts exactly the rows the trigger wrote."""
    from contacts.models import ContactNameToken
    from logicnet.personal_data.registry import registry

    ana = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana-Maria", "last_name": "Ștefănescu"})
    create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "last_name": "Pop"})
    with tenant_context(org_a):
        holding = next(h for h in registry.holdings("contact", ana) if h.model == "contacts.ContactNameToken")
        sql = str(holding.rows.query)
        expected = ContactNameToken.objects.filter(organization=org_a, contact=ana).count()
        assert '"token" = ANY(' in sql
        assert holding.count == expected > 0
