"""Encryption at rest: only ciphertext in the database, values bound to their organization,
model and field, keys that rotate, re-encrypt and can be destroyed."""

from __future__ import annotations

import base64
import datetime
import secrets
from decimal import Decimal

import pytest
from django.core import serializers
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.forms import modelform_factory
from django.utils import timezone

from contacts.models import Company, Contact
from contacts.selectors import find_contacts_by_email, search_contacts
from contacts.services.contacts import create_contact
from logicnet.encryption import crypto, keys
from logicnet.encryption.config import parse_master_keys
from logicnet.encryption.exceptions import DecryptionError, EncryptionWriteError, OrganizationKeyMissing
from logicnet.encryption.fields import EncryptedDecimalField, EncryptedJSONField
from logicnet.encryption.models import OrganizationKey
from logicnet.encryption.reencryption import reencrypt_organization
from logicnet.encryption.retirement import destroy_retired_keys
from logicnet.tenancy.context import platform_bypass, tenant_context, user_context

ANA = {
    "first_name": "Ana",
    "last_name": "Ionescu",
    "email": "ana@exemplu.ro",
    "phone": "0721 234 567",
    "date_of_birth": datetime.date(1990, 5, 17),
    "job_title": "Director vânzări",
    "notes": "Prefers calls after 16:00.",
}


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    keys.forget_organization()
    yield
    keys.forget_organization()


def raw_row(table: str, pk: int, organization) -> dict:
    with tenant_context(organization), connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}" WHERE id = %s', [pk])
        columns = [c.name for c in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def set_raw(table: str, pk: int, organization, column: str, value) -> None:
    with tenant_context(organization), connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{table}" SET "{column}" = %s WHERE id = %s', [value, pk])


def read(organization, pk: int, field: str):
    with tenant_context(organization):
        return getattr(Contact.objects.get(pk=pk), field)


def master_keys_setting(*items: tuple[str, bytes]) -> list[tuple[str, bytes]]:
    return list(items)


def test_database_holds_only_ciphertext(org_a, alice):
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    row = raw_row("contacts_contact", contact.pk, org_a)
    for name, value in ANA.items():
        stored = row[name]
        assert stored.startswith("v2.1."), name
        assert str(value) not in stored and "Ana" not in stored and "exemplu" not in stored
        assert crypto.token_version(stored) == 1
    # Indexes and tokens are keyed digests, not the value.
    assert len(row["email_index"]) == 32 and "ana" not in row["email_index"]
    assert row["name_tokens"] and all(isinstance(t, int) for t in row["name_tokens"])
    with tenant_context(org_a):
        loaded = Contact.objects.get(pk=contact.pk)
        # The phone comes back in E.164, its one stored form (logicnet/normalize.py).
        assert [getattr(loaded, name) for name in ANA] == list({**ANA, "phone": "+40721234567"}.values())


def test_every_value_is_encrypted_afresh(org_a, alice):
    one = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "a1@exemplu.ro"})
    two = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "a2@exemplu.ro"})
    assert (
        raw_row("contacts_contact", one.pk, org_a)["first_name"]
        != raw_row("contacts_contact", two.pk, org_a)["first_name"]
    )


