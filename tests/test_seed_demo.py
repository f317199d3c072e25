from django.core.management import call_command

from accounts.models import Membership, Organization
from contacts.models import Company, Contact, Interaction, Task
from contacts.selectors import search_contacts
from logicnet.tenancy.context import tenant_context


def test_demo_seed_is_realistic_and_idempotent(db):
    call_command("seed_demo")
    call_command("seed_demo")  # a second `make run` keeps the data
    organization = Organization.objects.get(slug="demo-srl")
    assert Membership.objects.filter(organization=organization).count() == 4
    with tenant_context(organization):
        assert Company.objects.count() == 6
        assert Contact.objects.count() == 24
        assert Interaction.objects.count() >= 48
        assert Task.objects.count() == 6
        assert [c.full_name for c in search_contacts(organization, "stef")] == ["Ana-Maria Ștefănescu"]
