"""``manage.py backup PATH``: a consistent copy of the database while the site keeps running.

SQLite: SQLite's online backup into one self-contained file (no -wal beside it), checked with
``PRAGMA quick_check``; readers and writers go on meanwhile, and the copy holds exactly the
transactions committed when it started. PostgreSQL: ``pg_dump --format=custom --no-owner``
(``--print`` shows the command instead, the password left in ``PGPASSWORD``). ``restore`` reads
either back.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone


def postgres_command(
    program: str, settings_dict: dict, arguments: list[str]
) -> tuple[list[str], dict[str, str]]:
    """``program`` (pg_dump, pg_restore) with the connection options of a Django database, and
    the environment variables that carry the password and TLS mode (never the command line)."""
    command = [program]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings_dict.get(key):
            command.append(f"{flag}={settings_dict[key]}")
    env: dict[str, str] = {}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if options.get(option):
            env[variable] = str(options[option])
    return [*command, *arguments], env


def sqlite_backup(source: Path, target: Path) -> int:
    """Copy the SQLite database ``source`` to ``target`` (replaced whole, never half-written);
    returns the copy's size in bytes."""
    if not source.is_file():
        raise CommandError(f"no SQLite database at {source}")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    with (
        closing(sqlite3.connect(source, timeout=20)) as live,
        closing(sqlite3.connect(partial)) as copy,
    ):
        # One step: a snapshot of the data committed when it starts (with WAL, writers go on).
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal/-shm beside it
        (check,) = copy.execute("PRAGMA quick_check").fetchone()
    if check != "ok":
        partial.unlink()
        raise CommandError(f"the copy failed its integrity check: {check}")
    os.replace(partial, target)
    return target.stat().st_size


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
        vendor, settings_dict = connection.vendor, connection.settings_dict
        if path.is_dir():
            stamp = timezone.now().strftime("%Y-%m-%dT%H%M%SZ")
            path = path / f"spyglass-{stamp}.{'sqlite3' if vendor == 'sqlite' else 'dump'}"
        if vendor == "sqlite":
            size = sqlite_backup(Path(settings_dict["NAME"]), path)
            self.stdout.write(f"backed up {settings_dict['NAME']} to {path} ({size:,} bytes)")
        elif vendor == "postgresql":
            command, env = postgres_command(
                "pg_dump",
                settings_dict,
                ["--format=custom", "--no-owner", f"--file={path}", settings_dict["NAME"]],
            )
            if print_only:
                self.stdout.write(subprocess.list2cmdline(command))
                return
            try:
                subprocess.run(command, env={**os.environ, **env}, check=True)
            except FileNotFoundError as error:
                raise CommandError("pg_dump is not installed (postgresql-client)") from error
            except subprocess.CalledProcessError as error:
                raise CommandError(f"pg_dump failed (exit status {error.returncode})") from error
            self.stdout.write(f"backed up {settings_dict['NAME']} to {path}")
        else:
            raise CommandError(f"no backup for a {vendor} database")
