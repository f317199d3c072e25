#!/usr/bin/env python
"""Django's command-line utility for Logicnet CRM."""

import os
import sys

# Commands that change the schema or the database's roles run as the owner role from
# DATABASE_URL; everything else runs as the least-privilege application role.
OWNER_COMMANDS = {"migrate", "flush", "dbshell", "sqlflush", "createcachetable"}
# Which process this is decides whether it gets the platform role's database alias (see
# settings.LOGICNET_PROCESS): management commands do, the development server serves the
# customer-facing site and does not, unless started with LOGICNET_PROCESS=admin.
WEB_COMMANDS = {"runserver"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "logicnet.settings")
    if len(sys.argv) > 1 and sys.argv[1] in OWNER_COMMANDS:
        os.environ.setdefault("LOGICNET_DB_ROLE", "owner")
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    os.environ.setdefault("LOGICNET_PROCESS", "web" if command in WEB_COMMANDS else "command")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
