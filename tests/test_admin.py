"""The Django admin is for platform staff with a verified second factor (OTPAdminSite)."""

from __future__ import annotations

import time
from base64 import b32encode

import pyotp
import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts import two_factor
from accounts.models import Organization, User
from logicnet.audit.models import AuditEvent
from tests.factories import make_user


def _code(device, *, steps: int = 0) -> str:
    return pyotp.TOTP(b32encode(device.bin_key).decode()).at(int(time.time()) + steps * device.step)


@pytest.fixture
def platform_admin(platform_db):
    """Staff and superuser: flags only the platform role may set (the web role has no UPDATE
    on those columns), so they are set through its own connection, as an operator would."""
    user = make_user("root@logicnet.example", "Platform Admin")
    User.objects.using("platform").filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return user


def _enable(user):
    device = two_factor.start_totp_enrolment(user=user)
    return two_factor.confirm_totp_device(user=user, token=_code(device)).device


def test_admin_refuses_a_superuser_without_a_second_factor(client, platform_admin):
    client.force_login(platform_admin)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_holds_a_superuser_until_verified_then_allows(client, platform_admin):
    device = _enable(platform_admin)
    client.force_login(platform_admin)
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("two_factor_verify"))
    response = client.post(
        reverse("two_factor_verify"), {"code": _code(device, steps=1), "next": reverse("admin:index")}
    )
    assert response["Location"] == reverse("admin:index")
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert b"platform administration" in page.content


def _verified_admin(client, platform_admin) -> None:
    device = _enable(platform_admin)
    client.force_login(platform_admin)
    client.post(reverse("two_factor_verify"), {"code": _code(device, steps=1)})


def _bypass_events() -> list[AuditEvent]:
    with scopes_disabled():
        return list(AuditEvent.objects.using("platform").filter(action="platform.bypass").order_by("pk"))


def _posted_values(form, data: dict) -> None:
    """What a browser would post back for an unchanged admin form."""
    for name, field in form.fields.items():
        key, value = form.add_prefix(name), form[name].value()
        if hasattr(field.widget, "decompress"):  # the admin's split date and time
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{key}_{index}"] = "" if part is None else str(part)
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        else:
            data[key] = "" if value is None else value


def test_admin_pages_are_read_unaudited_and_each_change_is_audited_once(client, platform_admin, org_b):
    _verified_admin(client, platform_admin)
    change_url = reverse("admin:accounts_organization_change", args=[org_b.pk])
    before = len(_bypass_events())
    assert client.get(reverse("admin:accounts_organization_changelist")).status_code == 200
    page = client.get(change_url)
    assert page.status_code == 200
    assert len(_bypass_events()) == before  # reading writes no event (one per GET buried the changes)

    data: dict = {}
    _posted_values(page.context["adminform"].form, data)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        _posted_values(formset.management_form, data)
        for form in formset.forms:
            _posted_values(form, data)
    data["require_two_factor"] = "on"
    response = client.post(change_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    with scopes_disabled():
        assert Organization.objects.using("platform").get(pk=org_b.pk).require_two_factor is True
    (event,) = _bypass_events()[before:]
    assert event.actor_id == platform_admin.pk
    assert event.details == {"reason": f"admin POST {change_url}"}


def test_the_customer_web_process_serves_no_admin(client, platform_admin, settings):
    """Without the platform alias (LOGICNET_PROCESS=web) every admin URL is a 404, even for a
    verified administrator: the admin is served by its own process."""
    _verified_admin(client, platform_admin)
    assert client.get(reverse("admin:index")).status_code == 200
    settings.PLATFORM_DATABASE = None
    assert client.get(reverse("admin:index")).status_code == 404
    assert client.get(reverse("admin:accounts_organization_changelist")).status_code == 404
    assert Client().get(reverse("admin:login")).status_code == 404


def test_admin_refuses_verified_users_who_are_not_staff(client, alice):
    device = _enable(alice)
    client.force_login(alice)
    client.post(reverse("two_factor_verify"), {"code": _code(device, steps=1)})
    assert client.get(reverse("two_factor_setup")).status_code == 200  # verified: not held
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_sends_anonymous_visitors_to_its_sign_in(db):
    response = Client().get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_platform_administrator_is_created_on_the_platform_alias_only(platform_db, monkeypatch):
    """The web role cannot create platform staff (a row policy); the operator's command can,
    through the platform role: `manage.py createsuperuser --database platform`."""
    from django.core.management import call_command
    from django.db import ProgrammingError

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-operator-password-2026")
    arguments = {"interactive": False, "full_name": "Operator", "verbosity": 0}
    with pytest.raises(ProgrammingError, match="row-level security"):
        call_command("createsuperuser", email="root-default@logicnet.example", **arguments)
    call_command("createsuperuser", email="root@logicnet.example", database="platform", **arguments)
    created = User.objects.get(email="root@logicnet.example")
    assert (created.is_staff, created.is_superuser) == (True, True)
