"""The backup procedure in docs/production.md, tested: pg_dump a loaded database, restore it
into a fresh one, and find every row again."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.faults import harness
from tests.hostile import report

pytestmark = pytest.mark.services
TABLES = (
    "tracker_event",
    "tracker_sourcerecord",
    "tracker_eventagency",
    "tracker_eventvendor",
    "tracker_eventtechnology",
    "tracker_agency",
    "tracker_vendor",
    "tracker_technology",
    "tracker_scraperun",
    "tracker_taggingrule",
    "auth_user",
    "django_migrations",
)


def counts(scratch: harness.Scratch) -> dict[str, int]:
    return {
        table: int(scratch.query(f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608
        for table in TABLES
    }


def test_pg_dump_then_pg_restore_into_a_fresh_database(pages, pg_template, tmp_path):
    for tool in ("pg_dump", "pg_restore"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")
    dump = tmp_path / "spyglass.dump"
    with harness.pg_database("spyglass_faults_backup", pg_template) as live:
        code, output = harness.run_to_end(
            live.url, "scrape", "usaspending", "--replay", str(pages["usaspending"])
        )
        assert code == 0, output
        # The documented commands: a custom-format dump, restored with --no-owner.
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", f"--dbname={live.url}"],
            check=True,
            timeout=120,
        )
        before, snapshot = counts(live), live.snapshot()
    assert before["tracker_sourcerecord"] >= harness.EVENTS
    with harness.pg_database("spyglass_faults_restore") as restored:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored.url}", str(dump)],
            check=True,
            timeout=120,
        )
        report.count("inputs")
        assert counts(restored) == before
        lost, extra = harness.difference(snapshot, restored.snapshot())
        report.count("rows_lost", lost)
        report.count("rows_duplicated", extra)
        assert (lost, extra) == (0, 0)
        code, output = harness.run_to_end(restored.url, "migrate", "--check")
        assert code == 0, output
