"""Throttling password sign-ins without handing attackers a lockout weapon.

A limit on failures per account alone (allauth's "5/5m/key") lets anyone who knows an
address keep its owner out by typing five wrong passwords every five minutes. So failures are
counted per *client* of an account, and a client is:

- a known device: a browser that completed a sign-in to that account before carries a signed
  cookie naming it (OWASP's "device cookies"); its failures are its own, so an attacker
  sharing the user's office network cannot lock the user's own browser out;
- otherwise the client address (read through the trusted proxies, IPv6 by /64).

Limits (ACCOUNT_RATE_LIMITS, allauth's syntax and Redis counters):

- ``login_failed_client``: failures per (account, client); past it, that client waits for the
  window to drain (a cool-down) even with the right password, which is what stops guessing.
  A completed sign-in from that client clears it: the second factor for a user who has one,
  else the sign-in itself, or the one-time code mailed by "send me a sign-in code" (which
  proves the mailbox, so it is the way back in for a user who is cooling down);
- ``login_failed_account``: failures per account from unknown clients, much higher. It caps
  a guessing campaign spread over many addresses at that many guesses per window; it never
  applies to a known device, and it drains by itself, so it slows attackers and cannot keep
  the owner out (their own browser, or the mailed code, always works);
- ``login_failed`` (allauth's own): per client address across all accounts, against
  credential stuffing from one address.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from allauth.core.internal import ratelimit  # as allauth's own adapter uses it: it gives usages back
from allauth.core.internal.ratelimit import RateLimitUsage
from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

from logicnet.client_ip import client_ip

APP = "allauth.account"  # the limits are read from ACCOUNT_RATE_LIMITS
CLIENT_ACTION = "login_failed_client"
ACCOUNT_ACTION = "login_failed_account"

KNOWN_DEVICE_COOKIE = "logicnet_device"
KNOWN_DEVICE_SALT = "accounts.known-device"
KNOWN_DEVICE_MAX_AGE = 180 * 24 * 3600
# A shared computer may be used by a few people; beyond that the oldest account is forgotten.
KNOWN_DEVICE_MAX_ACCOUNTS = 8
IPV6_PREFIX = 64  # one household or office gets a /64: rotating inside it is one client


@dataclass
class KnownDevice:
    device_id: str
    accounts: list[str] = field(default_factory=list)


@dataclass
class Attempt:
    """The counters one password attempt consumed: given back when the password is right,
    so only failures count."""

    usages: list[RateLimitUsage] = field(default_factory=list)

    def succeeded(self) -> None:
        for usage in self.usages:
            usage.rollback()


def normalize_login(login: str) -> str:
    return (login or "").strip().lower()


def _account_tag(login: str) -> str:
    # The cookie names accounts by a keyed digest, not the address: it is personal data and
    # the cookie is readable on the device.
    return salted_hmac(KNOWN_DEVICE_SALT, normalize_login(login)).hexdigest()[:32]


def read_known_device(request) -> KnownDevice | None:
    value = request.COOKIES.get(KNOWN_DEVICE_COOKIE)
    if not value:
        return None
    try:
        data = signing.loads(value, salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_MAX_AGE)
        return KnownDevice(device_id=str(data["d"]), accounts=[str(tag) for tag in data["a"]])
    except (signing.BadSignature, KeyError, TypeError):
        return None


def is_known_device(request, login: str) -> bool:
    device = read_known_device(request)
    return device is not None and _account_tag(login) in device.accounts


def _address_key(request) -> str:
    address = client_ip(request) or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False).network_address)
    return address


def client_key(request, login: str) -> str:
    login = normalize_login(login)
    device = read_known_device(request)
    if device is not None and _account_tag(login) in device.accounts:
        return f"{login}|device:{device.device_id}"
    return f"{login}|ip:{_address_key(request)}"


def start_attempt(request, *, login: str) -> Attempt | None:
    """Count a password attempt for this account from this client; None when the client is
    cooling down or the account's limit for unknown clients is reached (the caller refuses
    without checking the password)."""
    login = normalize_login(login)
    attempt = Attempt()
    usage = ratelimit.consume(request, app=APP, action=CLIENT_ACTION, key=client_key(request, login))
    if usage is None:
        return None
    attempt.usages.append(usage)
    if not is_known_device(request, login):
        usage = ratelimit.consume(request, app=APP, action=ACCOUNT_ACTION, key=login)
        if usage is None:
            attempt.succeeded()  # the refused attempt checked no password: it is no failure
            return None
        attempt.usages.append(usage)
    return attempt


def clear_cool_down(request, *, logins: list[str]) -> None:
    """Forget this client's failures for these logins (addresses of one account)."""
    device = read_known_device(request)
    for login in map(normalize_login, logins):
        keys = [f"{login}|ip:{_address_key(request)}"]
        if device is not None:
            keys.append(f"{login}|device:{device.device_id}")
        for key in keys:
            ratelimit.clear(request, app=APP, action=CLIENT_ACTION, key=key)


def account_logins(user) -> list[str]:
    addresses = set(EmailAddress.objects.filter(user=user).values_list("email", flat=True))
    addresses.add(user.email)
    return sorted(normalize_login(address) for address in addresses if address)


def complete_sign_in(request, response, *, user) -> None:
    """The user has fully signed in from this client (second factor included): clear its
    cool-down and remember the browser as a known device of the account."""
    logins = account_logins(user)
    clear_cool_down(request, logins=logins)
    device = read_known_device(request) or KnownDevice(device_id=secrets.token_urlsafe(16))
    tags = [tag for tag in device.accounts if tag not in {_account_tag(login) for login in logins}]
    tags = [*(_account_tag(login) for login in logins), *tags][:KNOWN_DEVICE_MAX_ACCOUNTS]
    value = signing.dumps({"d": device.device_id, "a": tags}, salt=KNOWN_DEVICE_SALT)
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        value,
        max_age=KNOWN_DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
