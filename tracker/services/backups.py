"""Backups and restores of the database, for the ``backup`` and ``restore`` commands.

SQLite: SQLite's online backup into one self-contained file (no -wal beside it), checked with
``PRAGMA quick_check``; readers and writers go on meanwhile, and the copy holds exactly the
transactions committed when it started. A restore checks the file and copies it into the
database file with the same API, so a -wal file beside it cannot mix old pages into the new
data. PostgreSQL: ``pg_dump --format=custom --no-owner``, read back with ``pg_restore --clean
--if-exists --no-owner --single-transaction`` (all or nothing); the password travels in
``PGPASSWORD``, never on the command line.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone


class BackupError(Exception):
    """A backup or restore that could not be made; the message says why."""


def postgres_command(
    program: str, settings_dict: dict[str, Any], arguments: list[str]
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


def run_postgres(command: list[str], env: dict[str, str]) -> None:
    """Run a ``postgres_command``; BackupError when it is missing or fails."""
    program = command[0]
    try:
        subprocess.run(command, env={**os.environ, **env}, check=True)
    except FileNotFoundError as error:
        raise BackupError(f"{program} is not installed (postgresql-client)") from error
    except subprocess.CalledProcessError as error:
        raise BackupError(f"{program} failed (exit status {error.returncode})") from error


def backup_target(path: Path, vendor: str) -> Path:
    """``path``, or in an existing folder spyglass-<UTC date and time>.<sqlite3|dump>."""
    if not path.is_dir():
        return path
    stamp = timezone.now().strftime("%Y-%m-%dT%H%M%SZ")
    return path / f"spyglass-{stamp}.{'sqlite3' if vendor == 'sqlite' else 'dump'}"


def pg_dump_command(settings_dict: dict[str, Any], target: Path) -> tuple[list[str], dict]:
    return postgres_command(
        "pg_dump",
        settings_dict,
        ["--format=custom", "--no-owner", f"--file={target}", settings_dict["NAME"]],
    )


def pg_restore_command(settings_dict: dict[str, Any], backup: Path) -> tuple[list[str], dict]:
    return postgres_command(
        "pg_restore",
        settings_dict,
        ["--clean", "--if-exists", "--no-owner", "--single-transaction",
         f"--dbname={settings_dict['NAME']}", str(backup)],
    )  # fmt: skip


def sqlite_backup(source: Path, target: Path) -> int:
    """Copy the SQLite database ``source`` to ``target`` (replaced whole, never half-written);
    returns the copy's size in bytes."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
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
        raise BackupError(f"the copy failed its integrity check: {check}")
    os.replace(partial, target)
    return target.stat().st_size


def sqlite_backup_check(backup: Path) -> None:
    """Raise BackupError unless ``backup`` is a sound SQLite file holding a Django database."""
    if not backup.is_file():
        raise BackupError(f"no backup at {backup}")
    try:
        with closing(sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)) as copy:
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
            tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{backup} is not a SQLite database: {error}") from error
    if check != "ok":
        raise BackupError(f"{backup} failed its integrity check: {check}")
    if "django_migrations" not in tables:
        raise BackupError(f"{backup} is not a Spyglass database (no django_migrations table)")


def sqlite_restore(backup: Path, target: Path) -> None:
    """Copy the SQLite database ``backup`` into ``target`` (created when missing)."""
    sqlite_backup_check(backup)
    with (
        closing(sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)) as copy,
        closing(sqlite3.connect(target, timeout=20)) as live,
    ):
        copy.backup(live)


def database_backup(connection: BaseDatabaseWrapper, path: Path) -> str:
    """Back up ``connection``'s database to ``path`` (see ``backup_target``); what was done."""
    name = connection.settings_dict["NAME"]
    target = backup_target(path, connection.vendor)
    if connection.vendor == "sqlite":
        size = sqlite_backup(Path(name), target)
        return f"backed up {name} to {target} ({size:,} bytes)"
    if connection.vendor == "postgresql":
        run_postgres(*pg_dump_command(connection.settings_dict, target))
        return f"backed up {name} to {target}"
    raise BackupError(f"no backup for a {connection.vendor} database")


def database_restore(connection: BaseDatabaseWrapper, backup: Path) -> str:
    """Replace ``connection``'s database with ``backup``; what was done."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        sqlite_restore(backup, Path(name))
    elif connection.vendor == "postgresql":
        run_postgres(*pg_restore_command(connection.settings_dict, backup))
    else:
        raise BackupError(f"no restore for a {connection.vendor} database")
    return f"restored {backup} into {name}; run `migrate` if it comes from an older release"
