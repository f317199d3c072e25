"""Reading master keys from the environment (used by settings; imports no models).

ENCRYPTION_MASTER_KEYS is a list, newest first: `id:base64key,id2:base64key2`. Each key is
32 random bytes (AES-256). The id is stored next to every wrapped data key, so an old key
can stay in the list until `rotate_master_key` has re-wrapped everything under the new one.
"""

from __future__ import annotations

import base64
import binascii
import re

from django.core.exceptions import ImproperlyConfigured

KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def parse_master_keys(name: str, value: str) -> list[tuple[str, bytes]]:
    """`id:base64` items separated by commas or whitespace (a key file may hold one per line)."""
    keys: list[tuple[str, bytes]] = []
    for item in re.split(r"[,\s]+", value.strip()):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                f"{name}: each key must be written id:base64 (id of letters, digits, - or _), got {item[:12]!r}..."
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"{name}: key {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise ImproperlyConfigured(f"{name}: key {key_id!r} must be 32 bytes, got {len(key)}")
        if any(existing == key_id for existing, _ in keys):
            raise ImproperlyConfigured(f"{name}: key id {key_id!r} appears twice")
        keys.append((key_id, key))
    return keys
