"""The blind indexes' HMAC-SHA256 (logicnet/encryption/blind.py) computes from pre-keyed hash
states: it must give exactly what the standard HMAC gives, or every stored index, token and
suppression digest would stop matching."""

import hmac

import pytest

from logicnet.encryption import blind


@pytest.mark.parametrize("key", [b"", b"k", bytes(range(32)), bytes(range(64)), bytes(range(65)) * 2])
@pytest.mark.parametrize("message", ["", "ana@example.ro", "ștefănescu", "+40721000001", "x" * 5000, "名前"])
def test_the_digest_is_the_standard_hmac_sha256(key, message):
    assert blind._digest(key, message) == hmac.digest(key, message.encode(), "sha256")


def test_the_keyed_states_are_not_changed_by_a_digest():
    key = bytes(range(32))
    first = blind._digest(key, "ana@example.ro")
    blind._digest(key, "other@example.ro")
    assert blind._digest(key, "ana@example.ro") == first
