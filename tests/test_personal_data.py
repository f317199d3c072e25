"""The personal-data registry: every field classified, the check that enforces it, and the
data map it answers for a user or a contact."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from contacts.services.contacts import create_contact
from logicnet.personal_data.checks import classification_errors
from logicnet.personal_data.registry import (
    THE_CONTACT,
    Category,
    Erasure,
    Plain,
    Registry,
    Subject,
    classify,
    not_personal,
    personal,
    registry,
)


def test_every_installed_model_field_is_classified():
    assert classification_errors() == []
    labels = {m._meta.label for m in Registry.models_to_check(apps.get_models())}
    # Third-party and Django models are in the registry too, not only the project's.
    assert {"account.EmailAddress", "usersessions.UserSession", "sessions.Session", "otp_totp.TOTPDevice"} <= labels


def test_the_system_check_runs_with_manage_check():
    call_command("check", "--fail-level", "WARNING", tags=["personal_data"], stdout=StringIO())


@isolate_apps("contacts")
def test_a_new_unclassified_field_fails_the_check_naming_it():
    class Lead(models.Model):  # noqa: DJ008  (a throw-away model)
        name = models.CharField(max_length=50)

        class Meta:
            app_label = "contacts"

    errors = classification_errors([Lead])
    assert {e.msg for e in errors} == {
        "contacts.Lead.id is not classified in the personal-data registry",
        "contacts.Lead.name is not classified in the personal-data registry",
    }
    assert all(e.id == "personal_data.E001" for e in errors)


@isolate_apps("contacts")
def test_a_field_added_to_a_classified_model_fails_until_classified():
    class Lead(models.Model):  # noqa: DJ008  (a throw-away model)
        name = models.CharField(max_length=50)
        religion = models.CharField(max_length=50)

        class Meta:
            app_label = "contacts"

    classify("contacts.Lead", {"id": not_personal(), "name": not_personal()})
    try:
        assert [e.msg for e in classification_errors([Lead])] == [
            "contacts.Lead.religion is not classified in the personal-data registry"
        ]
    finally:
        registry._models.pop("contacts.lead")


@isolate_apps("contacts")
def test_incomplete_classifications_are_reported():
    class Lead(models.Model):  # noqa: DJ008  (a throw-away model)
        notes = models.TextField()

        class Meta:
            app_label = "contacts"

    classify(
        "contacts.Lead",
        {
            "id": not_personal(),
            "notes": personal(
                Category.NOTES, subject=THE_CONTACT, erasure=Erasure.KEEP, retention="forever", purpose=""
            ),
            "gone": not_personal(),
        },
    )
    try:
        messages = {e.msg for e in classification_errors([Lead])}
    finally:
        registry._models.pop("contacts.lead")
    assert messages == {
        "contacts.Lead.notes is kept on erasure but names no legal basis",
        "contacts.Lead.notes names an unknown retention rule 'forever'",
        "contacts.Lead.notes names no purpose",
        "contacts.Lead.notes is personal but stored in plaintext: use an encrypted field "
        "(logicnet/encryption/fields.py) or give the reason in `plaintext=`",
        "contacts.Lead.gone is classified but the model has no such field",
        # A subject path must reach the subject's own model.
        "contacts.Lead.notes has a subject path 'pk' that ends at contacts.Lead, not at contacts.Contact",
    }


@isolate_apps("contacts")
def test_a_personal_field_neither_encrypted_nor_justified_fails_the_check():
    """GDPR Art. 32: personal data is encrypted at rest unless the registry says why not."""
    from logicnet.encryption.fields import EncryptedCharField

    class Lead(models.Model):  # noqa: DJ008  (a throw-away model)
        organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE)
        contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
        referrer = models.CharField(max_length=200)
        sealed_referrer = EncryptedCharField(max_length=200)
        channel = models.CharField(max_length=20)

        class Meta:
            app_label = "contacts"

    def rule(**extra):
        return personal(
            Category.USAGE,
            subject=Subject("contact", "contact"),
            erasure=Erasure.BLANK,
            retention="contact",
            purpose="customer_relationships",
            **extra,
        )

    classify(
        "contacts.Lead",
        {
            "id": not_personal(),
            "organization": not_personal(),
            "contact": not_personal(),
            # A relation is a row reference: the row it points to is checked on its own.
            "referrer": rule(),
            "sealed_referrer": rule(),
            "channel": rule(plaintext=Plain.CHOICE),
        },
    )
    try:
        messages = [e.msg for e in classification_errors([Lead])]
    finally:
        registry._models.pop("contacts.lead")
    assert messages == [
        "contacts.Lead.referrer is personal but stored in plaintext: use an encrypted field "
        "(logicnet/encryption/fields.py) or give the reason in `plaintext=`"
    ]


def test_every_plaintext_personal_field_of_the_project_names_its_reason():
    from logicnet.personal_data.registry import stored_plain

    for model in Registry.models_to_check(apps.get_models()):
        for field in Registry.fields_of(model):
            found = registry.rule_for(model, field.name)
            if found and found.personal and stored_plain(field):
                assert len(found.plaintext) > 20, f"{model._meta.label}.{field.name}"
    from contacts.models import Contact

    # Where a contact's data came from is personal and now encrypted (it was plaintext).
    assert not stored_plain(Contact._meta.get_field("source_detail"))


def test_contact_fields_are_classified_as_the_contacts_data():
    from contacts.models import Contact

    rules = registry.rules_for(Contact)
    assert rules["email"].personal and rules["email"].category == Category.CONTACT
    assert rules["email"].subject == THE_CONTACT and rules["email"].provided_by_subject
    assert rules["notes"].category == Category.NOTES and not rules["notes"].provided_by_subject
    assert not rules["created_at"].personal


def test_data_map_for_a_user_lists_tables_fields_and_counts(platform_db, org_a, alice):
    out = StringIO()
    call_command("data_map", user="ALICE@example.com", stdout=out)
    text = out.getvalue()
    assert f"Personal data of user alice@example.com (id {alice.pk})" in text
    lines = {line.split()[0]: line for line in text.splitlines()[2:-1]}
    assert "email, full_name" in lines["accounts_user"] and lines["accounts_user"].split()[1] == "1"
    assert lines["accounts_membership"].split()[1] == "1"
    assert "account_emailaddress" in lines
    assert "audit_auditevent" in lines  # what she did, kept under its legal basis
    assert "contacts_contact" not in lines  # she is a user, not a contact


def test_data_map_for_a_contact_stays_in_its_organization(org_a, org_b, alice, charlie):
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "ana@exemplu.ro"})
    create_contact(organization=org_b, actor=charlie, data={"first_name": "Ana", "email": "ana@exemplu.ro"})
    out = StringIO()
    call_command("data_map", contact=contact.pk, organization=org_a.slug, stdout=out)
    text = out.getvalue()
    assert f"Personal data of contact {contact.pk} of {org_a.slug}" in text
    line = next(line for line in text.splitlines() if line.startswith("contacts_contact"))
    assert line.split()[1] == "1"
    assert "email, email_index, external_id, external_id_index, first_name" in line and "notes" in line
    with pytest.raises(Exception, match="no contact"):
        call_command("data_map", contact=contact.pk, organization=org_b.slug, stdout=StringIO())
