#!/usr/bin/env python
"""Django's command-line utility for Logicnet CRM."""

import os
import sys

# Commands that change the schema or the database's roles run as the owner role from
# DATABASE_URL; everything else runs as the least-privilege application role.
OWNER_COMMANDS = {"migrate", "flush", "dbshell", "sqlflush", "createcachetable"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "logicnet.settings")
    if len(sys.argv) > 1 and sys.argv[1] in OWNER_COMMANDS:
        os.environ.setdefault("LOGICNET_DB_ROLE", "owner")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
