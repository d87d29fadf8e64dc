"""Where the benchmark runs: a dedicated database per engine, a child process per database.

Settings are read once per process, so the command starts itself again (``--child``) with
``DATABASE_URL`` pointing at the benchmark database: never the user's own database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tracker.bench import bulk, fetch, loader, reads, tagging
from tracker.bench.report import Row

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/spyglass_bench"
READ_STAGES = {
    "page": reads.page_stage,
    "search": reads.search_stage,
    "export": bulk.export_stage,
    "export_filtered": bulk.export_filtered_stage,
    "alerts": bulk.alerts_stage,
    "entity": reads.entity_stage,
}
OWN_DATABASE = ("ingest", "tagging", "fetch")  # stages that run on a fresh database of their own


def database_url(db: str, name: str) -> str:
    """The URL of the benchmark database ``name`` (a file in var/, or on the server)."""
    if db == "sqlite":
        return f"sqlite:///{Path(settings.VAR_DIR) / f'{name}.sqlite3'}"
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        base = DEFAULT_POSTGRES
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name.replace('-', '_')}"))


def ensure_postgres(url: str, *, recreate: bool) -> None:
    """Create the PostgreSQL database of ``url`` (dropping it first when ``recreate``)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if recreate:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def run_child(
    db: str,
    *,
    url: str,
    stages: Sequence[str],
    options: Sequence[str],
    progress: Callable[[str], object],
) -> list[Row]:
    """Run ``manage.py bench --child`` against ``url``; the rows it printed."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    manage = Path(settings.BASE_DIR) / "manage.py"
    command = [sys.executable, str(manage), "bench", "--child", "--db", db, *options]
    for stage in stages:
        command += ["--only", stage]
    progress(f"{db}: {' '.join(stages)}")
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
    rows = [Row.from_json(json.loads(line)) for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0:
        rows += [Row(stage, db, None, None, note=f"failed (exit {done.returncode})")
                 for stage in stages if not any(r.stage.startswith(stage) for r in rows)]
    return rows


def child_rows(
    db: str,
    *,
    stages: Sequence[str],
    events: int,
    ingest_events: int,
    tagging_records: int,
    repeat: int,
    fetch_events: int,
    progress: Callable[[str], object],
    fetch_sources: Sequence[str] | None = None,
) -> list[Row]:
    """Inside the child: migrate, load or reuse the dataset, run ``stages`` and return rows."""
    call_command("migrate", verbosity=0)
    rows: list[Row] = []
    if "ingest" in stages:
        rows += bulk.ingest_stage(ingest_events, db, progress)
    if "tagging" in stages:
        rows += tagging.tagging_stage(tagging_records, db, progress)
    if "fetch" in stages:
        rows += fetch.fetch_stage(fetch_events, db, progress, sources=fetch_sources)
    reading = [stage for stage in stages if stage in READ_STAGES]
    if not reading:
        return rows
    loaded = loader.existing(events)
    if loaded is None:
        if loader.Event.objects.exists():
            raise RuntimeError(
                f"{connection.settings_dict['NAME']} holds other data; rerun with --fresh"
            )
        loaded = loader.load(events, progress=progress)
    else:
        progress(f"reusing the {events:,}-event dataset")
    for stage in reading:
        progress(f"{db}: {stage}")
        rows += READ_STAGES[stage](loaded, db, repeat)
    return rows
