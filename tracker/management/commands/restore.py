"""``manage.py restore BACKUP``: replace the database with a copy ``backup`` made
(``tracker.services.backups``).

Stop the web, worker and beat processes first: the restore replaces every table. Run
``migrate`` afterwards when the backup is from an older release.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from tracker.services.backups import BackupError, database_restore, pg_restore_command


class Command(BaseCommand):
    help = "Replace the database with a backup (stop the web, worker and beat processes first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", type=Path, help="a file written by `backup`")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="do not ask for confirmation",
        )
        parser.add_argument(
            "--print",
            action="store_true",
            dest="print_only",
            help="PostgreSQL: print the pg_restore command instead of running it",
        )

    def handle(
        self, *args, backup: Path, database: str, interactive: bool, print_only: bool, **options
    ) -> None:
        connection = connections[database]
        name = connection.settings_dict["NAME"]
        try:
            if connection.vendor == "postgresql" and print_only:
                command, _ = pg_restore_command(connection.settings_dict, backup)
                self.stdout.write(subprocess.list2cmdline(command))
                return
            if connection.vendor == "sqlite" and not backup.is_file():
                raise CommandError(f"no backup at {backup}")  # said before asking
            if interactive:
                answer = input(
                    f"This replaces everything in the database {name} with {backup}.\n"
                    "Are the web, worker and beat processes stopped? Type 'yes' to continue: "
                )
                if answer != "yes":
                    raise CommandError("restore cancelled")
            self.stdout.write(database_restore(connection, backup))
        except BackupError as error:
            raise CommandError(str(error)) from error
