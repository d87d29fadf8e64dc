"""Each benchmark stage runs on a tiny dataset and fills its row; the command prints the table.

No timing is asserted: these tests check that every stage runs our code and its baseline on
the same data and computes a ratio.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.bench import bulk, loader, reads, tagging
from tracker.bench.bulk import FILTERED_EXPORT
from tracker.bench.report import Row, json_lines, table
from tracker.models import Event, EventAgency, EventTechnology, ExportCells, Technology

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def loaded(db):
    return loader.load(300, progress=lambda message: None)


def check(rows: list[Row], stages: set[str]) -> None:
    assert {row.stage for row in rows} == stages
    for row in rows:
        assert row.ours is not None and row.ours > 0, row
        assert row.baseline is not None and row.baseline > 0, row
        assert row.ratio is not None and row.ratio > 0, row
        assert row.verdict.startswith(("PASS", "MISS")), row


def test_loader_writes_linked_events_with_paths(loaded):
    assert Event.objects.filter(match_key__startswith="bench:").count() == 300
    assert EventAgency.objects.filter(event__match_key__startswith="bench:").count() == 300
    assert EventTechnology.objects.exists()
    assert loader.existing(300) == loaded
    assert loader.existing(301) is None
    from tracker.models import Agency, Vendor

    for model in (Agency, Vendor):
        for node in model.objects.exclude(parent=None)[:50]:
            assert node.path == node.parent.path + f"{node.pk}/"


def test_every_generated_phrase_tags_a_starter_technology(loaded):
    """A technology renamed in the taxonomy must not silently leave its phrase untagged."""
    slugs = set(Technology.objects.values_list("slug", flat=True))
    assert set(loader.PHRASE_TECHNOLOGY.values()) <= slugs
    assert FILTERED_EXPORT["technology"] in slugs


@pytest.mark.django_db(transaction=True)
def test_read_stages_fill_their_rows(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    loaded = loader.load(300, progress=lambda message: None)
    rows = reads.page_stage(loaded, "sqlite", 3)
    rows += reads.search_stage(loaded, "sqlite", 3)
    rows += reads.entity_stage(loaded, "sqlite", 3)
    check(rows, {"page-p50", "page-p95", "page-count", "search-p95", "entity-p95"})


def test_export_stage_counts_every_event(loaded):
    row, unstored = bulk.export_stage(loaded, "sqlite", 1)
    check([row, unstored], {"export", "export-unstored"})
    assert row.extra["rows"] == unstored.extra["rows"] == Event.objects.count()
    assert bulk.baseline_export() == Event.objects.count()
    assert ExportCells.objects.count() == Event.objects.count()  # deleted, then rolled back


def test_alerts_stage_matches_on_both_sides(loaded, monkeypatch):
    monkeypatch.setattr(bulk, "ALERT_SUBSCRIPTIONS", 200)
    row, by_search = bulk.alerts_stage(loaded, "sqlite", 1)
    check([row], {"alerts"})
    assert by_search.stage == "alerts-by-search" and by_search.ours > 0
    assert by_search.extra["projected_from"] == 200
    assert row.extra["subscriptions_matched"] > 0
    assert row.extra["baseline_subscriptions_matched"] > 0


def test_rows_print_as_a_table_and_json_lines():
    rows = [Row("export", "sqlite", 60_000, 100_000), Row("page-p95", "sqlite", 50, 10),
            Row("ingest-fpds", "sqlite", None, None, note="ingest: not available yet")]
    assert [row.ratio for row in rows] == [0.6, 0.2, None]
    assert [row.verdict for row in rows] == ["PASS", "MISS ratio", "n/a"]
    text = table(rows)
    assert text.splitlines()[0].split("|")[1].strip() == "stage"
    assert "ingest: not available yet" in text
    parsed = [json.loads(line) for line in json_lines(rows).splitlines()]
    assert {"stage", "db", "ours", "baseline", "unit", "ratio"} <= parsed[0].keys()
    assert Row.from_json(parsed[0]).ratio == 0.6


def test_command_runs_a_child_on_its_own_database(tmp_path):
    env = {**os.environ, "SPYGLASS_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "--events", "200", "--only", "page",
         "--repeat", "2", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["stage"] for row in rows] == ["page-p50", "page-p95", "page-count"]
    assert all(row["ratio"] for row in rows)
    assert (tmp_path / "bench-200.sqlite3").exists()


def test_tagging_stage_tags_surveillance_and_ordinary_awards(db):
    (row,) = tagging.tagging_stage(600, "sqlite", progress=lambda message: None)
    check([row], {"tagging"})
    assert row.unit == "records/s"
    assert 0 < row.extra["tagged"] < row.extra["records"] == 600
    assert 0 < row.extra["baseline_tagged"] < 600


def test_command_runs_the_tagging_stage_on_its_own_database(tmp_path):
    env = {**os.environ, "SPYGLASS_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "--only", "tagging", "--tagging-records", "300",
         "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    (row,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert row["stage"] == "tagging" and row["records"] == 300
    assert row["ours"] > 0 and row["target"].startswith("≥ 50,000 records/s")
    assert (tmp_path / "bench-tagging.sqlite3").exists()