def test_a_flipped_byte_is_detected_with_a_clear_error(org_a, alice):
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    stored = raw_row("contacts_contact", contact.pk, org_a)["email"]
    prefix, blob = stored.rsplit(".", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[20] ^= 0x01
    set_raw("contacts_contact", contact.pk, org_a, "email", f"{prefix}.{base64.b64encode(bytes(raw)).decode()}")
    with pytest.raises(DecryptionError) as caught:
        read(org_a, contact.pk, "email")
    message = str(caught.value)
    assert f"organization {org_a.pk}" in message and "contacts.Contact.email" in message
    assert "authentication failed" in message
    # The other fields of the row still read.
    assert read(org_a, contact.pk, "first_name") == "Ana"


def test_a_value_copied_to_another_column_fails(org_a, alice):
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    row = raw_row("contacts_contact", contact.pk, org_a)
    set_raw("contacts_contact", contact.pk, org_a, "job_title", row["last_name"])
    with pytest.raises(DecryptionError, match=r"contacts\.Contact\.job_title"):
        read(org_a, contact.pk, "job_title")


def test_a_value_copied_into_another_organizations_row_fails(org_a, org_b, alice, charlie):
    ours = create_contact(organization=org_a, actor=alice, data=ANA)
    theirs = create_contact(organization=org_b, actor=charlie, data={"first_name": "Bogdan", "email": "b@exemplu.ro"})
    stolen = raw_row("contacts_contact", ours.pk, org_a)["email"]
    set_raw("contacts_contact", theirs.pk, org_b, "email", stolen)
    with pytest.raises(DecryptionError) as caught:
        read(org_b, theirs.pk, "email")
    assert f"organization {org_b.pk}" in str(caught.value)
    assert "encrypted for another organization, model or field" in str(caught.value)


def test_values_of_another_model_do_not_open_as_a_contact(org_a, alice):
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    with tenant_context(org_a):
        company = Company.objects.create(organization=org_a, name="Ionescu Consult")
    set_raw("contacts_contact", contact.pk, org_a, "first_name", raw_row("contacts_company", company.pk, org_a)["name"])
    with pytest.raises(DecryptionError, match=r"contacts\.Contact\.first_name"):
        read(org_a, contact.pk, "first_name")


def test_garbage_in_a_column_is_an_error_not_an_empty_value(org_a, alice):
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    set_raw("contacts_contact", contact.pk, org_a, "phone", "0721234567")
    with pytest.raises(DecryptionError, match="not a ciphertext of a known format"):
        read(org_a, contact.pk, "phone")


def test_a_wrong_master_key_gives_a_clear_error(org_a, alice, settings):
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    key_id = settings.ENCRYPTION_MASTER_KEYS[0][0]
    settings.ENCRYPTION_MASTER_KEYS = [(key_id, secrets.token_bytes(32))]
    keys.forget_organization()
    with pytest.raises(DecryptionError) as caught:
        read(org_a, contact.pk, "first_name")
    message = str(caught.value)
    assert f"organization {org_a.pk}" in message and "contacts.Contact.first_name" in message
    assert f"master key {key_id!r}" in message and "does not unwrap" in message


def test_a_missing_master_key_gives_a_clear_error(org_a, alice, settings):
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    key_id = settings.ENCRYPTION_MASTER_KEYS[0][0]
    settings.ENCRYPTION_MASTER_KEYS = [("other", secrets.token_bytes(32))]
    keys.forget_organization()
    with pytest.raises(
        DecryptionError, match=f"wrapped by master key {key_id!r}, which is not in ENCRYPTION_MASTER_KEYS"
    ):
        read(org_a, contact.pk, "email")


def test_writing_with_a_wrong_master_key_names_the_field(org_a, alice, settings):
    create_contact(organization=org_a, actor=alice, data=ANA)
    settings.ENCRYPTION_MASTER_KEYS = [(settings.ENCRYPTION_MASTER_KEYS[0][0], secrets.token_bytes(32))]
    keys.forget_organization()
    with pytest.raises(EncryptionWriteError, match=r"contacts\.Contact\.\w+ of organization .* does not unwrap"):
        create_contact(organization=org_a, actor=alice, data={"first_name": "Dan"})
    with tenant_context(org_a), pytest.raises(EncryptionWriteError, match=r"cannot encrypt contacts\.Contact\.notes"):
        Contact.objects.create(organization=org_a, first_name="", last_name="", notes="x")


def test_no_master_keys_at_all_is_improperly_configured(settings):
    settings.ENCRYPTION_MASTER_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="ENCRYPTION_MASTER_KEYS"):
        keys.newest_master_key()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("k1", "id:base64"),
        ("k1:not base64!", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
        ("k1:{0},k1:{0}".format(base64.b64encode(bytes(32)).decode()), "appears twice"),
    ],
)
def test_malformed_master_keys_are_refused_naming_the_variable(value, message):
    with pytest.raises(ImproperlyConfigured, match=message) as caught:
        parse_master_keys("ENCRYPTION_MASTER_KEYS", value)
    assert "ENCRYPTION_MASTER_KEYS" in str(caught.value)


