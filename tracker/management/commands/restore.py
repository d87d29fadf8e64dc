"""``manage.py restore BACKUP``: replace the database with a copy ``backup`` made.

Stop the web, worker and beat processes first: the restore replaces every table. SQLite: the
backup file is checked (``PRAGMA quick_check``, a Django database) and copied into the database
file with SQLite's backup API, so a -wal file beside it cannot mix old pages into the new data.
PostgreSQL: ``pg_restore --clean --if-exists --no-owner --single-transaction`` (all or nothing;
``--print`` shows the command). Run ``migrate`` afterwards when the backup is from an older
release.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from tracker.management.commands.backup import postgres_command


def sqlite_backup_check(backup: Path) -> None:
    """Raise CommandError unless ``backup`` is a sound SQLite file holding a Django database."""
    if not backup.is_file():
        raise CommandError(f"no backup at {backup}")
    try:
        with closing(sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)) as copy:
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
            tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise CommandError(f"{backup} is not a SQLite database: {error}") from error
    if check != "ok":
        raise CommandError(f"{backup} failed its integrity check: {check}")
    if "django_migrations" not in tables:
        raise CommandError(f"{backup} is not a Spyglass database (no django_migrations table)")


def sqlite_restore(backup: Path, target: Path) -> None:
    """Copy the SQLite database ``backup`` into ``target`` (created when missing)."""
    sqlite_backup_check(backup)
    with (
        closing(sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)) as copy,
        closing(sqlite3.connect(target, timeout=20)) as live,
    ):
        copy.backup(live)


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
        vendor, settings_dict = connection.vendor, connection.settings_dict
        if vendor == "postgresql":
            command, env = postgres_command(
                "pg_restore",
                settings_dict,
                [
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    f"--dbname={settings_dict['NAME']}",
                    str(backup),
                ],
            )
            if print_only:
                self.stdout.write(subprocess.list2cmdline(command))
                return
        elif vendor != "sqlite":
            raise CommandError(f"no restore for a {vendor} database")
        elif not Path(backup).is_file():
            raise CommandError(f"no backup at {backup}")
        if interactive:
            answer = input(
                f"This replaces everything in the database {settings_dict['NAME']} with {backup}.\n"
                "Are the web, worker and beat processes stopped? Type 'yes' to continue: "
            )
            if answer != "yes":
                raise CommandError("restore cancelled")
        if vendor == "sqlite":
            sqlite_restore(backup, Path(settings_dict["NAME"]))
        else:
            try:
                subprocess.run(command, env={**os.environ, **env}, check=True)
            except FileNotFoundError as error:
                raise CommandError("pg_restore is not installed (postgresql-client)") from error
            except subprocess.CalledProcessError as error:
                raise CommandError(f"pg_restore failed (exit status {error.returncode})") from error
        self.stdout.write(
            f"restored {backup} into {settings_dict['NAME']}; "
            "run `migrate` if it comes from an older release"
        )
