"""Searching encrypted values: blind indexes (exact lookups) and prefix tokens (search as you type).

Both are keyed HMAC-SHA256 with keys derived (HKDF, one purpose label each) from the
organization's data key, so equal values in two organizations give unrelated digests and
nothing links a person across tenants. What a database dump reveals is written down in
README.md ("What the search columns reveal").
"""

from __future__ import annotations

import contextlib
import hmac
import re
import unicodedata

import phonenumbers

from logicnet.encryption.keys import OrganizationKeys

EMAIL_PURPOSE = "blind-index:email"
PHONE_PURPOSE = "blind-index:phone"
NAME_PURPOSE = "prefix-token:name"

BLIND_INDEX_BYTES = 16  # 128 bits: unique enough for a database constraint at any tenant size
MIN_PREFIX = 2  # one letter would match most of a tenant and make its posting list huge
MAX_PREFIX = 12  # longer query words are cut to this; the digest space stays small per name

_WORD = re.compile(r"[^\W_]+")
# Letters that do not decompose into a base letter and a mark under NFKD.
_FOLD = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "\u0131": "i", "ð": "d", "þ": "th"})


# --- normalization -------------------------------------------------------------------------


def normalize_email(value: str) -> str:
    """Trimmed and case-folded; an internationalized domain in its ASCII (IDNA) form."""
    value = unicodedata.normalize("NFC", value.strip())
    local, at, domain = value.rpartition("@")
    if not at:
        return value.casefold()
    domain = domain.strip().rstrip(".").casefold()
    # A name that is not valid IDNA keeps its folded form: it still matches itself.
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local.casefold()}@{domain}"


def normalize_phone(value: str, country: str) -> str:
    """E.164 (+40721234567) when the number parses for the organization's country; digits
    otherwise, so an odd number still matches itself written the same way."""
    value = value.strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, (country or "RO").upper())
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return "digits:" + "".join(ch for ch in value if ch.isdigit())


def fold_text(value: str) -> str:
    """Case- and diacritics-insensitive form: 'Ștefan' and 'ŞTEFAN' both become 'stefan'."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_FOLD)


def words(value: str) -> list[str]:
    return _WORD.findall(fold_text(value))


# --- keyed digests -------------------------------------------------------------------------


def _digest(key: bytes, message: str) -> bytes:
    return hmac.digest(key, message.encode(), "sha256")


def blind_index(keys: OrganizationKeys, version: int, purpose: str, normalized: str) -> str:
    if not normalized:
        return ""
    return _digest(keys.derived_key(version, purpose), normalized)[:BLIND_INDEX_BYTES].hex()


def email_index(keys: OrganizationKeys, version: int, value: str) -> str:
    return blind_index(keys, version, EMAIL_PURPOSE, normalize_email(value)) if value else ""


def phone_index(keys: OrganizationKeys, version: int, value: str) -> str:
    return blind_index(keys, version, PHONE_PURPOSE, normalize_phone(value, keys.country)) if value else ""


def _token(key: bytes, prefix: str) -> int:
    return int.from_bytes(_digest(key, prefix)[:8], "big", signed=True)


def prefix_tokens(keys: OrganizationKeys, version: int, texts: list[str]) -> list[int]:
    """Every prefix (MIN_PREFIX..MAX_PREFIX letters) of every word, as 64-bit keyed tokens."""
    key = keys.derived_key(version, NAME_PURPOSE)
    tokens: set[int] = set()
    for text in texts:
        for word in words(text or ""):
            for end in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1):
                tokens.add(_token(key, word[:end]))
    return sorted(tokens)


def query_tokens(keys: OrganizationKeys, version: int, query: str) -> list[int]:
    """One token per query word (cut to MAX_PREFIX letters); all must match. Words shorter
    than MIN_PREFIX are left out (no token exists for them); an empty list means no search."""
    key = keys.derived_key(version, NAME_PURPOSE)
    return sorted({_token(key, word[:MAX_PREFIX]) for word in words(query) if len(word) >= MIN_PREFIX})
