"""field__any=[...]: a list as one array parameter (logicnet/lookups.py), and the eagerly
compiled email validator (logicnet/normalize.py) answering as Django's own."""

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.core.validators import validate_email as django_validate_email

from contacts.models import Contact, ContactEmail
from contacts.services.contacts import create_contact
from logicnet import normalize
from logicnet.tenancy.context import tenant_context


def test_any_takes_the_list_as_one_parameter_and_finds_the_same_rows_as_in(org_a, alice):
    organization = org_a
    with tenant_context(organization):
        contacts = [
            create_contact(
                organization=organization, actor=alice, data={"first_name": f"P{i}", "email": f"p{i}@example.ro"}
            )
            for i in range(3)
        ]
        wanted = [contacts[0].pk, contacts[2].pk, 999_999]
        query = Contact.objects.filter(organization=organization, pk__any=wanted)
        sql, params = query.query.sql_with_params()
        assert "= ANY(%s)" in sql
        assert wanted in params  # one parameter, the whole list
        assert set(query.values_list("pk", flat=True)) == set(
            Contact.objects.filter(organization=organization, pk__in=wanted).values_list("pk", flat=True)
        )
        # Foreign keys too (related fields look their lookups up apart from other fields).
        extra = ContactEmail.objects.filter(organization=organization, contact_id__any=wanted)
        assert "= ANY(%s)" in str(extra.query.sql_with_params()[0])
        assert Contact.objects.filter(organization=organization, pk__any=[]).count() == 0


def test_any_is_refused_on_encrypted_fields():
    # Ciphertexts cannot be compared with values (encryption/fields.py refuses the lookup).
    with pytest.raises(FieldError):
        Contact._base_manager.filter(email__any=["a@example.ro"])


@pytest.mark.parametrize(
    "value",
    [
        "ana@example.ro",
        "Ana.Popescu+crm@Sub.Example.RO",
        '"quoted local"@example.ro',
        "user@[192.168.0.1]",
        "user@[IPv6:::1]",
        "user@localhost",
        "no-at-sign",
        "two@@example.ro",
        "trailing.dot.@example.ro",
        "user@-bad-.ro",
        "user@example",
        "ștefan@exemplu.ro",
        "a" * 65 + "@example.ro",
        "user@" + "a" * 300 + ".ro",
        "",
    ],
)
def test_the_eager_email_validator_answers_as_djangos(value):
    def verdict(validator):
        try:
            validator(value)
        except ValidationError as exc:
            return exc.code
        return "valid"

    assert verdict(normalize.validate_email) == verdict(django_validate_email)
