"""Searching encrypted values: blind indexes (exact lookups) and prefix tokens (search as you type).

Both are keyed HMAC-SHA256 with keys derived (HKDF, one purpose label each) from the
organization's data key, so equal values in two organizations give unrelated digests and
nothing links a person across tenants. What a database dump reveals is written down in
README.md ("What the search columns reveal").

Exact indexes (email, phone) are long (128 bits): a database constraint deduplicates on
them, and a lookup of a whole address reveals no more than the address's own equality.

Prefix tokens are deliberately lossy, following the blind-index literature (CipherSweet's
planning guidance: truncate each index so that every value has many false positives, cap
how many indexes a value has, and filter candidates after decryption):
- each token keeps TOKEN_BITS bits, so one token stands for many prefixes of an
  organization's names (a dump cannot tell "pope" from the other prefixes in its bucket),
  and the rows sharing a token are no longer the rows sharing a prefix;
- only PREFIX_LENGTHS are tokenised (4 per word instead of every length up to 12), so a row
  no longer carries the whole chain "po", "pop", "pope", "popes"... from which comparing
  rows rebuilt each organization's prefix tree;
- each model's token column has its own key (a company's tokens and a contact's tokens of
  the same name differ), so the two tables cannot be joined on tokens.
The search ANDs the tokens of every query word, then decrypts the candidates and keeps the
real matches (contacts/selectors.py).
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from typing import Any

from logicnet import normalize
from logicnet.encryption.keys import OrganizationKeys

EMAIL_PURPOSE = "blind-index:email"
PHONE_PURPOSE = "blind-index:phone"
NAME_PURPOSE = "prefix-token:name"
EXTERNAL_ID_PURPOSE = "blind-index:external-id"
EXACT_NAME_PURPOSE = "blind-index:exact-name"

BLIND_INDEX_BYTES = 16  # 128 bits: unique enough for a database constraint at any tenant size
MIN_PREFIX = 2  # one letter would match most of a tenant and make its posting list huge
# The prefix lengths that get a token; a longer query word uses the longest of them and
# the rest of the word is checked after decryption.
PREFIX_LENGTHS = (2, 3, 4, 6)
# 4,096 token values per organization and column: at 100,000 contacts each value is shared
# by dozens of distinct prefixes (README, "What the search columns reveal", has the
# measured figures), while the four tokens of a query word, ANDed, still narrow the
# candidates to about the real matches. Tokens from before the truncation were 64-bit.
TOKEN_BITS = 12
TOKEN_SPACE = 1 << TOKEN_BITS
MIN_TOKENS = 8  # a first and a last name of six letters or more have eight real tokens

_WORD = re.compile(r"[^\W_]+")
# Letters that do not decompose into a base letter and a mark under NFKD.
_FOLD = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "\u0131": "i", "ð": "d", "þ": "th"})


# --- normalization (logicnet/normalize.py holds the one normal form) ----------------------


def normalize_email(value: str) -> str:
    """Trimmed and case-folded; an internationalized domain in its ASCII (IDNA) form."""
    return normalize.email_match_form(value)


def normalize_phone(value: str, country: str | None) -> str:
    """E.164 (+40721234567) when the number parses (a national number in the organization's
    country); digits otherwise, so an odd number still matches itself written the same way."""
    return normalize.phone_match_form(value, country)


@functools.lru_cache(maxsize=65_536)
def fold_text(value: str) -> str:
    """Case- and diacritics-insensitive form: 'Ștefan' and 'ŞTEFAN' both become 'stefan'.
    Cached: a bulk write folds the same first names and surnames over and over."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_FOLD)


def words(value: str) -> list[str]:
    return _WORD.findall(fold_text(value))


# --- keyed digests -------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _keyed(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner and outer hash states for a key (RFC 2104), computed once: a
    digest is then two copies and three short updates. hmac.digest() set up OpenSSL's HMAC
    for every call (about 7 µs) and let go of the GIL each time, so beside a busy thread
    (an import's preparing thread, logicnet/bulk/ahead.py) each call waited for it. Holds
    no more than the key itself, which the key cache holds anyway."""
    block = key if len(key) <= 64 else hashlib.sha256(key).digest()
    block = block.ljust(64, b"\0")
    return (
        hashlib.sha256(bytes(b ^ 0x36 for b in block)),
        hashlib.sha256(bytes(b ^ 0x5C for b in block)),
    )


def _digest(key: bytes, message: str) -> bytes:
    inner, outer = _keyed(key)
    inner, outer = inner.copy(), outer.copy()
    inner.update(message.encode())
    outer.update(inner.digest())
    return outer.digest()


def blind_index(keys: OrganizationKeys, version: int, purpose: str, normalized: str) -> str:
    if not normalized:
        return ""
    return _digest(keys.derived_key(version, purpose), normalized)[:BLIND_INDEX_BYTES].hex()


def email_index(keys: OrganizationKeys, version: int, value: str) -> str:
    return blind_index(keys, version, EMAIL_PURPOSE, normalize_email(value)) if value else ""


def phone_index(keys: OrganizationKeys, version: int, value: str, country: str | None) -> str:
    """`country` is the organization's, read where it is needed (never cached with the
    keys): a stored number is already E.164, so it only matters for a national number."""
    return blind_index(keys, version, PHONE_PURPOSE, normalize_phone(value, country)) if value else ""


def external_id_index(keys: OrganizationKeys, version: int, value: str) -> str:
    """Another system's id for a record, trimmed (ids are compared as written)."""
    return blind_index(keys, version, EXTERNAL_ID_PURPOSE, (value or "").strip())


