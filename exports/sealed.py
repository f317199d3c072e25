"""Export files encrypted at rest with the organization's data key, written and read as a
stream of chunks, so a million-row file never sits whole in memory (nor in plaintext on disk).

An export is personal data in plaintext once decrypted, kept outside the database for
days; sealing it with the organization's key (as data-subject packages are, privacy/services/
fulfilment.py) means a copied disk or backup of the exports folder reveals nothing, and
destroying the organization's key (offboarding) makes every export of it unreadable.

Layout: a header line `LNXS1 <key version>\\n`, then chunks, each `length (4 bytes, big
endian) | nonce (12) | AES-256-GCM ciphertext and tag`. Every chunk's associated data binds it
to the organization, the export, its position and whether it is the last one, so chunks
cannot be reordered, dropped, moved to another export, or the file cut short unnoticed
(the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

from logicnet.encryption import crypto
from logicnet.encryption.keys import count_encryption, current_keys, organization_keys

MAGIC = b"LNXS1"
CHUNK = 1 << 20  # plaintext bytes per sealed chunk
_LENGTH = struct.Struct(">I")


class SealedFileError(ValueError):
    """The file is damaged, cut short, or not this export's."""


def _associated_data(organization_id: int, name: str, version: int, index: int, final: bool) -> bytes:
    return f"logicnet-export|{crypto.FORMAT}|{organization_id}|{name}|{version}|{index}|{int(final)}".encode()


class SealedWriter:
    """A binary file-like object (write, flush, close) that seals what it is given.

    Open it inside the organization's tenant context (the data key is handed out only
    there); it keeps the key for its lifetime, so writing may go on outside the context.
    Not seekable: zip writers (openpyxl) then write data descriptors instead of seeking."""

    def __init__(self, path: Path, *, organization_id: int, name: str) -> None:
        entry = current_keys(organization_id)
        self.organization_id = organization_id
        self.name = name
        self.version = entry.current_version
        self._aead = entry.aeads[self.version]
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._file.write(MAGIC + b" " + str(self.version).encode() + b"\n")
        self._buffer = bytearray()
        self._index = 0
        self.plaintext_bytes = 0
        self.closed = False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        raise OSError("a sealed export is not seekable")

    def write(self, data) -> int:
        self._buffer += data
        self.plaintext_bytes += len(data)
        while len(self._buffer) > CHUNK:  # strictly more: the last chunk is written by close()
            self._seal(bytes(self._buffer[:CHUNK]), final=False)
            del self._buffer[:CHUNK]
        return len(data)

    def flush(self) -> None:
        pass

    def _seal(self, plaintext: bytes, *, final: bool) -> None:
        nonce = os.urandom(crypto.NONCE_BYTES)
        aad = _associated_data(self.organization_id, self.name, self.version, self._index, final)
        sealed = nonce + self._aead.encrypt(nonce, plaintext, aad)
        self._file.write(_LENGTH.pack(len(sealed)) + sealed)
        count_encryption(self.organization_id, self.version)
        self._index += 1

    def close(self) -> None:
        if self.closed:
            return
        self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()
        self._file.close()
        self.closed = True

    def discard(self) -> None:
        """Close without sealing the rest (the attempt failed; the file is deleted)."""
        self._file.close()
        self.closed = True


def read_sealed(path: Path, *, organization_id: int, name: str) -> Iterator[bytes]:
    """The plaintext, chunk by chunk. The key is looked up before the first chunk is read:
    start iterating inside the organization's tenant context (the view does, by reading the
    first chunk before it answers). A damaged or truncated file raises SealedFileError."""
    handle = open(path, "rb")  # noqa: SIM115 - closed in the generator's finally
    try:
        header = handle.readline(64)
        parts = header.split()
        if len(parts) != 2 or parts[0] != MAGIC or not parts[1].isdigit():
            raise SealedFileError("not a sealed export")
        version = int(parts[1])
        aead = organization_keys(organization_id, need_version=version).aead(version)
        if aead is None:
            raise SealedFileError("the key this export was sealed with is gone")
    except BaseException:
        handle.close()
        raise
    return _chunks(handle, aead, organization_id, name, version)


def _chunks(handle, aead, organization_id: int, name: str, version: int) -> Iterator[bytes]:
    from cryptography.exceptions import InvalidTag

    try:
        index = 0
        while True:
            prefix = handle.read(_LENGTH.size)
            if len(prefix) < _LENGTH.size:
                raise SealedFileError("the export is cut short")
            (length,) = _LENGTH.unpack(prefix)
            sealed = handle.read(length)
            if len(sealed) < length or length < crypto.NONCE_BYTES + 16:
                raise SealedFileError("the export is cut short")
            final = handle.peek(1)[:1] == b"" if hasattr(handle, "peek") else False
            nonce, body = sealed[: crypto.NONCE_BYTES], sealed[crypto.NONCE_BYTES :]
            try:
                plaintext = aead.decrypt(nonce, body, _associated_data(organization_id, name, version, index, final))
            except InvalidTag:
                raise SealedFileError("a chunk of the export fails authentication") from None
            yield plaintext
            if final:
                return
            index += 1
    finally:
        handle.close()
