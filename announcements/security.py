"""Announcements are written by platform staff only: the application role reads them (the
banner) and may not insert, change or delete one."""

from __future__ import annotations

from django.conf import settings
from django.db import connections, transaction

READ_ONLY_TABLES = ["announcements_announcement"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def close_announcement_tables(sender=None, using: str = "default", **kwargs) -> None:
    app = _quote(settings.DATABASE_APP_USER)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for table in READ_ONLY_TABLES:
            cursor.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {_quote(table)} FROM {app}")