def test_master_keys_parse_from_a_list_or_a_file_body():
    one, two = base64.b64encode(bytes(32)).decode(), base64.b64encode(bytes(range(32))).decode()
    assert [k for k, _ in parse_master_keys("X", f"new:{two}, old:{one}")] == ["new", "old"]
    assert [k for k, _ in parse_master_keys("X", f"new:{two}\nold:{one}\n")] == ["new", "old"]


def test_outside_the_tenant_context_keys_stay_hidden(org_a, alice):
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    with tenant_context(org_a):
        loaded = Contact.objects.get(pk=contact.pk)
    keys.forget_organization()
    with pytest.raises(DecryptionError, match="inside tenant_context"):
        loaded.email  # noqa: B018  (row-level security hides the key outside the context)


def test_a_warm_key_cache_serves_only_the_active_organization(platform_db, org_a, org_b, alice, charlie):
    # Committed data: a key created by an open transaction is cached for that connection
    # only; the process-wide cache under test holds committed keys.
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    with tenant_context(org_a):
        loaded = Contact.objects.get(pk=contact.pk)
        assert loaded.first_name == "Ana"  # org A's key is now in the process-wide cache
        copies = [Contact.objects.get(pk=contact.pk) for _ in range(2)]
    assert keys._cache.get(org_a.pk) is not None  # warm: the cold path (RLS) is not what refuses
    with pytest.raises(DecryptionError, match="inside tenant_context"):
        copies[0].email  # noqa: B018  (outside any context)
    with tenant_context(org_b), pytest.raises(DecryptionError, match="inside tenant_context"):
        copies[1].email  # noqa: B018  (inside another organization's context)
    with tenant_context(org_b), pytest.raises(OrganizationKeyMissing, match="inside tenant_context"):
        keys.encrypt_value(org_a.pk, "contacts.Contact", "email", b"x@exemplu.ro")
    assert keys._cache.get(org_a.pk) is not None  # still warm: refused by the check, not a miss
    # The audited platform bypass may read it (the admin, a sweep).
    with platform_bypass(actor=None, reason="test: warm cache under the bypass"):
        assert copies[1].email == "ana@exemplu.ro"
    with pytest.raises(DecryptionError, match="inside tenant_context"):
        copies[0].phone  # noqa: B018  (the bypass ended with its block)


def test_a_value_too_long_is_rejected_not_truncated(org_a, alice):
    with pytest.raises(ValidationError) as caught:
        create_contact(organization=org_a, actor=alice, data={**ANA, "first_name": "A" * 101})
    assert "first_name" in caught.value.message_dict
    with tenant_context(org_a):
        assert not Contact.objects.exists()
        # Even a save that skips validation refuses it rather than storing or cutting it.
        contact = Contact(organization=org_a, first_name="B" * 101)
        with pytest.raises(ValidationError, match="at most 100 characters"):
            contact.save()


def test_a_value_of_the_wrong_type_names_organization_model_and_field(org_a):
    with tenant_context(org_a):
        contact = Contact(organization=org_a, first_name="Ana", date_of_birth="not a date")
        with pytest.raises(ValidationError) as caught:
            contact.save()
    message = caught.value.message_dict["date_of_birth"][0]
    assert "contacts.Contact.date_of_birth" in message and f"organization {org_a.pk}" in message


def test_writes_that_bypass_the_row_are_refused(org_a, alice):
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    with pytest.raises(EncryptionWriteError, match="blind index"), tenant_context(org_a):
        Contact.objects.filter(pk=contact.pk).update(first_name="Plain")
    with pytest.raises(EncryptionWriteError), tenant_context(org_a):
        list(Contact.objects.filter(first_name="Ana"))
    with tenant_context(org_a):
        assert Contact.objects.filter(notes="").count() == 0  # emptiness can be asked
        assert read(org_a, contact.pk, "first_name") == "Ana"


