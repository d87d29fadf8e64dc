"""``manage.py backup PATH``: a consistent copy of the database while the site keeps running
(``tracker.services.backups``: SQLite's online backup, or ``pg_dump``); ``restore`` reads it back.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from tracker.services.backups import BackupError, backup_target, database_backup, pg_dump_command


class Command(BaseCommand):
    help = "Back up the database to PATH (SQLite: online copy; PostgreSQL: pg_dump custom format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            type=Path,
            help="file to write; an existing folder gets spyglass-<UTC date and time>.<ext>",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--print",
            action="store_true",
            dest="print_only",
            help="PostgreSQL: print the pg_dump command instead of running it",
        )

    def handle(self, *args, path: Path, database: str, print_only: bool, **options) -> None:
        connection = connections[database]
        if print_only and connection.vendor == "postgresql":
            target = backup_target(path, connection.vendor)
            command, _ = pg_dump_command(connection.settings_dict, target)
            self.stdout.write(subprocess.list2cmdline(command))
            return
        try:
            self.stdout.write(database_backup(connection, path))
        except BackupError as error:
            raise CommandError(str(error)) from error
