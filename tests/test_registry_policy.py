"""The registry as a policy model (logicnet/personal_data/registry.py, policy.py): purposes,
retention, erasure per model, search columns linked to their source, subject resolvers,
secrets, stores outside the database, and the check that keeps them coherent."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps

from activity.models import Interaction
from contacts.models import Company, Contact, ContactEmail, ContactNameToken
from contacts.services.contacts import create_contact
from logicnet.personal_data.checks import classification_errors
from logicnet.personal_data.registry import (
    Category,
    Erasure,
    LegalBasis,
    Registry,
    Role,
    Subject,
    classify,
    not_personal,
    personal,
    registry,
)
from logicnet.tenancy.context import tenant_context


def _lead_errors(fields, **classify_kwargs) -> set[str]:
    @isolate_apps("contacts")
    def run():
        class Lead(models.Model):  # noqa: DJ008  (a throw-away model)
            organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
            contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
            channel = models.CharField(max_length=20)

            class Meta:
                app_label = "contacts"

        classify("contacts.Lead", {"id": not_personal(), "organization": not_personal(), **fields}, **classify_kwargs)
        try:
            return {e.msg for e in classification_errors([Lead])}
        finally:
            registry._models.pop("contacts.lead")
            registry._entries.pop("contacts.lead")

    return run()


def _rule(**overrides):
    values = {
        "subject": Subject("contact", "contact"),
        "retention": "contact",
        "purpose": "customer_relationships",
        "plaintext": "a test",
    }
    values.update(overrides)
    return personal(Category.USAGE, **values)


def test_the_whole_registry_is_coherent():
    assert classification_errors() == []
    assert registry.policy_problems() == []


def test_every_field_rule_names_a_defined_purpose_with_an_article_6_basis():
    used = set()
    for model in Registry.models_to_check(apps.get_models()):
        for rule in registry.rules_for(model).values():
            if rule.personal:
                assert rule.purpose in registry.purposes, (model, rule)
                used.add(rule.purpose)
    for key in used:
        purpose = registry.purposes[key]
        assert purpose.legal_basis in LegalBasis.values and purpose.role in Role.values
        assert purpose.transfers == "none outside the EEA"
    # Logicnet processes contacts for the organization; it controls its users' accounts.
    assert registry.purposes["customer_relationships"].role == Role.PROCESSOR
    assert registry.purposes["account"].role == Role.CONTROLLER
    assert registry.purposes["account"].legal_basis_name.startswith("Performance of a contract")


def test_retention_rules_are_data_and_only_the_organizations_own_are_overridable():
    contact = registry.retention["contact"]
    assert contact.anchor == "updated_at" and contact.duration is None and contact.overridable
    assert contact.effective_duration(datetime.timedelta(days=365)) == datetime.timedelta(days=365)
    job = registry.retention["job"]
    assert (job.anchor, job.duration, job.action) == ("finished_at", datetime.timedelta(days=90), "anonymise")
    with pytest.raises(ValueError, match="cannot be overridden"):
        registry.retention["security_log"].effective_duration(datetime.timedelta(days=1))
    # The names in use before retention became data are all still there.
    assert {
        "account",
        "membership",
        "contact",
        "organization",
        "invitation",
        "session",
        "security_log",
        "job",
        "two_factor",
        "email_confirmation",
    } <= set(registry.retention)


def test_erasure_is_decided_per_model_with_field_overrides():
    assert registry.model_erasure(Contact).action == Erasure.DELETE_ROW
    interaction = registry.model_erasure(Interaction)
    assert (interaction.action, interaction.through, interaction.through_subject) == (
        Erasure.UNLINK,
        "activity.InteractionParticipant",
        "contact",
    )
    assert registry.field_erasure(Interaction, "body") == Erasure.UNLINK
    assert registry.field_erasure(Interaction, "author") == Erasure.BLANK  # a team member: blanked
    company = registry.model_erasure(Company)
    assert company.action == Erasure.ANONYMISE and company.replacements == {"name": "Anonymised company {pk}"}
    assert registry.field_erasure(Company, "address") == Erasure.BLANK
    audit = registry.model_erasure(apps.get_model("audit.AuditEvent"))
    assert audit.action == Erasure.KEEP and "Art. 6(1)(c)" in audit.legal_basis


def test_search_columns_are_linked_to_the_field_they_derive_from():
    derived = registry.derived_columns(Contact)
    assert derived["email"] == ["email_index"] and derived["phone"] == ["phone_index"]
    assert derived["first_name"] == ["name_tokens"] and derived["last_name"] == ["name_tokens"]
    assert registry.derived_columns(ContactEmail) == {"email": ["email_index"]}
    assert registry.derived_table(ContactNameToken) == "contacts.Contact.name_tokens"
    assert registry.is_search_column(ContactNameToken, "token")


def test_secrets_are_flagged():
    secrets = {
        (model._meta.label, name)
        for model in Registry.models_to_check(apps.get_models())
        for name, rule in registry.rules_for(model).items()
        if rule.secret
    }
    assert {
        ("accounts.User", "password"),
        ("accounts.AuthenticatorDevice", "sealed_key"),
        ("accounts.BackupCode", "code_hash"),
        ("otp_totp.TOTPDevice", "key"),
        ("otp_static.StaticToken", "token"),
        ("sessions.Session", "session_key"),
        ("usersessions.UserSession", "session_key"),
        ("account.EmailConfirmation", "key"),
    } <= secrets


def test_stores_outside_the_database_are_declared():
    assert {"export_files", "uploaded_files", "mail_sent", "redis", "stripe", "backups"} <= set(registry.stores)
    for store in registry.stores.values():
        assert store.holds and store.erasure and store.subject_kinds


def test_subject_kinds_resolve_a_contacts_rows_within_its_organization(org_a, org_b, alice, charlie):
    assert set(registry.subject_kinds) >= {"user", "contact", "company"}
    assert registry.kind("contact").model_class() is Contact and registry.kind("company").model_class() is Company
    assert not registry.kind("user").tenant
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "tags": ["x"]})
    create_contact(organization=org_b, actor=charlie, data={"first_name": "Ana", "tags": ["x"]})
    with tenant_context(org_a):
        found = {(h.model, h.path): h for h in registry.kind("contact").holdings(contact)}
        assert found[("contacts.Contact", "pk")].count == 1
        assert found[("contacts.ContactTag", "contact")].count == 1
        # Organization first: the filter every lookup carries, so the indexes serve it.
        assert '"organization_id" =' in str(found[("contacts.ContactTag", "contact")].rows.query)
    with pytest.raises(ValueError, match="unknown data-subject kind"):
        registry.kind("visitor")


def test_a_subject_path_that_does_not_resolve_is_an_error():
    errors = _lead_errors({"contact": not_personal(), "channel": _rule(subject=Subject("contact", "contakt"))})
    assert errors == {
        "contacts.Lead.channel has a subject path 'contakt' that does not resolve: contacts.Lead has no field 'contakt'"
    }
    errors = _lead_errors({"contact": not_personal(), "channel": _rule(subject=Subject("contact", "organization"))})
    assert errors == {
        "contacts.Lead.channel has a subject path 'organization' that ends at accounts.Organization, "
        "not at contacts.Contact"
    }


def test_unknown_purposes_kinds_and_bases_are_errors():
    errors = _lead_errors(
        {
            "contact": not_personal(),
            "channel": _rule(purpose="marketing_maybe", subject=Subject("visitor", "contact")),
        },
        erasure=None,
    )
    assert errors == {
        "contacts.Lead.channel names an unknown purpose 'marketing_maybe'",
        "contacts.Lead.channel names an unknown data-subject kind 'visitor'",
    }
    from logicnet.personal_data.registry import ModelErasure

    errors = _lead_errors(
        {"contact": not_personal(), "channel": _rule()},
        erasure=ModelErasure(Erasure.UNLINK, through="contacts.Nothing", through_parent="a", through_subject="b"),
    )
    assert len(errors) == 1 and "unlinks through 'contacts.Nothing'" in errors.pop()
    errors = _lead_errors({"contact": not_personal(), "channel": _rule()}, erasure=ModelErasure(Erasure.KEEP))
    assert errors == {"contacts.Lead is kept on erasure but names no legal basis"}


def test_a_search_column_must_be_about_the_same_subject_as_its_source():
    @isolate_apps("contacts")
    def run():
        from logicnet.encryption.fields import BlindIndexField, EncryptedEmailField

        class Lead(models.Model):  # noqa: DJ008  (a throw-away model)
            organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
            contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
            email = EncryptedEmailField(blank=True)
            email_index = BlindIndexField(source="email", kind="email")

            class Meta:
                app_label = "contacts"

        classify(
            "contacts.Lead",
            {
                "id": not_personal(),
                "organization": not_personal(),
                "contact": not_personal(),
                "email": _rule(plaintext=""),
                "email_index": not_personal(),
            },
        )
        try:
            return {e.msg for e in classification_errors([Lead])}
        finally:
            registry._models.pop("contacts.lead")
            registry._entries.pop("contacts.lead")

    assert run() == {
        "contacts.Lead has the search column 'email_index' derived from 'email': classify it personal, "
        "about the same subject as its source"
    }


def test_a_users_erasure_plan_resolves_every_path(platform_db, org_a, bob):
    import json

    from logicnet.personal_data.erasure import plan

    preview = plan("user", bob)
    document = json.dumps(preview.as_dict())
    assert "bob@example.com" not in document and "Bob Beta" not in document
    steps = {(step.model, step.path): step for step in preview.steps}
    assert steps[("accounts.User", "pk")].action == "delete_row"
    assert steps[("accounts.Membership", "user")].rows == 1
    assert steps[("contacts.Contact", "owner")].action == "update"  # the contacts stay, the owner goes
    assert steps[("audit.AuditEvent", "actor_id")].action == "keep"
    assert steps[("audit.AuditEvent", "actor_id")].kept["action"].startswith("GDPR Art. 6(1)(c)")
    # An organization is its members' together: one member's erasure does not touch it.
    assert steps[("accounts.Organization", "memberships__user")].action == "keep"