def test_bulk_create_encrypts_and_unread_values_are_written_back_unchanged(org_a):
    with tenant_context(org_a):
        Contact.objects.bulk_create(
            [Contact(organization=org_a, first_name=f"Ștefan {i}", email=f"s{i}@exemplu.ro") for i in range(3)]
        )
        first = Contact.objects.order_by("pk").first()
        before = raw_row("contacts_contact", first.pk, org_a)
        first.save()  # nothing read, nothing changed: the same ciphertext is written back
        assert raw_row("contacts_contact", first.pk, org_a)["email"] == before["email"]
        assert before["first_name"].startswith("v2.")
        assert sorted(c.first_name for c in Contact.objects.all()) == ["Ștefan 0", "Ștefan 1", "Ștefan 2"]


def test_forms_serialization_and_deferred_loading_see_plaintext(org_a, alice):
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    with tenant_context(org_a):
        form_class = modelform_factory(Contact, fields=["first_name", "email", "phone", "date_of_birth"])
        form = form_class(instance=Contact.objects.get(pk=contact.pk))
        assert form.initial["email"] == "ana@exemplu.ro"
        assert form.fields["first_name"].max_length == 100
        assert 'type="tel"' in str(form["phone"])
        bad = form_class(data={"first_name": "x" * 101, "email": "not-an-email", "phone": "07", "date_of_birth": ""})
        assert set(bad.errors) == {"first_name", "email"}
        dumped = serializers.serialize("json", Contact.objects.filter(pk=contact.pk))
        assert "ana@exemplu.ro" in dumped and "1990-05-17" in dumped
        deferred = Contact.objects.only("id", "organization").get(pk=contact.pk)
        assert deferred.last_name == "Ionescu"


def test_json_and_decimal_fields_round_trip(org_a):
    field = EncryptedJSONField()
    field.set_attributes_from_name("extra")
    field.model = Contact
    decimal_field = EncryptedDecimalField(max_digits=10, decimal_places=2)
    decimal_field.set_attributes_from_name("amount")
    decimal_field.model = Contact
    holder = Contact(organization=org_a)
    with tenant_context(org_a):
        sealed = field.seal(holder, {"tags": ["vip"], "score": 3})
        assert field.decrypt_sealed(holder, sealed) == {"tags": ["vip"], "score": 3}
        sealed_amount = decimal_field.seal(holder, Decimal("1234.50"))
        assert decimal_field.decrypt_sealed(holder, sealed_amount) == Decimal("1234.50")


def test_master_key_rotation_rewraps_keys_and_keeps_every_value_readable(
    platform_db, org_a, org_b, alice, charlie, settings
):
    ours = create_contact(organization=org_a, actor=alice, data=ANA)
    theirs = create_contact(organization=org_b, actor=charlie, data={"first_name": "Bogdan", "email": "b@exemplu.ro"})
    before = raw_row("contacts_contact", ours.pk, org_a)
    old = settings.ENCRYPTION_MASTER_KEYS[0]
    settings.ENCRYPTION_MASTER_KEYS = [("rotated", secrets.token_bytes(32)), old]
    call_command("rotate_master_key")
    with platform_bypass(actor=None, reason="test"):
        assert set(OrganizationKey.objects.values_list("master_key_id", flat=True)) == {"rotated"}
    # The old master key can go now; no value was rewritten.
    settings.ENCRYPTION_MASTER_KEYS = settings.ENCRYPTION_MASTER_KEYS[:1]
    keys.forget_organization()
    assert raw_row("contacts_contact", ours.pk, org_a)["email"] == before["email"]
    assert read(org_a, ours.pk, "email") == "ana@exemplu.ro"
    assert read(org_b, theirs.pk, "first_name") == "Bogdan"


