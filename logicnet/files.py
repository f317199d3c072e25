"""Files of personal data kept outside the database for a while (exports, data-subject
packages): one sweep deletes them once their retention is over (GDPR Art. 5(1)(e))."""

from __future__ import annotations

import datetime
import time
from pathlib import Path


def delete_files_older_than(root: Path, pattern: str, age: datetime.timedelta, *, now: float | None = None) -> int:
    """Delete the files under `root` matching `pattern` last written more than `age` ago.

    Works on the files alone (their modification time is when they were written): no
    database access, so a sweep needs no cross-tenant role. Returns how many it deleted."""
    cutoff = (time.time() if now is None else now) - age.total_seconds()
    root = Path(root)
    deleted = 0
    if not root.is_dir():
        return 0
    for path in root.glob(pattern):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            continue  # a download or another sweep got there first
    return deleted
