"""AES-256-GCM and the stored format of an encrypted value.

A value is stored as text: `v1.<key version>.<base64(nonce | ciphertext | tag)>`. The
version names the organization's data key, so a re-encryption can run while old and new
values coexist. The associated data binds the value to its organization, model and field
(and to the format and key version): moved anywhere else, it fails authentication.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "v1"
NONCE_BYTES = 12  # 96-bit random nonces: safe for well under 2**32 values per key


class InvalidCiphertext(ValueError):
    """The token is malformed or fails authentication (tampered, or bound elsewhere)."""


def seal(aead: AESGCM, plaintext: bytes, associated_data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + aead.encrypt(nonce, plaintext, associated_data)


def open_sealed(aead: AESGCM, blob: bytes, associated_data: bytes) -> bytes:
    if len(blob) < NONCE_BYTES + 16:
        raise InvalidCiphertext("too short to be a ciphertext")
    try:
        return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
    except InvalidTag:
        raise InvalidCiphertext("authentication failed") from None


def make_token(version: int, blob: bytes) -> str:
    return f"{FORMAT}.{version}.{base64.b64encode(blob).decode('ascii')}"


def parse_token(token: str) -> tuple[int, bytes]:
    """(key version, nonce|ciphertext|tag) of a stored value."""
    parts = token.split(".", 2)
    if len(parts) != 3 or parts[0] != FORMAT or not parts[1].isdigit():
        raise InvalidCiphertext(f"not a {FORMAT} ciphertext")
    try:
        # binascii in strict mode: the same checks as b64decode(validate=True), without
        # its regular expression (this runs for every encrypted value read).
        return int(parts[1]), binascii.a2b_base64(parts[2], strict_mode=True)
    except (binascii.Error, ValueError):
        raise InvalidCiphertext("the ciphertext is not valid base64") from None


def token_version(token: str) -> int | None:
    """The key version a stored value names, or None when it is not a ciphertext."""
    parts = token.split(".", 2)
    return int(parts[1]) if len(parts) == 3 and parts[0] == FORMAT and parts[1].isdigit() else None


@functools.lru_cache(maxsize=4096)
def value_associated_data(organization_id: int, label: str, field: str, version: int) -> bytes:
    return f"{FORMAT}|{organization_id}|{label}|{field}|{version}".encode()


def data_key_associated_data(organization_id: int, version: int) -> bytes:
    # A wrapped data key is bound to its organization and version: swapping two
    # organizations' key rows makes both fail to unwrap instead of mixing their data.
    return f"logicnet-data-key|{FORMAT}|{organization_id}|{version}".encode()