def test_reencrypting_an_organization_keeps_values_and_lookups(platform_db, org_a, org_b, alice, charlie, settings):
    settings.ENCRYPTION_KEY_CACHE_SECONDS = 0
    contacts = [
        create_contact(organization=org_a, actor=alice, data={**ANA, "email": f"ana{i}@exemplu.ro"}) for i in range(7)
    ]
    other = create_contact(organization=org_b, actor=charlie, data={"first_name": "Bogdan"})
    other_before = raw_row("contacts_contact", other.pk, org_b)
    call_command("reencrypt_organization", organization=org_a.slug, batch_size=3)
    for contact in contacts:
        row = raw_row("contacts_contact", contact.pk, org_a)
        assert all(row[name].startswith("v2.2.") for name in ANA)
    assert read(org_a, contacts[3].pk, "email") == "ana3@exemplu.ro"
    assert [c.pk for c in find_contacts_by_email(org_a, "ANA5@exemplu.ro")] == [contacts[5].pk]
    assert len(search_contacts(org_a, "ion ana")) == 7  # the token rows followed the new key
    with tenant_context(org_a):
        versions = {key.version: key for key in OrganizationKey.objects.all()}
    # The old version is retired (it no longer encrypts) but kept for its grace period.
    assert versions[1].retired_at and versions[1].wrapped_key and not versions[1].destroyed_at
    assert versions[2].is_live
    assert raw_row("contacts_contact", other.pk, org_b) == other_before
    # Within the grace period nothing is destroyed; after it, the retired key is wiped.
    call_command("destroy_retired_keys")
    with tenant_context(org_a):
        assert OrganizationKey.objects.get(version=1).wrapped_key
    later = timezone.now() + datetime.timedelta(days=settings.ENCRYPTION_RETIRED_KEY_GRACE_DAYS + 1)
    assert destroy_retired_keys(now=later, report=lambda line: None)["destroyed"] == [(org_a.pk, 1)]
    with tenant_context(org_a):
        retired = OrganizationKey.objects.get(version=1)
    assert retired.wrapped_key == "" and retired.destroyed_at and retired.retired_at
    keys.forget_organization()
    assert read(org_a, contacts[6].pk, "email") == "ana6@exemplu.ro"  # the organization lives on
    with tenant_context(org_a):
        Contact.objects.create(organization=org_a, first_name="Nou")  # and encrypts under v2


def test_reencryption_resumes_after_an_interruption(platform_db, org_a, alice, settings):
    settings.ENCRYPTION_KEY_CACHE_SECONDS = 0
    contacts = [
        create_contact(organization=org_a, actor=alice, data={**ANA, "email": f"r{i}@exemplu.ro"}) for i in range(5)
    ]
    result = reencrypt_organization(org_a, batch_size=2, max_batches=1, report=lambda line: None)
    assert result == {"finished": False, "version": 2}
    # Half done: both versions live, every value readable, lookups find rows of either version.
    with tenant_context(org_a):
        assert sorted(OrganizationKey.objects.exclude(wrapped_key="").values_list("version", flat=True)) == [1, 2]
    assert {read(org_a, c.pk, "email") for c in contacts} == {f"r{i}@exemplu.ro" for i in range(5)}
    assert [c.pk for c in find_contacts_by_email(org_a, "r4@exemplu.ro")] == [contacts[4].pk]
    call_command("reencrypt_organization", organization=org_a.slug, batch_size=2)
    for contact in contacts:
        assert raw_row("contacts_contact", contact.pk, org_a)["email"].startswith("v2.2.")


def test_a_destroyed_organization_key_makes_its_data_unreadable(platform_db, org_a, org_b, alice, charlie):
    from logicnet.personal_data.offboarding import destroy_data_key

    ours = create_contact(organization=org_a, actor=alice, data=ANA)
    theirs = create_contact(organization=org_b, actor=charlie, data={"first_name": "Bogdan"})
    # The key alone (the command offboards the organization first, deleting the rows).
    destroy_data_key(organization=org_a)
    with pytest.raises(DecryptionError, match="destroyed") as caught:
        read(org_a, ours.pk, "first_name")
    assert f"organization {org_a.pk}" in str(caught.value)
    with tenant_context(org_a):
        assert set(OrganizationKey.objects.values_list("wrapped_key", flat=True)) == {""}
        # And no new data can be stored for it.
        with pytest.raises(EncryptionWriteError, match=r"contacts\.Contact\.first_name of organization .* destroyed"):
            Contact.objects.create(organization=org_a, first_name="New")
    assert read(org_b, theirs.pk, "first_name") == "Bogdan"


