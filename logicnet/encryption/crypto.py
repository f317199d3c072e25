"""AES-256-GCM and the stored format of an encrypted value.

A value is stored as text: `v2.<key version>.<base64(nonce | ciphertext | tag)>`. The
version names the organization's data key, so a re-encryption can run while old and new
values coexist. The associated data binds the value to its organization, model and field
(and to the format and key version): moved anywhere else, it fails authentication.

Formats:
- `v1` (read only, written until the padding came): the plaintext as it is, so the
  ciphertext is exactly 28 bytes longer than the value and a dump showed the length of
  every name, email and note;
- `v2`: the plaintext padded to a length bucket (`pad`) before it is sealed, so a dump shows
  only the bucket. Its associated data names the format (the field is bound as
  `<field>|v2`), so a `v2` value relabelled `v1` (or the reverse) fails authentication
  instead of being read with or without its padding.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "v1"  # the format of the associated data (and of wrapped keys), unchanged by v2
PADDED_FORMAT = "v2"
FORMATS = (FORMAT, PADDED_FORMAT)
NONCE_BYTES = 12  # 96-bit random nonces: safe for well under 2**32 values per key

# Padding: ISO/IEC 7816-4 (one 0x80 byte, then zero bytes), so the end is unambiguous for
# any plaintext, including one that ends in zero bytes. Bucket sizes count the marker:
# - up to 128 bytes, powers of two from 16: every name, email, phone, date and job title
#   falls into one of four sizes (16, 32, 64, 128), which is where lengths identify people
#   ("Ana" and "Alexandrina" both take 16 bytes);
# - above 128 bytes (notes, addresses, custom values), Padmé (Nikitin et al., "Reducing
#   Metadata Leakage from Encrypted Files and Communication with PURBs", PETS 2019): at
#   most 12% larger, and the length leaks O(log log n) bits instead of log n. Powers of two
#   all the way would double long notes for little more hiding.
PAD_MARKER = 0x80
MIN_BUCKET = 16
SMALL_BUCKETS_UP_TO = 128


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
    """(key version, nonce|ciphertext|tag) of a stored value (either format)."""
    parts = token.split(".", 2)
    if len(parts) != 3 or parts[0] not in FORMATS or not parts[1].isdigit():
        raise InvalidCiphertext("not a ciphertext of a known format (v1, v2)")
    try:
        # binascii in strict mode: the same checks as b64decode(validate=True), without
        # its regular expression (this runs for every encrypted value read).
        return int(parts[1]), binascii.a2b_base64(parts[2], strict_mode=True)
    except (binascii.Error, ValueError):
        raise InvalidCiphertext("the ciphertext is not valid base64") from None


def token_version(token: str) -> int | None:
    """The key version a stored value names, or None when it is not a ciphertext."""
    parts = token.split(".", 2)
    return int(parts[1]) if len(parts) == 3 and parts[0] in FORMATS and parts[1].isdigit() else None


@functools.lru_cache(maxsize=4096)
def value_associated_data(organization_id: int, label: str, field: str, version: int) -> bytes:
    return f"{FORMAT}|{organization_id}|{label}|{field}|{version}".encode()


def data_key_associated_data(organization_id: int, version: int) -> bytes:
    # A wrapped data key is bound to its organization and version: swapping two
    # organizations' key rows makes both fail to unwrap instead of mixing their data.
    return f"logicnet-data-key|{FORMAT}|{organization_id}|{version}".encode()


# --- padding (format v2) ----------------------------------------------------------------------


def bucket_size(length: int) -> int:
    """The padded size of a plaintext of `length` bytes (the marker byte included)."""
    needed = length + 1
    if needed <= SMALL_BUCKETS_UP_TO:
        size = MIN_BUCKET
        while size < needed:
            size *= 2
        return size
    # Padmé: keep the top bits of the length (as many as the exponent has bits), round
    # the rest up.
    exponent = needed.bit_length() - 1
    mask = (1 << (exponent - exponent.bit_length())) - 1
    return (needed + mask) & ~mask


def pad(plaintext: bytes) -> bytes:
    return plaintext + b"\x80" + bytes(bucket_size(len(plaintext)) - len(plaintext) - 1)


def unpad(padded: bytes) -> bytes:
    """The plaintext before its marker. Only zero bytes follow the marker, so the last 0x80
    is the marker whatever the value holds. The padded value was authenticated before it
    gets here (it is what `pad` produced when sealed), so nothing more is checked on this
    path, which runs for every value read."""
    try:
        return padded[: padded.rindex(PAD_MARKER)]
    except ValueError:
        raise InvalidCiphertext("the padding of the value is malformed") from None


def is_padded(token: str) -> bool:
    return token.startswith(PADDED_FORMAT + ".")


def padded_field(field: str) -> str:
    """The field as the associated data of a v2 value names it (see the module docstring)."""
    return field + "|" + PADDED_FORMAT


def to_padded_token(token: str) -> str:
    """A token sealed over a padded plaintext (with `padded_field`), marked v2. It is read
    through the same path as v1 (parse_token takes both); its associated data, built with
    `padded_field`, is what binds it to the v2 format."""
    return PADDED_FORMAT + token[len(FORMAT) :]
