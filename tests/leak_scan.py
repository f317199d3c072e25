"""Looking for personal values in plaintext where they must not be: every table (each row
cast to text, read as the database owner), every file under the data folder, captured logs.

A finding names where it was: `table contacts_contact: (…row…)`, `file exports/7/job-3.csv`,
`log django.server: …`. The database's own storage (its heap and write-ahead files under
the data folder) is left to the table scan: dead row versions there are PostgreSQL's to
recycle (VACUUM, checkpoints), and backups are the erasure ledger's to replay."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connections

SKIPPED_FOLDERS = {"postgres"}


def owner_connection() -> psycopg.Connection:
    """A connection as the owner role to the database the tests use (the test database)."""
    current = connections["default"].settings_dict
    owner = settings.DATABASE_OWNER
    return psycopg.connect(
        dbname=current["NAME"],
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        host=owner["HOST"] or None,
        port=owner["PORT"] or None,
        autocommit=True,
    )


def _patterns(values: Iterable[str]) -> list[str]:
    return [f"%{value.lower()}%" for value in values]


def scan_tables(values: Iterable[str]) -> list[str]:
    """Every row of every table in the public schema, all its columns as one text."""
    values = [v for v in values if v]
    findings = []
    with owner_connection() as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables = [name for (name,) in cursor.fetchall()]
        for table in tables:
            cursor.execute(
                f'SELECT t::text FROM "{table}" t WHERE lower(t::text) LIKE ANY(%s)',
                [_patterns(values)],
            )
            for (row,) in cursor.fetchall():
                found = [v for v in values if v.lower() in row.lower()]
                findings.append(f"table {table}: {found} in {row[:300]}")
    return findings


def scan_files(values: Iterable[str], root: Path | None = None) -> list[str]:
    values = [v.lower().encode() for v in values if v]
    root = Path(root or settings.DATA_DIR)
    findings = []
    if not root.exists():
        return findings
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if (relative.parts and relative.parts[0] in SKIPPED_FOLDERS) or not path.is_file():
            continue
        try:
            content = path.read_bytes().lower()
        except OSError:
            continue
        found = [v.decode() for v in values if v in content]
        if found:
            findings.append(f"file {relative}: {found}")
    return findings


def scan_log_lines(values: Iterable[str], lines: Iterable[tuple[str, str]]) -> list[str]:
    """`lines`: (logger name, formatted line) pairs captured during the run."""
    values = [v for v in values if v]
    return [
        f"log {name}: {[v for v in values if v.lower() in line.lower()]} in {line[:300]}"
        for name, line in lines
        if any(v.lower() in line.lower() for v in values)
    ]