def test_key_events_are_audited(platform_db, org_a, alice, settings):
    from logicnet.audit.models import AuditEvent

    settings.ENCRYPTION_KEY_CACHE_SECONDS = 0
    create_contact(organization=org_a, actor=alice, data=ANA)
    call_command("reencrypt_organization", organization=org_a.slug)
    call_command("destroy_organization_key", organization=org_a.slug, yes=True)
    with tenant_context(org_a):
        actions = list(
            AuditEvent.objects.filter(action__startswith="encryption.").order_by("pk").values_list("action", flat=True)
        )
    assert actions[0] == "encryption.key_created"
    assert {"encryption.reencryption_started", "encryption.reencryption_finished", "encryption.key_destroyed"} <= set(
        actions
    )


def test_the_first_key_is_created_once(org_a):
    with tenant_context(org_a):
        first = keys.create_key_version(org_a.pk, reason="first use", unless_one_exists=True)
        # A second transaction that waited for the lock finds the key instead of adding v2.
        assert keys.create_key_version(org_a.pk, reason="first use", unless_one_exists=True) == first
        assert OrganizationKey.objects.count() == 1


def test_a_value_on_an_older_key_version_is_reencrypted_when_its_row_is_saved(org_a, alice, settings):
    settings.ENCRYPTION_KEY_CACHE_SECONDS = 0
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    with tenant_context(org_a):
        keys.create_key_version(org_a.pk, reason="test")
        loaded = Contact.objects.get(pk=contact.pk)
        loaded.save()  # no value read: each would have been written back on v1
    row = raw_row("contacts_contact", contact.pk, org_a)
    assert all(row[name].startswith("v2.2.") for name in ANA)
    # The search columns followed: found by email and by name under the new version only.
    assert [c.pk for c in find_contacts_by_email(org_a, "ana@exemplu.ro")] == [contact.pk]
    assert [c.pk for c in search_contacts(org_a, "ionescu")] == [contact.pk]
    assert read(org_a, contact.pk, "date_of_birth") == ANA["date_of_birth"]


def test_retired_keys_are_not_destroyed_while_a_value_still_uses_them(platform_db, org_a, alice, settings):
    settings.ENCRYPTION_KEY_CACHE_SECONDS = 0
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    before = raw_row("contacts_contact", contact.pk, org_a)
    reencrypt_organization(org_a, report=lambda line: None)
    # A value from a backup, restored after the re-encryption: still on the retired v1.
    set_raw("contacts_contact", contact.pk, org_a, "notes", before["notes"])
    keys.forget_organization()
    assert read(org_a, contact.pk, "notes") == ANA["notes"]  # the grace period at work
    later = timezone.now() + datetime.timedelta(days=settings.ENCRYPTION_RETIRED_KEY_GRACE_DAYS + 1)
    result = destroy_retired_keys(now=later, report=lambda line: None)
    assert result == {"destroyed": [], "refused": {(org_a.pk, 1): 1}}
    with tenant_context(org_a):
        assert OrganizationKey.objects.get(version=1).wrapped_key
        Contact.objects.get(pk=contact.pk).save()  # saving the row moves the value to v2
    assert raw_row("contacts_contact", contact.pk, org_a)["notes"].startswith("v2.2.")
    assert destroy_retired_keys(now=later, report=lambda line: None)["destroyed"] == [(org_a.pk, 1)]


def test_an_old_master_key_is_released_only_when_nothing_needs_it(platform_db, org_a, alice, settings):
    from accounts import two_factor

    old = settings.ENCRYPTION_MASTER_KEYS[0]
    contact = create_contact(organization=org_a, actor=alice, data=ANA)
    device = two_factor.start_totp_enrolment(user=alice)  # a TOTP seed sealed under the old key
    seed = device.bin_key
    settings.ENCRYPTION_MASTER_KEYS = [("k-new", secrets.token_bytes(32)), old]
    with pytest.raises(CommandError, match="it is the newest"):
        call_command("retire_master_key", key_id="k-new")
    with pytest.raises(CommandError, match=r"1 data keys wrapped by it, 0 values .* 1 platform values"):
        call_command("retire_master_key", key_id=old[0])
    call_command("rotate_master_key")
    # A value left on a retired data key version also holds the old master key back.
    before = raw_row("contacts_contact", contact.pk, org_a)
    settings.ENCRYPTION_KEY_CACHE_SECONDS = 0
    reencrypt_organization(org_a, report=lambda line: None)
    set_raw("contacts_contact", contact.pk, org_a, "email", before["email"])
    with pytest.raises(CommandError, match=r"0 data keys wrapped by it, 1 values on retired"):
        call_command("retire_master_key", key_id=old[0])
    with tenant_context(org_a):
        Contact.objects.get(pk=contact.pk).save()
    call_command("retire_master_key", key_id=old[0])
    settings.ENCRYPTION_MASTER_KEYS = settings.ENCRYPTION_MASTER_KEYS[:1]
    keys.forget_organization()
    assert read(org_a, contact.pk, "email") == "ana@exemplu.ro"
    with user_context(device.user):  # a device is its user's own row (a user-keyed policy)
        device.refresh_from_db()
    assert device.bin_key == seed


