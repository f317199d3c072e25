"""The register's platform tables are the platform role's alone.

An incident is Logicnet's record (it is the processor, GDPR Art. 33(2), and the controller
for account data): the record may name organizations and describe what happened to them. It
carries no organization column, so row-level security has nothing to key on; instead the
application role (the web process, the worker's default alias) gets no privilege on these
tables at all. An organization reads its incidents only through its own `BreachNotice` rows,
a tenant table under row-level security that holds the copy Logicnet published to it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections, transaction

PLATFORM_TABLES = ["breaches_breachincident", "breaches_breachupdate"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def close_platform_tables(sender=None, using: str = "default", **kwargs) -> None:
    app = _quote(settings.DATABASE_APP_USER)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for table in PLATFORM_TABLES:
            cursor.execute(f"REVOKE ALL ON {_quote(table)} FROM {app}")
