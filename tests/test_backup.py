"""The backup and restore commands: a restore drill on SQLite (back up while others write, restore
into a new file, find every row again), and the PostgreSQL commands they run.

tests/faults/test_backup_restore.py drills pg_dump/pg_restore against a live PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tracker.services.backups import postgres_command
from tracker.services.starter import starter_data_load

ROOT = Path(__file__).resolve().parent.parent
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the SQLite drill; PostgreSQL's is tests/faults/test_backup_restore.py",
)


def rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table in the SQLite file at ``path``, in a fixed order."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as database:
        tables = [
            name
            for (name,) in database.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: sorted(database.execute(f'SELECT * FROM "{table}"'), key=repr)  # noqa: S608
            for table in tables
        }


def manage(*arguments: str, database: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("SPYGLASS_PRODUCTION", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *arguments],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_restore_drill_back_up_while_writing_then_restore_into_a_new_file(tmp_path):
    starter_data_load()
    live = Path(connection.settings_dict["NAME"])
    connection.ensure_connection()  # WAL mode, as in production

    # 1. Back up while another connection commits rows as fast as it can.
    stop, written = threading.Event(), []

    def write() -> None:
        with closing(sqlite3.connect(live, timeout=20, isolation_level=None)) as writer:
            while not stop.is_set() or len(written) < 20:
                name = f"drill-{len(written)}"
                writer.execute("INSERT INTO auth_group (name) VALUES (?)", (name,))
                written.append(name)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while len(written) < 20:  # the writer is under way
            assert writer.is_alive() and time.monotonic() < deadline, "the writer stopped"
            time.sleep(0.01)
        busy = tmp_path / "busy.sqlite3"
        call_command("backup", str(busy), stdout=open(os.devnull, "w"))  # noqa: SIM115
    finally:
        stop.set()
        writer.join(timeout=30)
    copied, now = rows(busy), rows(live)
    groups = [name for (_, name) in sorted(copied["auth_group"])]  # by id: in commit order
    assert 20 <= len(groups) <= len(written)
    assert groups == written[: len(groups)]  # a snapshot: a prefix of the commits, no gaps
    assert {table: n for table, n in now.items() if table != "auth_group"} == {
        table: n for table, n in copied.items() if table != "auth_group"
    }
    assert len(copied["tracker_event"]) > 0
    assert not Path(f"{busy}-wal").exists()  # one self-contained file

    # 2. Back up while another connection holds a write transaction open: no wait, no trace of it.
    with closing(sqlite3.connect(live, timeout=20, isolation_level=None)) as open_writer:
        open_writer.execute("BEGIN IMMEDIATE")
        open_writer.execute("INSERT INTO auth_group (name) VALUES ('uncommitted')")
        held = tmp_path / "held.sqlite3"
        call_command("backup", str(held), stdout=open(os.devnull, "w"))  # noqa: SIM115
        open_writer.execute("COMMIT")
    assert "uncommitted" not in [name for (_, name) in rows(held)["auth_group"]]
    assert "uncommitted" in [name for (_, name) in rows(live)["auth_group"]]

    # 3. Restore into a new file; it is the backup, row for row, and fully migrated.
    restored = tmp_path / "restored" / "spyglass.sqlite3"
    restored.parent.mkdir()
    done = manage("restore", str(busy), "--noinput", database=restored)
    assert done.returncode == 0, done.stderr
    assert rows(restored) == copied
    done = manage("migrate", "--check", database=restored)
    assert done.returncode == 0, done.stdout + done.stderr

    # 4. Restore over that database (now in WAL mode, as a site leaves it): the other backup wins.
    done = manage("restore", str(held), "--noinput", database=restored)
    assert done.returncode == 0, done.stderr
    assert rows(restored) == rows(held)


@sqlite_only
@pytest.mark.django_db
def test_backup_into_a_folder_names_the_file_by_the_time(tmp_path, capsys):
    call_command("backup", str(tmp_path))
    (written,) = tmp_path.glob("spyglass-*.sqlite3")
    assert str(written) in capsys.readouterr().out
    assert "django_migrations" in rows(written)


@sqlite_only
@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_no_spyglass_database(tmp_path):
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("not a database " * 100)
    with pytest.raises(CommandError, match="not a SQLite database"):
        call_command("restore", str(not_sqlite), "--noinput")
    empty = tmp_path / "empty.sqlite3"
    with closing(sqlite3.connect(empty)) as database:
        database.execute("CREATE TABLE t (x)")
    with pytest.raises(CommandError, match="not a Spyglass database"):
        call_command("restore", str(empty), "--noinput")
    with pytest.raises(CommandError, match="no backup at"):
        call_command("restore", str(tmp_path / "missing.sqlite3"), "--noinput")


def test_postgres_commands_keep_the_password_off_the_command_line():
    settings_dict = {
        "NAME": "spyglass",
        "USER": "spyglass",
        "PASSWORD": "s3cret",
        "HOST": "db.internal",
        "PORT": 5432,
        "OPTIONS": {"sslmode": "require"},
    }
    command, env = postgres_command("pg_dump", settings_dict, ["--format=custom", "spyglass"])
    assert command == [
        "pg_dump",
        "--host=db.internal",
        "--port=5432",
        "--username=spyglass",
        "--format=custom",
        "spyglass",
    ]
    assert env == {"PGPASSWORD": "s3cret", "PGSSLMODE": "require"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prints the PostgreSQL commands")
def test_on_postgresql_backup_and_restore_print_pg_dump_and_pg_restore(tmp_path, capsys):
    call_command("backup", str(tmp_path / "site.dump"), "--print")
    dump = capsys.readouterr().out
    assert dump.startswith("pg_dump ") and "--format=custom" in dump and "site.dump" in dump
    call_command("restore", str(tmp_path / "site.dump"), "--print")
    restore = capsys.readouterr().out
    assert restore.startswith("pg_restore ") and "--clean --if-exists" in restore
    password = connection.settings_dict.get("PASSWORD")
    assert not password or password not in dump + restore


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs pg_dump")
@pytest.mark.django_db
def test_on_postgresql_backup_writes_a_custom_format_dump(tmp_path):
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    call_command("backup", str(tmp_path), stdout=open(os.devnull, "w"))  # noqa: SIM115
    (dump,) = tmp_path.glob("spyglass-*.dump")
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_restore's custom format