def test_a_data_key_is_rotated_well_before_the_random_nonce_bound(
    org_a, alice, settings, django_capture_on_commit_callbacks
):
    from logicnet.audit.models import AuditEvent
    from logicnet.encryption.tasks import reencrypt_organization_task

    settings.ENCRYPTION_KEY_CACHE_SECONDS = 0
    settings.ENCRYPTION_KEY_ROTATE_AFTER = 20
    settings.ENCRYPTION_COUNT_FLUSH_EVERY = 5
    keys._encryption_counts.clear()

    def stored_count(version: int) -> int:
        with tenant_context(org_a):
            return OrganizationKey.objects.get(version=version).encryptions

    with django_capture_on_commit_callbacks(execute=True):
        first = create_contact(organization=org_a, actor=alice, data=ANA)
    encrypted = sum(
        1 for value in raw_row("contacts_contact", first.pk, org_a).values() if str(value).startswith("v2.")
    )
    # Counted in memory; a batch of ENCRYPTION_COUNT_FLUSH_EVERY sends everything pending
    # to the key row after the writer's transaction commits.
    assert stored_count(1) == encrypted
    assert keys.pending_encryption_counts() == {}

    settings.ENCRYPTION_COUNT_FLUSH_EVERY = 1000
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(2):
            create_contact(organization=org_a, actor=alice, data={**ANA, "email": f"n{i}@exemplu.ro"})
    assert stored_count(1) == encrypted  # no UPDATE per value
    assert keys.pending_encryption_counts() == {(org_a.pk, 1): 2 * encrypted}
    with django_capture_on_commit_callbacks() as queued:
        keys.flush_encryption_counts()  # as at the end of a request: past the limit now
    assert stored_count(1) == 3 * encrypted >= 20
    with tenant_context(org_a):
        assert sorted(OrganizationKey.objects.exclude(wrapped_key="").values_list("version", flat=True)) == [1, 2]
        started = AuditEvent.objects.get(action="encryption.rotation_started")
    assert started.details["encryptions"] == 3 * encrypted and started.details["new_version"] == 2
    assert len(queued) >= 1  # the re-encryption task, sent after commit
    # A second flush does not start a second rotation while this one runs.
    keys.count_encryption(org_a.pk, 1)
    keys.flush_encryption_counts()
    with tenant_context(org_a):
        assert OrganizationKey.objects.count() == 2

    assert reencrypt_organization_task(org_a.pk) is True
    assert raw_row("contacts_contact", first.pk, org_a)["email"].startswith("v2.2.")
    with tenant_context(org_a):
        assert OrganizationKey.objects.get(version=1).retired_at
    keys._encryption_counts.clear()


# --- padding: a dump shows length buckets, not lengths ------------------------------------------


def stored_lengths(organization, pk: int, columns: list[str]) -> dict[str, int]:
    row = raw_row("contacts_contact", pk, organization)
    return {column: len(base64.b64decode(row[column].rsplit(".", 1)[1])) for column in columns}


