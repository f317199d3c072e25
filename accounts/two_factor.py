"""Two-factor authentication with django-otp: an authenticator app (TOTP) and ten static
backup codes for when the phone is lost.

The devices are our own django-otp devices (accounts/two_factor_models.py): the TOTP seed is
sealed with the platform key and backup codes are stored hashed, so neither can be read
from the database, a dump or a backup.

Every service acts for its user (user_context): the devices are visible to the web role only
for the acting user (logicnet/tenancy/rls.py). Every state change here writes an audit row. The account is the user's own (Logicnet is
the controller), so the rows go to the platform chain, not to an organization's.
"""

from __future__ import annotations

import functools
import math
import os
from base64 import b32encode
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import device_classes
from django_otp.models import Device

from accounts.models import Organization, User
from accounts.two_factor_models import AuthenticatorDevice, BackupCode, BackupCodeDevice
from logicnet.audit.services import record_event
from logicnet.tenancy.context import user_context

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
_HAS_TWO_FACTOR_CACHE = "_logicnet_has_two_factor"


@dataclass(frozen=True)
class Enrolment:
    device: AuthenticatorDevice
    backup_codes: list[str]


@dataclass(frozen=True)
class Verification:
    device: Device
    used_backup_code: bool
    backup_codes_left: int | None


# --- Reads -----------------------------------------------------------------------------------


def has_two_factor(user: User) -> bool:
    """True when the user has a confirmed device of any kind.

    Remembered on the user object for the rest of the request: the middleware and the
    navigation both ask on every page. Services below forget it when they change devices.
    """
    if not user.is_authenticated:
        return False
    if getattr(user, "otp_device", None) is not None:
        return True
    cached = getattr(user, _HAS_TWO_FACTOR_CACHE, None)
    if cached is None:
        cached = _has_confirmed_device(user)
        setattr(user, _HAS_TWO_FACTOR_CACHE, cached)
    return cached


def _has_confirmed_device(user: User) -> bool:
    """django-otp's user_has_device(user, confirmed=True) in one query: it asks each device
    model in turn, four queries on every page for a user without two-factor. The statement is
    built once per process (building it through the ORM cost about 5 ms a page)."""
    with connections[router.db_for_read(User)].cursor() as cursor:
        cursor.execute(_confirmed_device_sql(), {"user": user.pk})
        return bool(cursor.fetchone()[0])


@functools.cache
def _confirmed_device_sql() -> str:
    tables = sorted(model._meta.db_table for model in device_classes())
    return "SELECT " + " OR ".join(
        f'EXISTS (SELECT 1 FROM "{table}" WHERE user_id = %(user)s AND confirmed)' for table in tables
    )


def two_factor_setup_required(*, user: User, organization: Organization) -> bool:
    return organization.require_two_factor and not has_two_factor(user)


