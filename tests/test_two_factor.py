"""Two-factor authentication: enrolment, backup codes, the sign-in hold, throttling, turning
it off, and organizations that require it. Codes are computed with pyotp from the device's
key, as a phone would."""

from __future__ import annotations

import importlib
import re
import time
from base64 import b32encode, b64encode

import pyotp
import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from accounts import services, sign_in_throttle, two_factor
from accounts.two_factor_models import AuthenticatorDevice, BackupCode, BackupCodeDevice
from logicnet.audit.models import AuditEvent
from logicnet.encryption.exceptions import DecryptionError
from logicnet.health import record_worker_heartbeat
from logicnet.tenancy.context import user_context
from tests.factories import PASSWORD

VIEW_NAMES = ["two_factor_setup", "two_factor_backup_codes", "two_factor_verify", "two_factor_disable"]
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)")


def totp_code(device: AuthenticatorDevice, *, steps: int = 0) -> str:
    """The code the phone shows now, or `steps` periods later. A code is accepted once, so a
    second verification right after enrolment uses the next period's (within tolerance)."""
    return pyotp.TOTP(b32encode(device.bin_key).decode()).at(int(time.time()) + steps * device.step)


def wrong_code(device: AuthenticatorDevice) -> str:
    valid = {totp_code(device, steps=s) for s in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def enable(user) -> two_factor.Enrolment:
    device = two_factor.start_totp_enrolment(user=user)
    return two_factor.confirm_totp_device(user=user, token=totp_code(device))


def sign_in(client: Client, user) -> None:
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302


def verify(client: Client, device: AuthenticatorDevice, *, next_url: str = "") -> None:
    response = client.post(reverse("two_factor_verify"), {"code": totp_code(device, steps=1), "next": next_url})
    assert response.status_code == 302


def audit_actions(user) -> list[str]:
    # Account events have no organization: only the platform role can read them, on its own
    # connection (the tests that call this commit their data: platform_db).
    with scopes_disabled():
        events = AuditEvent.objects.using("platform").filter(
            organization=None, actor_id=user.pk, action__startswith="two_factor."
        )
        return list(events.order_by("pk").values_list("action", flat=True))


def assert_csp_clean(response) -> None:
    assert b"style=" not in response.content
    assert not INLINE_SCRIPT.search(response.content)


# --- Enrolment -------------------------------------------------------------------------------


def test_enrolment_with_the_right_code_turns_two_factor_on(platform_db, client, alice, org_a):
    client.force_login(alice)
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200
    # Devices are visible to the web role only for the acting user.
    with user_context(alice):
        device = AuthenticatorDevice.objects.get(user=alice, confirmed=False)
    assert b"<svg" in page.content
    assert two_factor.totp_secret_base32(device).encode() in page.content
    assert b'autocomplete="one-time-code"' in page.content
    assert b'inputmode="numeric"' in page.content
    assert b"autofocus" in page.content
    assert_csp_clean(page)
    # Reloading keeps the key the person may already have scanned.
    client.get(reverse("two_factor_setup"))
    with user_context(alice):
        assert AuthenticatorDevice.objects.filter(user=alice).count() == 1

    response = client.post(reverse("two_factor_setup"), {"code": totp_code(device)})
    assert response["Location"] == reverse("two_factor_backup_codes")
    with user_context(alice):
        device.refresh_from_db()
    assert device.confirmed

    codes_page = client.get(reverse("two_factor_backup_codes"))
    codes = codes_page.context["codes"]
    assert len(codes) == len(set(codes)) == two_factor.BACKUP_CODE_COUNT
    assert all(code.encode() in codes_page.content for code in codes)
    assert "no-store" in codes_page["Cache-Control"]
    assert_csp_clean(codes_page)
    # Shown once: the next visit offers new codes instead of showing these again.
    again = client.get(reverse("two_factor_backup_codes"))
    assert again.context["codes"] is None
    assert not any(code.encode() in again.content for code in codes)

    # The session that enrolled has proved the device, so it is not held.
    assert client.get(reverse("dashboard", args=[org_a.slug])).status_code == 200
    assert audit_actions(alice) == ["two_factor.enrolment_started", "two_factor.enabled"]


def test_enrolment_with_a_wrong_code_is_refused(platform_db, client, alice):
    client.force_login(alice)
    client.get(reverse("two_factor_setup"))
    with user_context(alice):
        device = AuthenticatorDevice.objects.get(user=alice)
    response = client.post(reverse("two_factor_setup"), {"code": wrong_code(device)})
    assert response.status_code == 200
    assert b"That code is not right" in response.content
    with user_context(alice):
        device.refresh_from_db()
        assert not device.confirmed
        assert not BackupCodeDevice.objects.filter(user=alice).exists()
        assert not two_factor.has_two_factor(alice)
    assert "two_factor.failed" in audit_actions(alice)
    # Not a code at all: the form says so and the device's throttle is untouched.
    response = client.post(reverse("two_factor_setup"), {"code": "12ab"})
    assert b"Enter the 6 digits" in response.content


def test_setup_page_of_an_enabled_account_offers_codes_and_turning_off(client, alice):
    enrolment = enable(alice)
    client.force_login(alice)
    verify(client, enrolment.device)
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200
    assert reverse("two_factor_disable").encode() in page.content
    with user_context(alice):
        assert AuthenticatorDevice.objects.filter(user=alice).count() == 1


@pytest.mark.parametrize("name", VIEW_NAMES)
def test_two_factor_pages_send_anonymous_visitors_to_sign_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_navigation_offers_setup_then_turning_off(client, alice, org_a):
    client.force_login(alice)
    dashboard = reverse("dashboard", args=[org_a.slug])
    assert reverse("two_factor_setup").encode() in client.get(dashboard).content
    enrolment = enable(alice)
    verify(client, enrolment.device)
    page = client.get(dashboard)
    assert reverse("two_factor_disable").encode() in page.content
    assert f'href="{reverse("two_factor_setup")}"'.encode() not in page.content


# --- Sign-in ---------------------------------------------------------------------------------


def test_password_sign_in_is_held_until_the_second_factor(platform_db, client, alice, org_a, settings):
    # A wrong code then the right one within a second: django-otp's throttle (which has its
    # own test below) would hold the second; a person retyping is slower than this test.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    record_worker_heartbeat()  # so the health probe answers 200 rather than logging a 503
    device = enable(alice).device
    dashboard = reverse("dashboard", args=[org_a.slug])
    sign_in(client, alice)

    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))
    response = client.get(dashboard)
    assert response["Location"] == f"{reverse('two_factor_verify')}?next=%2Fo%2F{org_a.slug}%2F"
    assert client.get(reverse("sessions")).status_code == 302
    assert client.get(reverse("two_factor_disable"))["Location"].startswith(reverse("two_factor_verify"))
    # Signing out and the health probe stay reachable.
    assert client.get(reverse("account_logout")).status_code == 200
    assert client.get(reverse("healthz")).status_code == 200

    page = client.get(reverse("two_factor_verify"), {"next": dashboard})
    assert page.status_code == 200
    assert b'autocomplete="one-time-code"' in page.content
    assert b'inputmode="numeric"' in page.content
    assert_csp_clean(page)
    response = client.post(reverse("two_factor_verify"), {"code": wrong_code(device), "next": dashboard})
    assert response.status_code == 200
    assert b"That code is not right" in response.content
    assert client.get(dashboard).status_code == 302

    response = client.post(reverse("two_factor_verify"), {"code": totp_code(device, steps=1), "next": dashboard})
    assert response["Location"] == dashboard
    assert client.get(dashboard).status_code == 200
    assert audit_actions(alice)[-2:] == ["two_factor.failed", "two_factor.verified"]