def test_padding_hides_lengths_within_a_bucket(org_a, alice):
    """ "Ana" and "Alexandrina", or two emails of 18 and 26 characters, store the same number
    of bytes; only crossing a bucket boundary (16, 32, 64, 128...) changes it."""
    short = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "email": "ana.pop@exemplu.ro"})
    long = create_contact(
        organization=org_a,
        actor=alice,
        data={"first_name": "Alexandrina", "email": "alexandrina.pop@exemplu.ro"},
    )
    longer = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana-Maria-Magdalena"})
    columns = ["first_name", "email"]
    assert stored_lengths(org_a, short.pk, columns) == stored_lengths(org_a, long.pk, columns)
    overhead = crypto.NONCE_BYTES + 16  # nonce and GCM tag
    assert stored_lengths(org_a, short.pk, columns) == {"first_name": 16 + overhead, "email": 32 + overhead}
    assert stored_lengths(org_a, longer.pk, ["first_name"]) == {"first_name": 32 + overhead}
    with tenant_context(org_a):
        assert Contact.objects.get(pk=long.pk).first_name == "Alexandrina"


@pytest.mark.parametrize(
    ("length", "bucket"),
    [(0, 16), (3, 16), (15, 16), (16, 32), (31, 32), (32, 64), (100, 128), (127, 128), (128, 144), (1000, 1024)],
)
def test_bucket_sizes(length, bucket):
    assert crypto.bucket_size(length) == bucket


def test_padding_round_trips_and_long_text_grows_by_at_most_12_percent():
    for length in [*range(0, 300), 1000, 4095, 4096, 10_000, 65_000]:
        plaintext = secrets.token_bytes(length)
        padded = crypto.pad(plaintext)
        assert len(padded) == crypto.bucket_size(length)
        assert crypto.unpad(padded) == plaintext
        if length > 128:
            assert len(padded) <= (length + 1) * 1.12 + 1
    # A value ending in what looks like padding keeps it: the marker is found from the end.
    for tricky in (b"\x80", b"a\x80\x00", b"\x00\x00", "Ștefan À".encode()):
        assert crypto.unpad(crypto.pad(tricky)) == tricky


def test_unpadded_v1_values_still_read(org_a, alice):
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana"})
    with tenant_context(org_a):
        legacy = keys.encrypt_value(org_a.pk, "contacts.Contact", "job_title", "Director vânzări".encode())
    assert legacy.startswith("v1.1.")
    set_raw("contacts_contact", contact.pk, org_a, "job_title", legacy)
    assert read(org_a, contact.pk, "job_title") == "Director vânzări"


def test_a_padded_value_relabelled_v1_fails_authentication(org_a, alice):
    """The format is bound by the associated data: read as v1, a v2 value would keep its
    padding; read as v2, a v1 value could lose a trailing byte. Both fail instead."""
    contact = create_contact(organization=org_a, actor=alice, data={"first_name": "Ana", "job_title": "Director"})
    padded = raw_row("contacts_contact", contact.pk, org_a)["job_title"]
    set_raw("contacts_contact", contact.pk, org_a, "job_title", "v1." + padded[3:])
    with pytest.raises(DecryptionError, match="authentication failed"):
        read(org_a, contact.pk, "job_title")
    with tenant_context(org_a):
        legacy = keys.encrypt_value(org_a.pk, "contacts.Contact", "job_title", b"Director")
    set_raw("contacts_contact", contact.pk, org_a, "job_title", "v2." + legacy[3:])
    with pytest.raises(DecryptionError, match=r"contacts\.Contact\.job_title.*authentication failed"):
        read(org_a, contact.pk, "job_title")


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_queues_one_reindex_job_per_active_organization(committed_db, org_a, org_b):
    import importlib

    from django.apps import apps as installed_apps

    from logicnet.jobs.models import Job
    from tests.conftest import use_database_role

    migration = importlib.import_module("logicnet.encryption.migrations.0003_queue_search_reindex")
    use_database_role("owner")  # migrations run as the owner
    try:
        with connection.schema_editor() as editor:
            migration.queue_reindex_jobs(installed_apps, editor)
    finally:
        use_database_role("app")
    for organization in (org_a, org_b):
        with tenant_context(organization):
            # Queued and never sent: beat's stalled-job check sends it, no broker needed here.
            assert list(Job.objects.values_list("kind", "state", "sent_at")) == [("encryption.reindex", "queued", None)]
