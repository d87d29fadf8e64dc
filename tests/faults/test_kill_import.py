"""Kill the import at random points: no half batch is ever visible, and a rerun converges to
the database a clean run writes (same rows, same content)."""

from __future__ import annotations

import os
import random
import time

import pytest

from tests.faults import harness
from tests.hostile import report

SEED = int(os.environ.get("SPYGLASS_FAULT_SEED", "2026"))
SOURCES = ("usaspending", "fpds")


def clean_run(scratch: harness.Scratch, pages) -> dict[str, float]:
    """Import every source to the end; return how long each took."""
    took = {}
    for source in SOURCES:
        started = time.monotonic()
        code, output = harness.run_to_end(
            scratch.url, "scrape", source, "--replay", str(pages[source])
        )
        assert code == 0, output
        took[source] = time.monotonic() - started
    return took


def kill_and_converge(scratch, pages, durations, rng, *, kills: int) -> int:
    """Kill each source's import ``kills`` times at random moments, checking for half batches
    after each kill, then run it to the end. Returns how many kills landed mid-run."""
    baseline = scratch.baseline()
    landed = 0
    for source in SOURCES:
        for _ in range(kills):
            process = harness.manage(scratch.url, "scrape", source, "--replay", str(pages[source]))
            if harness.kill_after(process, rng.uniform(0.5, durations[source])):
                landed += 1
                report.count("kills")
            assert scratch.problems(baseline) == [], f"half a batch visible after a kill ({source})"
        code, output = harness.run_to_end(
            scratch.url, "scrape", source, "--replay", str(pages[source])
        )
        assert code == 0, output
    return landed


def assert_converged(clean, scratch) -> None:
    lost, extra = harness.difference(clean, scratch.snapshot())
    report.count("rows_lost", lost)
    report.count("rows_duplicated", extra)
    assert (lost, extra) == (0, 0), f"{lost} rows lost, {extra} rows duplicated or extra"


def test_sqlite_import_killed_at_random_points_converges(pages, sqlite_template, tmp_path):
    reference = harness.sqlite_copy(sqlite_template, tmp_path / "clean.sqlite3")
    durations = clean_run(reference, pages)
    clean = reference.snapshot()
    assert sum(clean["records"].values()) >= harness.EVENTS
    rng = random.Random(SEED)
    landed = 0
    for scenario in range(2):
        scratch = harness.sqlite_copy(sqlite_template, tmp_path / f"killed-{scenario}.sqlite3")
        landed += kill_and_converge(scratch, pages, durations, rng, kills=2)
        report.count("inputs")
        assert_converged(clean, scratch)
    assert landed >= 6, "most kills must land while the import runs"


@pytest.fixture(scope="session")
def pg_clean(pages, pg_template):
    """The snapshot of a clean PostgreSQL run, and how long each source took."""
    with harness.pg_database("spyglass_faults_clean", pg_template) as reference:
        durations = clean_run(reference, pages)
        return reference.snapshot(), durations


@pytest.mark.services
def test_postgresql_import_killed_at_random_points_converges(pages, pg_template, pg_clean):
    clean, durations = pg_clean
    rng = random.Random(SEED + 1)
    with harness.pg_database("spyglass_faults", pg_template) as scratch:
        kill_and_converge(scratch, pages, durations, rng, kills=2)
        report.count("inputs")
        assert_converged(clean, scratch)


@pytest.mark.services
def test_postgresql_backend_terminated_mid_run_recovers_or_fails_cleanly(
    pages, pg_template, pg_clean
):
    clean, _ = pg_clean
    with harness.pg_database("spyglass_faults", pg_template) as scratch:
        baseline = scratch.baseline()
        process = harness.manage(
            scratch.url, "scrape", "usaspending", "--replay", str(pages["usaspending"])
        )
        assert harness.wait_until(
            lambda: (
                int(
                    scratch.query(
                        "SELECT count(*) FROM tracker_sourcerecord WHERE source = 'usaspending'"
                    )[0][0]
                )
                >= 200
            )
        )
        harness.pg_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = 'spyglass_faults' AND pid <> pg_backend_pid()"
        )
        output, _ = process.communicate(timeout=120)
        report.count("inputs")
        # Either the importer reconnects and redoes the batch, or the run fails with a reason.
        if process.returncode:
            assert "run failed" in output or "OperationalError" in output, output
        else:
            assert "retried one by one" in output and "failed=0" in output, output
        assert scratch.problems(baseline) == []
        for source in ("usaspending", "fpds"):
            code, output = harness.run_to_end(
                scratch.url, "scrape", source, "--replay", str(pages[source])
            )
            assert code == 0, output
        assert_converged(clean, scratch)
