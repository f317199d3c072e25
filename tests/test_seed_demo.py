import datetime

from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import Membership, Organization
from activity.models import Interaction, Task
from contacts.models import Company, Contact
from contacts.selectors import search_contacts
from deals.models import Deal, Stage
from logicnet.tenancy.context import tenant_context


def test_demo_seed_is_realistic_and_idempotent(platform_db):
    call_command("seed_demo")
    call_command("seed_demo")  # a second `make run` keeps the data
    organization = Organization.objects.get(slug="demo-srl")
    assert Membership.objects.filter(organization=organization).count() == 4
    now = timezone.now()
    with tenant_context(organization):
        assert Company.objects.count() == 28
        assert Contact.objects.count() == 180
        assert "Ana-Maria Ștefănescu" in [c.full_name for c in search_contacts(organization, "stef")]
        # Uneven companies: the largest account has many people, most have a few.
        sizes = sorted(
            Contact.objects.exclude(company=None).values("company").annotate(n=Count("id")).values_list("n", flat=True)
        )
        assert sizes[-1] >= 15 and sizes[0] <= 3
        # Months of history, not one minute.
        created = list(Contact.objects.values_list("created_at", flat=True))
        assert max(created) - min(created) > datetime.timedelta(days=150)
        # Interactions on working days, in working hours (Bucharest).
        moments = [
            timezone.localtime(t, datetime.timezone(datetime.timedelta(hours=2)))
            for t in Interaction.objects.values_list("occurred_at", flat=True)
        ]
        assert len(moments) >= 300
        assert all(m.weekday() < 5 for m in moments)
        # Tasks done, overdue and due.
        assert Task.objects.filter(done_at__isnull=False).exists()
        assert Task.objects.filter(done_at=None, due_at__lt=now).exists()
        assert Task.objects.filter(due_at__gt=now).exists()
        # Deals in every stage, and won and lost ones.
        stages = set(Stage.objects.values_list("pk", flat=True))
        assert set(Deal.objects.filter(status=Deal.Status.OPEN).values_list("stage_id", flat=True)) == stages
        assert Deal.objects.filter(status=Deal.Status.WON).count() >= 5
        assert Deal.objects.filter(status=Deal.Status.LOST).count() >= 3


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