def name_match_form(value: str) -> str:
    """A name as compared for exact matching: folded (case, diacritics) and its words joined
    by single spaces, so "ACME  S.R.L." and "Acme S R L" are the same company."""
    return " ".join(words(value or ""))


def exact_name_index(keys: OrganizationKeys, version: int, value: str) -> str:
    return blind_index(keys, version, EXACT_NAME_PURPOSE, name_match_form(value))


def token_purpose(scope: str) -> str:
    """The key purpose of one token column ("contacts.Contact.name_tokens")."""
    return f"{NAME_PURPOSE}|{scope}"


def _token(key: bytes, prefix: str) -> int:
    return int.from_bytes(_digest(key, prefix)[:4], "big") & (TOKEN_SPACE - 1)


def _lengths(word: str) -> list[int]:
    return [n for n in PREFIX_LENGTHS if n <= len(word)]


def padded_count(count: int) -> int:
    """How many tokens a row stores for `count` real ones: at least MIN_TOKENS, then a
    multiple of len(PREFIX_LENGTHS). The count of real tokens follows the length of each
    word (a word of 2 letters has one, of 6 or more four), so unpadded it hinted at name
    lengths; padded, it tells about how many words the name has, and short names look alike."""
    step = len(PREFIX_LENGTHS)
    return max(MIN_TOKENS, -(-count // step) * step)


def prefix_tokens(
    keys: OrganizationKeys, version: int, texts: list[str], scope: str, cache: dict[str, int] | None = None
) -> list[int]:
    """The tokens of the PREFIX_LENGTHS prefixes of every word, truncated to TOKEN_BITS,
    with filler tokens up to `padded_count`. Fillers are keyed digests of the whole text,
    so an unchanged name keeps its tokens (no churn in the token tables); a search that
    meets one only gets a candidate that decryption then rules out."""
    key = keys.derived_key(version, token_purpose(scope))
    tokens: set[int] = set()
    real = 0
    for text in texts:
        for word in words(text or ""):
            for end in _lengths(word):
                prefix = word[:end]
                if cache is None:
                    tokens.add(_token(key, prefix))
                else:
                    # A batch writer's cache (one key, one scope): names repeat their prefixes.
                    token = cache.get(prefix)
                    if token is None:
                        token = cache[prefix] = _token(key, prefix)
                    tokens.add(token)
                real += 1
    if tokens:
        # Counted before two prefixes share a token, so the stored count depends on the
        # words alone.
        target, whole, n = padded_count(real), "\x00".join(texts), 0
        while len(tokens) < target and n < 4 * target:  # a filler may repeat a token: draw again
            tokens.add(_token(key, f"\x00filler\x00{n}\x00{whole}"))
            n += 1
    return sorted(tokens)


def query_words(query: str) -> list[str]:
    """The words a search looks for (folded); shorter than MIN_PREFIX they have no token
    and only narrow the matches after decryption."""
    return words(query)


QUERY_TOKENS_PER_WORD = 2


def query_tokens(keys: OrganizationKeys, version: int, query: str, scope: str) -> list[list[int]]:
    """Per query word of at least MIN_PREFIX letters, the tokens of its two longest
    tokenised prefixes, the longest first; a matching row has them all. The second one
    rules out nearly every row that shares only the first token's bucket, and each further
    one would cost an index probe per candidate for little more. An empty list means no
    search."""
    key = keys.derived_key(version, token_purpose(scope))
    found = []
    for word in query_words(query):
        if len(word) >= MIN_PREFIX:
            lengths = _lengths(word)[::-1][:QUERY_TOKENS_PER_WORD]
            found.append([_token(key, word[:end]) for end in lengths])
    return found


def is_current_token_set(tokens: list[int]) -> bool:
    """Whether a row's tokens are of this scheme (re-indexing skips those): tokens from
    before the truncation were signed 64-bit values, outside 0..TOKEN_SPACE."""
    return all(0 <= token < TOKEN_SPACE for token in tokens)


def matches_words(texts: list[str], wanted: list[str]) -> bool:
    """Whether every wanted word begins a word of the texts (the check after decryption)."""
    have = [w for text in texts for w in words(text or "")]
    return all(any(h.startswith(w) for h in have) for w in wanted)