def totp_secret_base32(device: AuthenticatorDevice) -> str:
    """The key as authenticator apps take it when typed, in groups of four for reading."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalize_code(value: str) -> str:
    """People type codes with spaces or dashes, and backup codes in either case."""
    return "".join(value.split()).replace("-", "").lower()


# --- Enrolment -------------------------------------------------------------------------------


def start_totp_enrolment(*, user: User, ip_address: str | None = None) -> AuthenticatorDevice:
    """The unconfirmed device whose key the setup page shows.

    Reused while it stays unconfirmed, so reloading the page does not invalidate a QR code
    the person has already scanned. The user row is locked so two tabs opening the setup
    page at once do not create two keys, only one of which could ever be confirmed.
    """
    with user_context(user):
        User.objects.select_for_update().filter(pk=user.pk).first()
        if AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError(_("Two-factor authentication is already on."), code="enabled")
        device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).order_by("-created_at", "-pk").first()
        if device is None:
            device = AuthenticatorDevice(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
            device.set_key()
            device.save()
            record_event(action="two_factor.enrolment_started", actor=user, target=device, ip_address=ip_address)
    return device


def confirm_totp_device(*, user: User, token: str, ip_address: str | None = None) -> Enrolment:
    """Turn two-factor on with the first code from the app, and issue the backup codes.

    1. lock the pending device (concurrent confirmations must not both pass);
    2. refuse while django-otp's throttle holds, else verify (a failure feeds the throttle);
    3. confirm the device and issue backup codes in the same transaction: 2FA is never on
       without a way back in.
    The errors are raised after the transaction, so the throttle count and the audit row of
    a failed attempt are committed, not rolled back with the exception.
    """
    token = normalize_code(token)
    with user_context(user):
        device = (
            AuthenticatorDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-created_at", "-pk")
            .first()
        )
        if device is None:
            raise ValidationError(_("The setup has expired. Scan the new QR code."), code="no_enrolment")
        allowed, throttle = device.verify_is_allowed()
        verified = allowed and device.verify_token(token)
        if verified:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            backup_codes = _replace_backup_codes(user)
            record_event(
                action="two_factor.enabled",
                actor=user,
                target=device,
                ip_address=ip_address,
                details={"backup_codes": len(backup_codes)},
            )
        else:
            record_event(
                action="two_factor.failed",
                actor=user,
                target=device,
                ip_address=ip_address,
                details={"stage": "enrolment", "throttled": not allowed},
            )
    _forget(user)
    if not allowed:
        raise _throttled_error(throttle)
    if not verified:
        raise ValidationError(
            _("That code is not right. Check the time on your phone and enter the current code."), code="invalid"
        )
    return Enrolment(device=device, backup_codes=backup_codes)


def regenerate_backup_codes(*, user: User, ip_address: str | None = None) -> list[str]:
    """Replace every backup code; the old ones stop working at once."""
    with user_context(user):
        if not AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError(_("Turn on two-factor authentication first."), code="not_enabled")
        codes = _replace_backup_codes(user)
        record_event(
            action="two_factor.backup_codes_regenerated",
            actor=user,
            ip_address=ip_address,
            details={"backup_codes": len(codes)},
        )
    return codes


def _replace_backup_codes(user: User) -> list[str]:
    """New codes, of which only salted hashes are stored: the plain codes exist only in
    the return value (shown once to the person)."""
    device = BackupCodeDevice.objects.filter(user=user, name=BACKUP_DEVICE_NAME).first()
    if device is None:
        device = BackupCodeDevice(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    device.new_salt()  # a fresh salt per set of codes
    device.save()
    device.codes.all().delete()
    codes: set[str] = set()
    while len(codes) < BACKUP_CODE_COUNT:
        code = b32encode(os.urandom(5)).decode().lower()  # 8 characters, 40 random bits
        # A code made only of digits would be taken for an app code at sign-in
        # (see verify_two_factor), so every backup code carries a letter.
        if not code.isdigit():
            codes.add(code)
    BackupCode.objects.bulk_create(BackupCode(device=device, code_hash=device.hash_code(code)) for code in codes)
    return sorted(codes)


# --- Sign-in ---------------------------------------------------------------------------------


def verify_two_factor(*, user: User, token: str, ip_address: str | None = None) -> Verification:
    """Check the second factor at sign-in: an app code (digits) or a backup code.

    The shape of the code picks the device kind, so a backup code never counts as a
    failed app code against the app's throttle, nor the other way round. Devices are
    locked while verifying (django-otp's verify_token), so one code cannot be used twice
    by concurrent requests. Errors are raised after the transaction, for the reason given
    in confirm_totp_device.
    """
    token = normalize_code(token)
    used_backup_code = not token.isdigit()
    model = BackupCodeDevice if used_backup_code else AuthenticatorDevice
    verified: Device | None = None
    throttles: list[dict] = []
    with user_context(user):
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            allowed, throttle = device.verify_is_allowed()
            if not allowed:
                throttles.append(throttle or {})
                continue
            if device.verify_token(token):
                verified = device
                break
        backup_codes_left = _backup_codes_left(user) if used_backup_code and verified else None
        details = {"stage": "sign_in", "method": "backup_code" if used_backup_code else "app"}
        if verified is None:
            details["throttled"] = bool(throttles)
        record_event(
            action="two_factor.verified" if verified else "two_factor.failed",
            actor=user,
            target=verified,
            ip_address=ip_address,
            details=details,
        )
    if verified is None:
        if throttles:
            raise _throttled_error(max(throttles, key=lambda t: t.get("locked_until") or timezone.now()))
        if used_backup_code:
            # A backup code is refused because it was mistyped or already used (each works
            # once): say so, not "the current code from your app".
            raise ValidationError(
                _(
                    "That backup code does not work: it is mistyped or it was already used. "
                    "Each backup code works once; enter another one of yours."
                ),
                code="invalid",
            )
        raise ValidationError(_("That code is not right. Try the current code from your app."), code="invalid")
    return Verification(device=verified, used_backup_code=used_backup_code, backup_codes_left=backup_codes_left)


def _backup_codes_left(user: User) -> int:
    return BackupCode.objects.filter(device__user=user, device__confirmed=True).count()


def _throttled_error(throttle: dict | None) -> ValidationError:
    locked_until = (throttle or {}).get("locked_until")
    seconds = max(1, math.ceil((locked_until - timezone.now()).total_seconds())) if locked_until else 1
    message = ngettext(
        "Too many wrong codes. Wait %(seconds)d second, then try again.",
        "Too many wrong codes. Wait %(seconds)d seconds, then try again.",
        seconds,
    ) % {"seconds": seconds}
    return ValidationError(message, code="throttled")


# --- Turning it off --------------------------------------------------------------------------


def disable_two_factor(*, user: User, password: str, ip_address: str | None = None) -> None:
    """Remove every device, after the person proves it is them again with their password:
    a session left open on a shared computer must not be enough to drop the second factor."""
    if not user.check_password(password):
        record_event(action="two_factor.disable_refused", actor=user, ip_address=ip_address)
        raise ValidationError(_("That is not your current password."), code="wrong_password")
    with user_context(user):
        for model in device_classes():
            model.objects.filter(user=user).delete()
        record_event(action="two_factor.disabled", actor=user, ip_address=ip_address)
    _forget(user)


def _forget(user: User) -> None:
    if hasattr(user, _HAS_TWO_FACTOR_CACHE):
        delattr(user, _HAS_TWO_FACTOR_CACHE)
