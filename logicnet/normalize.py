"""The one normal form of an email address and a phone number, for storing and for matching.

Every write path (forms, imports, the API, seeds) stores what these functions return, and
the blind indexes (logicnet/encryption/blind.py) are computed from the same forms: a number
normalised three ways (sign-up, contact form, index) would find a duplicate in one path and
miss it in another. Phones are stored in E.164 ("+40721234567"), read with the
organization's country as the region of a national number ("0721 234 567"); they are
shown in the international format (`format_phone`).
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from urllib.parse import quote

import phonenumbers
from django.core.validators import EmailValidator

DEFAULT_REGION = "RO"


class InvalidPhoneNumber(ValueError):
    """Not a phone number; `code` says why: "unparsable", "impossible" or "invalid"."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def region_of(country: str | None) -> str:
    return (country or DEFAULT_REGION).upper()


# Parsed numbers, by (value as written, region): parsing is the slowest step of storing and
# indexing a phone (about 50 µs), and an import reads each number several times (to store it,
# to index it, to check it against the suppression list). An E.164 result is also recorded as
# its own normal form, so reading back what was stored costs nothing. Bounded, and a pure
# function of its key, so sharing it across threads and organizations is harmless.
_E164_CACHE: dict[tuple[str, str], str] = {}
_E164_CACHE_SIZE = 200_000


def to_e164(value: str, country: str | None, *, require_valid: bool = False) -> str:
    """The number in E.164; a national number is read in `country` (the organization's).

    `require_valid` also asks that the number exists in the numbering plan (sign-up, where
    the number is the account holder's own); elsewhere a possible number is enough, since
    a contact's number may belong to a plan newer than the library's metadata."""
    value = (value or "").strip()
    if not value:
        return ""
    region = region_of(country)
    if not require_valid:
        found = _E164_CACHE.get((value, region))
        if found is not None:
            return found
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(f"cannot read {len(value)} characters as a phone number", "unparsable") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneNumber("the number has too few or too many digits", "impossible")
    if require_valid and not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("the number is not valid in its country's numbering plan", "invalid")
    result = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not require_valid:
        if len(_E164_CACHE) >= _E164_CACHE_SIZE:
            _E164_CACHE.clear()
        _E164_CACHE[(value, region)] = result
        _E164_CACHE[(result, region)] = result
    return result


def phone_match_form(value: str, country: str | None) -> str:
    """The form a blind index is computed from: E.164 when the value reads as a number,
    otherwise its digits (so an odd value still matches itself written the same way)."""
    try:
        return to_e164(value, country)
    except InvalidPhoneNumber:
        return "digits:" + "".join(ch for ch in value if ch.isdigit())


@functools.lru_cache(maxsize=65_536)
def format_phone(value: str) -> str:
    """A stored number as people read it: "+40 721 234 567" (anything else as it is).
    Cached: a list page formats the same few thousand numbers on every load."""
    if not value or not value.startswith("+"):
        return value or ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def tel_uri(value: str) -> str:
    """The `tel:` link of a stored number (RFC 3966): its digits and a leading "+" only, so
    a phone tapped on a phone dials it; "" when nothing dialable is left."""
    dialable = "".join(ch for ch in (value or "") if ch.isdigit() and ch.isascii())
    if not dialable:
        return ""
    return f"tel:+{dialable}" if value.lstrip().startswith("+") else f"tel:{dialable}"


def mailto_uri(value: str) -> str:
    """The `mailto:` link of an address (RFC 6068): percent-encoded but for the "@", so a
    "?" or "&" in a local part cannot add headers or a body to the message."""
    return f"mailto:{quote(value, safe='@')}" if value else ""


def clean_email(value: str) -> str:
    """An email address as stored: trimmed, NFC, its domain in lower case. The local part
    keeps its case (RFC 5321 lets a server tell cases apart); matching folds it anyway."""
    value = unicodedata.normalize("NFC", (value or "").strip())
    local, at, domain = value.rpartition("@")
    if not at:
        return value
    return f"{local}@{domain.strip().rstrip('.').lower()}"


def email_match_form(value: str) -> str:
    """The form a blind index is computed from: case-folded, the domain in IDNA (ASCII)."""
    value = unicodedata.normalize("NFC", value.strip())
    local, at, domain = value.rpartition("@")
    if not at:
        return value.casefold()
    return f"{local.casefold()}@{_domain_match_form(domain)}"


@functools.lru_cache(maxsize=65_536)
def _domain_match_form(domain: str) -> str:
    # Cached: Python's IDNA codec is slow and an import repeats the same few domains.
    domain = domain.strip().rstrip(".").casefold()
    # A name that is not valid IDNA keeps its folded form: it still matches itself.
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return domain


class _EagerEmailValidator(EmailValidator):
    """Django's email validator with its patterns compiled: the stock one keeps them behind
    lazy objects, and the proxy on every match cost more than the match itself when an
    import validates a million addresses. The same patterns, so the same answers."""

    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
    domain_regex = re.compile(EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags)
    literal_regex = re.compile(EmailValidator.literal_regex.pattern, EmailValidator.literal_regex.flags)


validate_email = _EagerEmailValidator()
