from django.core.management import call_command

from accounts.models import Membership, Organization
from contacts.models import Company, Contact, Interaction, Task
from contacts.selectors import search_contacts
from logicnet.tenancy.context import tenant_context


def test_demo_seed_is_realistic_and_idempotent(platform_db):
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


def test_demo_seed_creates_a_platform_administrator_with_a_known_second_factor(platform_db, client):
    """The admin can be seen on day one: the README prints this account and its key."""
    import time
    from base64 import b32encode

    import pyotp
    from django.urls import reverse

    from accounts.models import User
    from accounts.two_factor_models import AuthenticatorDevice
    from demo.management.commands.seed_demo import DEMO_PASSWORD, DEMO_STAFF_EMAIL, DEMO_STAFF_TOTP_KEY

    call_command("seed_demo")
    call_command("seed_demo")
    staff = User.objects.get(email=DEMO_STAFF_EMAIL)
    assert (staff.is_staff, staff.is_superuser) == (True, True)
    assert b32encode(DEMO_STAFF_TOTP_KEY).decode() == "NRXWO2LDNZSXILLEMVWW6LLBMRWWS3RB"
    device = AuthenticatorDevice.objects.using("platform").get(user=staff)
    code = pyotp.TOTP("NRXWO2LDNZSXILLEMVWW6LLBMRWWS3RB").at(int(time.time()))
    response = client.post(
        reverse("admin:login"),
        {
            "username": DEMO_STAFF_EMAIL,
            "password": DEMO_PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": code,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert client.get(reverse("admin:index")).status_code == 200
