"""Sends the queries of an explicit platform bypass to the platform role's own connection.

Outside `platform_bypass` every query uses the default alias, whose role sees one
organization at a time. Inside it (only in a process that has the alias at all, see
settings.PLATFORM_DATABASE) reads and writes go to the platform alias.
"""

from __future__ import annotations

from django.conf import settings

from logicnet.tenancy.context import platform_bypass_active


class PlatformRouter:
    def db_for_read(self, model, **hints):
        return settings.PLATFORM_DATABASE if platform_bypass_active() else None

    def db_for_write(self, model, **hints):
        return settings.PLATFORM_DATABASE if platform_bypass_active() else None

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases are the same database: a row read in the bypass may point at one
        # read before it (the administrator's own user, for the admin's change log).
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The schema is the owner's; the platform alias only reads and writes rows.
        return False if db == "platform" else None