def test_only_a_completed_second_factor_ends_a_sign_in_cool_down(alice, settings):
    """Five wrong passwords from one address make that address wait, even with the right
    password. The code mailed by "send me a sign-in code" lets the owner in, but with a
    second factor the sign-in is complete, and the cool-down over, only once it is given."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = enable(alice).device
    address = "203.0.113.5"
    client = Client(REMOTE_ADDR=address)
    for _ in range(5):
        client.post(reverse("account_login"), {"login": alice.email, "password": "wrong-password"})
    refused = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert b"Too many failed" in refused.content
    mail.outbox.clear()
    client.post(reverse("account_request_login_code"), {"email": alice.email})
    code = re.search(r"^\s*([A-Z0-9]{4,}(?:-[A-Z0-9]+)*)\s*$", mail.outbox[-1].body, re.MULTILINE).group(1)
    assert client.post(reverse("account_confirm_login_code"), {"code": code}).status_code == 302
    # The mailed code is one factor: the session is held for the second, and nothing is cleared.
    assert client.get(reverse("home"))["Location"].startswith(reverse("two_factor_verify"))
    assert sign_in_throttle.KNOWN_DEVICE_COOKIE not in client.cookies
    again = Client(REMOTE_ADDR=address)
    assert (
        b"Too many failed" in again.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD}).content
    )
    verify(client, device)
    assert sign_in_throttle.KNOWN_DEVICE_COOKIE in client.cookies
    sign_in(Client(REMOTE_ADDR=address), alice)


def test_enabling_two_factor_holds_the_other_signed_in_sessions(alice, org_a):
    laptop, stolen = Client(), Client()
    sign_in(laptop, alice)
    sign_in(stolen, alice)
    laptop.get(reverse("two_factor_setup"))
    with user_context(alice):
        device = AuthenticatorDevice.objects.get(user=alice)
    laptop.post(reverse("two_factor_setup"), {"code": totp_code(device)})
    assert laptop.get(reverse("dashboard", args=[org_a.slug])).status_code == 200
    assert stolen.get(reverse("dashboard", args=[org_a.slug]))["Location"].startswith(reverse("two_factor_verify"))


def test_verify_never_redirects_off_site(client, alice):
    device = enable(alice).device
    sign_in(client, alice)
    response = client.post(
        reverse("two_factor_verify"), {"code": totp_code(device, steps=1), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_verify_page_lets_a_user_without_two_factor_through(client, alice):
    client.force_login(alice)
    assert client.get(reverse("two_factor_verify"))["Location"] == reverse("home")


def test_backup_codes_work_once(alice, org_a):
    codes = enable(alice).backup_codes
    dashboard = reverse("dashboard", args=[org_a.slug])
    first = Client()
    sign_in(first, alice)
    page = first.get(reverse("two_factor_verify"), {"backup": "1"})
    assert b'autocomplete="off"' in page.content
    # Typed with spaces and in capitals, as people copy them from paper.
    typed = f"{codes[0][:4].upper()} {codes[0][4:].upper()}"
    response = first.post(reverse("two_factor_verify") + "?backup=1", {"code": typed, "next": dashboard})
    assert response["Location"] == dashboard
    assert first.get(dashboard).status_code == 200
    with user_context(alice):
        assert BackupCode.objects.filter(device__user=alice).count() == two_factor.BACKUP_CODE_COUNT - 1

    second = Client()
    sign_in(second, alice)
    response = second.post(reverse("two_factor_verify"), {"code": codes[0], "next": dashboard})
    assert response.status_code == 200
    # Refused as a backup code, with what went wrong, not as an app code.
    assert b"That backup code does not work: it is mistyped or it was already used." in response.content
    assert b"from your app" not in response.content
    assert second.get(dashboard).status_code == 302
    with user_context(alice):
        device = BackupCodeDevice.objects.get(user=alice)
        assert BackupCode.objects.filter(device=device, code_hash=device.hash_code(codes[1])).exists()
    # The next right code, typed at once, signs in: a used code costs no wait.
    response = second.post(reverse("two_factor_verify"), {"code": codes[1], "next": dashboard})
    assert response["Location"] == dashboard


def test_regenerated_backup_codes_replace_the_old_ones(platform_db, client, alice):
    enrolment = enable(alice)
    client.force_login(alice)
    verify(client, enrolment.device)
    response = client.post(reverse("two_factor_backup_codes"))
    assert response["Location"] == reverse("two_factor_backup_codes")
    new_codes = client.get(reverse("two_factor_backup_codes")).context["codes"]
    assert set(new_codes).isdisjoint(enrolment.backup_codes)
    with user_context(alice):
        device = BackupCodeDevice.objects.get(user=alice)
        assert set(BackupCode.objects.filter(device=device).values_list("code_hash", flat=True)) == {
            device.hash_code(code) for code in new_codes
        }
    assert "two_factor.backup_codes_regenerated" in audit_actions(alice)


def test_repeated_wrong_codes_are_throttled_with_a_clear_message(platform_db, client, alice, settings):
    # django-otp waits factor * 2**(failures - 1) seconds after each failure. The project's
    # factor of 1 would open the window again within a second; a larger factor keeps this
    # test independent of how fast the machine runs it.
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    enrolment = enable(alice)
    device = enrolment.device
    sign_in(client, alice)
    first = client.post(reverse("two_factor_verify"), {"code": wrong_code(device)})
    assert first.status_code == 200
    throttled = client.post(reverse("two_factor_verify"), {"code": wrong_code(device)})
    assert throttled.status_code == 429
    assert b"Too many wrong codes. Wait" in throttled.content
    assert throttled.context["form"].errors["code"]
    # While the throttle holds, even the right code is refused, with the same message.
    right = client.post(reverse("two_factor_verify"), {"code": totp_code(device, steps=1)})
    assert right.status_code == 429
    assert b"Too many wrong codes" in right.content
    assert client.get(reverse("home"))["Location"].startswith(reverse("two_factor_verify"))
    # A backup code has its own throttle, so the owner is never locked out by a guesser.
    response = client.post(reverse("two_factor_verify"), {"code": enrolment.backup_codes[0]})
    assert response["Location"] == reverse("home")
    assert audit_actions(alice).count("two_factor.failed") == 3


# --- Turning it off --------------------------------------------------------------------------


def test_turning_off_requires_the_current_password(platform_db, client, alice):
    enrolment = enable(alice)
    client.force_login(alice)
    verify(client, enrolment.device)
    page = client.get(reverse("two_factor_disable"))
    assert page.status_code == 200
    assert b'autocomplete="current-password"' in page.content
    assert_csp_clean(page)

    response = client.post(reverse("two_factor_disable"), {"password": "not-my-password"})
    assert response.status_code == 200
    assert b"That is not your current password" in response.content
    with user_context(alice):
        assert AuthenticatorDevice.objects.filter(user=alice, confirmed=True).exists()

    response = client.post(reverse("two_factor_disable"), {"password": PASSWORD})
    assert response["Location"] == reverse("home")
    with user_context(alice):
        assert not AuthenticatorDevice.objects.filter(user=alice).exists()
        assert not BackupCodeDevice.objects.filter(user=alice).exists()
        assert not two_factor.has_two_factor(alice)
    assert audit_actions(alice)[-2:] == ["two_factor.disable_refused", "two_factor.disabled"]
    # A fresh sign-in is no longer held.
    other = Client()
    sign_in(other, alice)
    assert other.get(reverse("sessions")).status_code == 200


def test_turning_off_acts_only_on_the_signed_in_account(client, alice, charlie):
    enable(alice)
    client.force_login(charlie)
    # Every test user shares the same password: charlie's own is the right one here.
    assert client.get(reverse("two_factor_disable"))["Location"] == reverse("two_factor_setup")
    assert client.post(reverse("two_factor_disable"), {"password": PASSWORD})["Location"] == reverse("two_factor_setup")
    assert client.post(reverse("two_factor_backup_codes"))["Location"] == reverse("two_factor_setup")
    with user_context(alice):
        assert AuthenticatorDevice.objects.filter(user=alice, confirmed=True).exists()
        assert BackupCode.objects.filter(device__user=alice).count() == two_factor.BACKUP_CODE_COUNT


def test_password_guesses_on_the_turn_off_form_are_rate_limited(client, alice):
    enrolment = enable(alice)
    client.force_login(alice)
    verify(client, enrolment.device)
    responses = [client.post(reverse("two_factor_disable"), {"password": f"guess-{i}"}) for i in range(11)]
    assert responses[-1].status_code == 429
    assert b"Too many attempts" in responses[-1].content
    with user_context(alice):
        assert AuthenticatorDevice.objects.filter(user=alice, confirmed=True).exists()


# --- Organizations that require it -----------------------------------------------------------


def test_organization_requiring_two_factor_sends_members_without_a_device_to_setup(
    client, alice, bob, charlie, org_a, org_b
):
    services.update_organization(
        organization=org_a, actor=alice, name=org_a.name, country=org_a.country, require_two_factor=True
    )
    dashboard = reverse("dashboard", args=[org_a.slug])

    client.force_login(bob)
    response = client.get(dashboard)
    assert response["Location"] == f"{reverse('two_factor_setup')}?next=%2Fo%2F{org_a.slug}%2F"
    page = client.get(response["Location"])
    assert b"Alpha SRL requires two-factor authentication" in page.content
    with user_context(bob):
        device = AuthenticatorDevice.objects.get(user=bob)
    client.post(reverse("two_factor_setup"), {"code": totp_code(device), "next": dashboard})
    assert client.get(reverse("two_factor_backup_codes")).context["next"] == dashboard
    assert client.get(dashboard).status_code == 200

    # An outsider learns nothing about the organization, not even its 2FA rule.
    outsider = Client()
    outsider.force_login(charlie)
    assert outsider.get(dashboard).status_code == 404
    assert outsider.get(reverse("dashboard", args=[org_b.slug])).status_code == 200
    assert Client().get(dashboard)["Location"].startswith(reverse("account_login"))


def test_organization_without_the_requirement_lets_members_in(client, bob, org_a):
    client.force_login(bob)
    assert client.get(reverse("dashboard", args=[org_a.slug])).status_code == 200


# --- Secrets at rest ---------------------------------------------------------------------------


def raw_rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_totp_seed_is_stored_sealed_and_bound_to_its_user(alice, charlie):
    device = enable(alice).device
    with user_context(alice):
        ((stored,),) = raw_rows("SELECT sealed_key FROM accounts_authenticatordevice WHERE id = %s", [device.pk])
    seed = device.bin_key
    assert len(seed) == 20
    assert stored.startswith("p1.")
    for shown in (seed.hex(), b32encode(seed).decode().rstrip("="), b64encode(seed).decode()):
        assert shown.lower() not in stored.lower()
    # The same seed sealed again gives another ciphertext (random nonce).
    copy = AuthenticatorDevice(user=alice, name="copy")
    copy.set_key(seed)
    assert copy.sealed_key != stored and copy.bin_key == seed
    # Copied into another user's device row, the sealed seed does not open.
    with user_context(charlie):
        stolen = AuthenticatorDevice.objects.create(user=charlie, name="stolen", sealed_key=stored)
    with pytest.raises(DecryptionError, match="another row"):
        stolen.bin_key  # noqa: B018


def test_backup_codes_are_stored_only_as_salted_hashes(alice, bob):
    codes = enable(alice).backup_codes
    codes_bob = enable(bob).backup_codes
    with user_context(bob):
        device_bob = BackupCodeDevice.objects.get(user=bob)
    with user_context(alice):
        stored = raw_rows(
            "SELECT c.code_hash, d.salt FROM accounts_backupcode c"
            " JOIN accounts_backupcodedevice d ON d.id = c.device_id WHERE d.user_id = %s",
            [alice.pk],
        )
        assert len(stored) == two_factor.BACKUP_CODE_COUNT
        assert all(len(code_hash) == 64 for code_hash, _salt in stored)
        assert not {code for code in codes if any(code in code_hash for code_hash, _salt in stored)}
        # Salted per device: the same code would hash differently for another person.
        device = BackupCodeDevice.objects.get(user=alice)
        assert device.salt != device_bob.salt
        assert device.hash_code(codes[0]) != device_bob.hash_code(codes[0])
        assert device.verify_token(codes[0].upper()) and not device.verify_token(codes[0])
        assert not device.verify_token(codes_bob[0])


def test_existing_django_otp_devices_are_moved_into_sealed_ones(alice):
    """The data migration: plain seeds and codes from django-otp's tables become a sealed
    seed and hashed codes; the old rows are gone; sign-in with either still works."""
    migration = importlib.import_module("accounts.migrations.0003_two_factor_sealed_devices")
    # The migration runs as the owner over every user; as the web role it sees alice's rows
    # only while acting for her.
    with user_context(alice):
        _move_devices_of(alice, migration)


def _move_devices_of(alice, migration) -> None:
    from django.apps import apps
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    old_totp = TOTPDevice.objects.create(user=alice, name="Authenticator app", confirmed=True, last_t=7, drift=1)
    old_static = StaticDevice.objects.create(user=alice, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=old_static, token="abcd2345")
    StaticToken.objects.create(device=old_static, token="wxyz6789")

    migration.move_devices(apps, None)

    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists() and not StaticToken.objects.exists()
    moved = AuthenticatorDevice.objects.get(user=alice)
    assert moved.bin_key == old_totp.bin_key
    assert (moved.name, moved.confirmed, moved.last_t, moved.drift) == ("Authenticator app", True, 7, 1)
    assert moved.created_at == old_totp.created_at
    assert old_totp.key not in raw_rows("SELECT sealed_key FROM accounts_authenticatordevice", [])[0][0]
    assert BackupCode.objects.filter(device__user=alice).count() == 2
    assert "abcd2345" not in {h for (h,) in raw_rows("SELECT code_hash FROM accounts_backupcode", [])}
    verification = two_factor.verify_two_factor(user=alice, token="ABCD-2345")
    assert verification.used_backup_code and verification.backup_codes_left == 1
    assert two_factor.verify_two_factor(user=alice, token=totp_code(moved, steps=1)).device == moved


def test_backup_codes_can_be_downloaded_as_text_and_copied(platform_db, client, alice):
    from urllib.parse import unquote

    enrolment = enable(alice)
    client.force_login(alice)
    verify(client, enrolment.device)
    client.post(reverse("two_factor_backup_codes"))
    page = client.get(reverse("two_factor_backup_codes"))
    codes = page.context["codes"]
    content = page.content.decode()
    link = re.search(r'href="data:text/plain;charset=utf-8,([^"]+)" download="logicnet-backup-codes.txt"', content)
    assert link, "no download link"
    text = unquote(link.group(1))
    assert text.splitlines()[0] == f"Logicnet CRM backup codes for {alice.email}"
    assert text.splitlines()[-len(codes) :] == codes
    # The copy button holds the same text, hidden until the script finds a clipboard.
    assert re.search(r"<button type=\"button\" class=\"secondary\" hidden data-copy-text=\"[^\"]*" + codes[0], content)
    assert_csp_clean(page)
    # Shown once: the next visit has neither the list nor the file.
    again = client.get(reverse("two_factor_backup_codes")).content.decode()
    assert "data:text/plain" not in again and codes[0] not in again


def test_the_code_page_does_not_say_signed_in_before_the_code(client, alice):
    enable(alice)
    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(reverse("two_factor_verify"))
    assert "Successfully signed in" not in page
    assert "Finish signing in" in page and "You are not signed in until the code is accepted." in page


def test_without_two_factor_the_sign_in_message_stays(client, alice):
    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD}, follow=True)
    assert "Successfully signed in" in response.content.decode()
