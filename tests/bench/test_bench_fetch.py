"""The fetch stage: requests per event come from the local server's count and the database's,
and the backfill projection is the arithmetic its docstring states. No timing is asserted."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.bench import fetch
from tracker.bench.replay import ReplayServer
from tracker.models import Event
from tracker.services.starter import starter_data_load

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 12, 3)


@pytest.mark.django_db(transaction=True)
def test_requests_per_event_is_the_servers_count_over_the_events_imported():
    starter_data_load()
    with ReplayServer() as server, fetch.bench_settings(server):
        measured = fetch.measure_source("lda", server, events=60, rows_per_series=40.0)
        served = sum(server.requests.values())
    assert measured.status == "succeeded", measured.message
    assert measured.requests == served >= measured.planned > 0
    assert measured.events == Event.objects.filter(sources__source="lda").count() > 0
    assert measured.requests_per_event == served / measured.events
    assert measured.kind == "lda" and measured.page_size == 25
    assert measured.rows >= measured.events


@pytest.mark.django_db(transaction=True)
def test_the_stage_reports_each_sources_figures_on_a_tiny_sample():
    rows = fetch.fetch_stage(
        40, "sqlite", lambda message: None, sources=["documentcloud"], today=TODAY
    )
    by_stage = {row.stage: row for row in rows}
    assert set(by_stage) == {"fetch-documentcloud", "backfill-documentcloud"}
    sample = by_stage["fetch-documentcloud"]
    assert sample.unit == "requests/event"
    assert sample.ours == sample.extra["requests"] / sample.extra["events"]
    assert sample.extra["events"] == Event.objects.filter(sources__source="documentcloud").count()
    backfill = by_stage["backfill-documentcloud"]
    assert backfill.unit == "hours" and backfill.verdict in ("PASS", "MISS target")
    assert backfill.ours * backfill.extra["rate_per_hour"] == pytest.approx(
        backfill.extra["requests"], abs=0.5
    )


def test_the_projection_follows_from_a_sources_constants():
    volume = fetch.VOLUMES["lda"]
    projection = fetch.Projection(
        "lda", series=1_000, series_how="planned", rows_per_year=volume.rows_per_year, years=10.0
    )
    # 3,000 filings a year for ten years over 1,000 series: 30 a series, two pages of 25.
    assert volume.rows_per_year == fetch.LDA_FILINGS_PER_YEAR * fetch.LDA_SWEPT_SHARE == 3_000
    measured = fetch.Measured(
        "lda",
        "succeeded",
        "",
        requests=120,
        planned=100,
        events=500,
        kind="lda",
        listing_requests=110,
        rows=1_000,
        page_size=25,
    )
    projection.complete(measured)
    # 1,000 series of 2 pages, plus 10 other requests per 1,000 rows for 30,000 rows.
    assert projection.requests == 1_000 * 2 + 0.01 * 30_000
    assert projection.events == 30_000 * 500 / 1_000
    anonymous, keyed = volume.rates
    assert projection.hours(anonymous) == 2_300 / (15 * 60)
    assert projection.hours(keyed) == 2_300 / (120 * 60)


def test_command_prints_the_fetch_stage_as_json(tmp_path):
    env = {**os.environ, "SPYGLASS_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "--only", "fetch", "--fetch-events", "20",
         "--fetch-source", "usaspending", "--fetch-source", "lda", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    stages = {row["stage"] for row in rows}
    assert {"fetch-usaspending", "backfill-usaspending", "fetch-lda", "backfill-lda-key"} <= stages
    assert not any("legistar" in stage for stage in stages)  # only the sources asked for
    for row in rows:
        if row["stage"].startswith("fetch-") and row["ours"] is not None:
            assert row["ours"] == row["requests"] / row["events"]
    assert (tmp_path / "bench-fetch.sqlite3").exists()
