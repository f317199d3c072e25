"""The Django admin is for platform staff with a verified second factor (OTPAdminSite)."""

from __future__ import annotations

import time
from base64 import b32encode

import pyotp
import pytest
from django.test import Client
from django.urls import reverse

from accounts import two_factor
from tests.factories import make_user


def _code(device, *, steps: int = 0) -> str:
    return pyotp.TOTP(b32encode(device.bin_key).decode()).at(int(time.time()) + steps * device.step)


@pytest.fixture
def platform_admin(db):
    user = make_user("root@logicnet.example", "Platform Admin")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
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
