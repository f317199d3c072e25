"""Two-factor devices whose secrets the database does not hold in the clear.

django-otp's own TOTPDevice and StaticToken keep the TOTP seed and the backup codes in
plain text, readable by the web role and by anyone holding a dump or a backup: with the
seed, codes can be generated for ever; with a backup code, the second factor is passed.
These are django-otp devices (the middleware, the admin's OTPAdminSite and
`devices_for_user` find them as any other) that keep:

- the TOTP seed sealed with the platform key (AES-256-GCM, a key derived from the master
  key; account data has no organization), bound to the device's user;
- backup codes as PBKDF2-SHA256 hashes salted per device: a submitted code is hashed and
  looked up, so a code is never stored or compared in the clear.

Imported by accounts/models.py, so Django registers them with the accounts app.
"""

from __future__ import annotations

import hashlib
import os

from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from logicnet.encryption.fields import PlatformSealedField, open_platform_field, seal_platform_field

TOTP_KEY_BYTES = 20  # django-otp's default (160 bits, as RFC 4226 recommends)


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) with its seed sealed at rest."""

    sealed_key = PlatformSealedField(bound_to="user")
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "TOTP device"

    @property
    def bin_key(self) -> bytes:
        return open_platform_field(self, "sealed_key")

    def set_key(self, raw: bytes | None = None) -> None:
        """Seal a new random seed (or `raw`, when migrating an existing device)."""
        seal_platform_field(self, "sealed_key", raw if raw is not None else os.urandom(TOTP_KEY_BYTES))

    # django-otp's TOTP verification (drift, tolerance, replay protection through last_t,
    # throttling) and provisioning URL, unchanged: they read the seed through bin_key.
    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings


def normalize_backup_code(value: str) -> str:
    """People type codes with spaces or dashes, and in either case."""
    return "".join(str(value).split()).replace("-", "").lower()


def hash_backup_code(code: str, *, salt: str, iterations: int) -> str:
    return hashlib.pbkdf2_hmac("sha256", normalize_backup_code(code).encode(), bytes.fromhex(salt), iterations).hex()


BACKUP_CODE_FREE_FAILURES = 2


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """One-time backup codes, stored hashed. Verification keeps django-otp's throttling."""

    salt = models.CharField(max_length=32, editable=False)
    iterations = models.PositiveIntegerField(default=0, editable=False)

    class Meta(Device.Meta):
        verbose_name = "backup code device"

    def new_salt(self) -> None:
        self.salt = os.urandom(16).hex()
        self.iterations = settings.TWO_FACTOR_BACKUP_CODE_ITERATIONS

    def hash_code(self, code: str) -> str:
        return hash_backup_code(code, salt=self.salt, iterations=self.iterations)

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_is_allowed(self):
        """django-otp's throttle, from the third wrong code in a row: the first one or two are
        nearly always a code already used or mistyped, and the next right code, typed at
        once, must not meet a wait. Two free tries change nothing for a guesser against
        ten random codes of 40 bits each."""
        if (self.throttling_failure_count or 0) < BACKUP_CODE_FREE_FAILURES:
            return True, None
        return super().verify_is_allowed()

    def verify_token(self, token) -> bool:
        """django-otp's StaticDevice.verify_token, comparing hashes: a matching code is
        used up (deleted); a wrong one feeds the throttle."""
        verify_allowed, _ = self.verify_is_allowed()
        if not verify_allowed:
            return False
        match = self.codes.filter(code_hash=self.hash_code(token)).first()
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["device", "code_hash"], name="backup_code_lookup_idx")]

    def __str__(self) -> str:
        return f"backup code of {self.device}"
