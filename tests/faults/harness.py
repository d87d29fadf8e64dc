"""Run ``manage.py`` imports in subprocesses against a scratch database, kill them, and compare
canonical snapshots of what they wrote (SQLite files, or PostgreSQL databases when reachable)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tracker.bench.datagen import Dataset, fpds_pages, usaspending_pages

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get(
    "SPYGLASS_FAULTS_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
BATCH = 50
EVENTS = 1500  # USAspending awards; FPDS adds a quarter as many actions
SNAPSHOT_QUERIES = {
    "records": """
        SELECT sr.source, sr.external_id, sr.content_hash, e.kind, e.date, e.date_precision,
               e.title, e.summary, e.amount, e.currency, e.match_key, e.review_state
        FROM tracker_sourcerecord sr JOIN tracker_event e ON e.id = sr.event_id""",
    "agencies": """
        SELECT sr.source, sr.external_id, a.name, ea.role FROM tracker_eventagency ea
        JOIN tracker_agency a ON a.id = ea.agency_id
        JOIN tracker_sourcerecord sr ON sr.event_id = ea.event_id""",
    "vendors": """
        SELECT sr.source, sr.external_id, v.name, ev.role FROM tracker_eventvendor ev
        JOIN tracker_vendor v ON v.id = ev.vendor_id
        JOIN tracker_sourcerecord sr ON sr.event_id = ev.event_id""",
    "technologies": """
        SELECT sr.source, sr.external_id, t.slug, et.tagged_by FROM tracker_eventtechnology et
        JOIN tracker_technology t ON t.id = et.technology_id
        JOIN tracker_sourcerecord sr ON sr.event_id = et.event_id""",
    "vendor_names": "SELECT name, uei FROM tracker_vendor",
    "agency_names": "SELECT name FROM tracker_agency",
    "events": "SELECT kind, date, title, amount, match_key FROM tracker_event",
}
CONSISTENCY_QUERIES = {
    "events without a source record": """
        SELECT count(*) FROM tracker_event e
        WHERE NOT EXISTS (SELECT 1 FROM tracker_sourcerecord sr WHERE sr.event_id = e.id)""",
    "imported records without a buyer agency": """
        SELECT count(*) FROM tracker_sourcerecord sr WHERE sr.source IN ('usaspending', 'fpds')
        AND NOT EXISTS (SELECT 1 FROM tracker_eventagency ea WHERE ea.event_id = sr.event_id)""",
    "imported records without a vendor": """
        SELECT count(*) FROM tracker_sourcerecord sr WHERE sr.source IN ('usaspending', 'fpds')
        AND NOT EXISTS (SELECT 1 FROM tracker_eventvendor ev WHERE ev.event_id = sr.event_id)""",
}


def generate_pages(folder: Path, *, events: int = EVENTS, seed: int = 11) -> dict[str, Path]:
    """USAspending and FPDS pages for ``events`` actions each, as replayable files."""
    data = Dataset(vendors=3000, seed=seed)
    folders = {"usaspending": folder / "usaspending", "fpds": folder / "fpds"}
    for path in folders.values():
        path.mkdir(parents=True, exist_ok=True)
    for n, body in enumerate(usaspending_pages(data, events, page_size=100)):
        (folders["usaspending"] / f"{n:04d}.json").write_bytes(body)
    for n, body in enumerate(fpds_pages(data, events // 4, page_size=25, offset=events)):
        (folders["fpds"] / f"{n:04d}.xml").write_bytes(body)
    return folders


@dataclass
class Scratch:
    """One scratch database a subprocess can open by URL, and the test can read directly."""

    url: str

    @property
    def vendor(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"

    def connect(self):
        if self.vendor == "sqlite":
            return sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30)
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def query(self, sql: str) -> list[tuple]:
        connection = self.connect()
        try:
            return [tuple(str(v) for v in row) for row in connection.execute(sql).fetchall()]
        finally:
            connection.close()

    def snapshot(self) -> dict[str, Counter]:
        """Every row an import writes, without ids or timestamps, as multisets."""
        return {name: Counter(self.query(sql)) for name, sql in SNAPSHOT_QUERIES.items()}

    def problems(self, baseline: dict[str, int]) -> list[str]:
        """Signs of a half-visible batch: orphans, missing links, a partial batch of records."""
        found = []
        for name, sql in CONSISTENCY_QUERIES.items():
            count = int(self.query(sql)[0][0]) - baseline.get(name, 0)
            if count:
                found.append(f"{count} {name}")
        for source, count in self.query(
            "SELECT source, count(*) FROM tracker_sourcerecord GROUP BY source"
        ):
            if source == "usaspending" and int(count) % BATCH:
                found.append(f"{count} usaspending records: not a whole number of batches")
        return found

    def baseline(self) -> dict[str, int]:
        return {name: int(self.query(sql)[0][0]) for name, sql in CONSISTENCY_QUERIES.items()}


def difference(clean: dict[str, Counter], other: dict[str, Counter]) -> tuple[int, int]:
    """(rows lost, rows duplicated or extra) of ``other`` against ``clean``."""
    lost = sum(sum((clean[name] - other[name]).values()) for name in clean)
    extra = sum(sum((other[name] - clean[name]).values()) for name in clean)
    return lost, extra


def environment(url: str, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "PYTEST", "DJANGO_SETTINGS"))
    }
    return {
        **env,
        "DATABASE_URL": url,
        "IMPORT_BATCH_SIZE": str(BATCH),
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
        "SPYGLASS_VAR_DIR": str(ROOT / "var"),
        **extra,
    }


def manage(url: str, *args: str, **env: str) -> subprocess.Popen:
    """Start ``manage.py args`` against ``url`` in a subprocess."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment(url, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_to_end(url: str, *args: str, timeout: float = 180) -> tuple[int, str]:
    process = manage(url, *args)
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def kill_after(process: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL ``process`` after ``seconds``; False when it had already finished."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return True


def migrated_sqlite(folder: Path) -> Scratch:
    """A migrated SQLite file with the starter data."""
    scratch = Scratch(f"sqlite:///{folder / 'template.sqlite3'}")
    for args in (("migrate", "--noinput", "-v0"), ("load_starter_data",)):
        code, output = run_to_end(scratch.url, *args)
        assert code == 0, output
    return scratch


def sqlite_copy(template: Scratch, target: Path) -> Scratch:
    source = Path(template.url.removeprefix("sqlite:///"))
    connection = sqlite3.connect(source)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    shutil.copyfile(source, target)
    return Scratch(f"sqlite:///{target}")


def pg_url(name: str) -> str:
    parts = urlsplit(PG_ADMIN_URL)
    return parts._replace(path=f"/{name}").geturl()


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


@contextmanager
def pg_database(name: str, template: str | None = None) -> Iterator[Scratch]:
    """A fresh PostgreSQL database (from ``template`` when given), dropped afterwards."""
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield Scratch(pg_url(name))
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_until(predicate, timeout: float = 60, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
