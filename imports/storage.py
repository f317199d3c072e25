"""Uploaded files at rest: encrypted with the organization's data key, a chunk at a time.

A file is cut into 1 MiB chunks, each sealed with AES-256-GCM (`encrypt_value`) and bound
to its import and its position (the associated data names both), one token per line: a
chunk cannot be moved to another import or another place, and a truncated file is noticed
(the import row knows how many chunks there are). Reading decrypts as it streams, so a
200 MB upload never sits decrypted in memory or on disk (an XLSX workbook excepted: a zip
needs a seekable file, which is kept in memory while it is read).

Files go when the import ends (`delete_upload`) or after UPLOAD_RETENTION at the latest
(`delete_expired_uploads`, run by beat). The per-row error reports live next to them, sealed
the same way, for as long as the upload retention allows.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings

from imports.models import UPLOAD_RETENTION
from logicnet.encryption.keys import decrypt_value, encrypt_value
from logicnet.files import delete_files_older_than

CHUNK = 1 << 20
LABEL = "imports.Upload"
log = logging.getLogger(__name__)


def root() -> Path:
    # the "uploaded files" store of the registry (logicnet/personal_data/policy.py)
    return Path(getattr(settings, "IMPORTS_DIR", settings.MEDIA_ROOT))


def upload_path(organization_id: int, import_id: int) -> Path:
    return root() / str(organization_id) / f"import-{import_id}.sealed"


def errors_path(organization_id: int, import_id: int, batch: int) -> Path:
    return root() / str(organization_id) / f"import-{import_id}-errors-{batch:07d}.sealed"


def store_upload(organization_id: int, import_id: int, chunks: Iterable[bytes]) -> tuple[int, int]:
    """Seal the file's bytes to disk; (size in bytes, number of chunks)."""
    path = upload_path(organization_id, import_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    size = count = 0
    buffer = b""
    with partial.open("w", encoding="ascii") as handle:
        for piece in chunks:
            buffer += piece
            while len(buffer) >= CHUNK:
                handle.write(encrypt_value(organization_id, LABEL, f"{import_id}:{count}", buffer[:CHUNK]) + "\n")
                size, count, buffer = size + CHUNK, count + 1, buffer[CHUNK:]
        if buffer or not count:
            handle.write(encrypt_value(organization_id, LABEL, f"{import_id}:{count}", buffer) + "\n")
            size, count = size + len(buffer), count + 1
    partial.replace(path)
    return size, count


class SealedReader(io.RawIOBase):
    """The decrypted bytes of a sealed upload, read as a stream."""

    def __init__(self, organization_id: int, import_id: int, chunks: int) -> None:
        self._handle = upload_path(organization_id, import_id).open("r", encoding="ascii")
        self._organization_id, self._import_id, self._chunks = organization_id, import_id, chunks
        self._index = 0
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bool:
        line = self._handle.readline()
        if not line:
            if self._index != self._chunks:
                raise OSError("the stored upload is truncated")
            return False
        self._buffer += decrypt_value(self._organization_id, LABEL, f"{self._import_id}:{self._index}", line.strip())
        self._index += 1
        return True

    def readinto(self, target) -> int:
        while not self._buffer and self._next_chunk():
            pass
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def close(self) -> None:
        self._handle.close()
        super().close()


def opener_for(imp):
    def opener():
        return io.BufferedReader(SealedReader(imp.organization_id, imp.pk, imp.file_chunks), CHUNK)

    return opener


def delete_upload(imp) -> bool:
    try:
        upload_path(imp.organization_id, imp.pk).unlink()
        return True
    except FileNotFoundError:
        return False


def store_errors(organization_id: int, import_id: int, batch: int, rows: list[dict]) -> None:
    """The failed and skipped rows of one batch. One file per batch, written again whole
    when a resumed job repeats the batch: never a duplicate line."""
    path = errors_path(organization_id, import_id, batch)
    if not rows:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(rows, ensure_ascii=False).encode("utf-8")
    partial = path.with_suffix(".partial")
    partial.write_text(encrypt_value(organization_id, LABEL, f"{import_id}:errors:{batch}", data), encoding="ascii")
    partial.replace(path)


def read_errors(organization_id: int, import_id: int) -> Iterator[dict]:
    folder = root() / str(organization_id)
    for path in sorted(folder.glob(f"import-{import_id}-errors-*.sealed")):
        batch = int(path.stem.rpartition("-")[2])
        token = path.read_text(encoding="ascii").strip()
        yield from json.loads(decrypt_value(organization_id, LABEL, f"{import_id}:errors:{batch}", token))


def delete_errors(organization_id: int, import_id: int, *, from_batch: int = 0) -> None:
    folder = root() / str(organization_id)
    for path in folder.glob(f"import-{import_id}-errors-*.sealed"):
        if int(path.stem.rpartition("-")[2]) >= from_batch:
            path.unlink(missing_ok=True)


def delete_expired_uploads(*, now: float | None = None) -> int:
    """Every upload and error report older than UPLOAD_RETENTION (and abandoned partials)."""
    deleted = delete_files_older_than(root(), "*/import-*", UPLOAD_RETENTION, now=now)
    if deleted:
        log.info("deleted %d expired import files", deleted)
    return deleted
