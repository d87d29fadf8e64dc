"""The export's columns: one definition, cells without repeated values except in parallel
lists (which line up), and CSV bytes a spreadsheet reads as UTF-8."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.export import factories as make
from tracker.exports.cells import CELL_COLUMNS, EVIDENCE_COLUMN, refresh_export_cells
from tracker.exports.columns import DICTIONARY, parallel_groups
from tracker.exports.rows import BOM, COLUMNS, SEPARATOR, export_rows
from tracker.models import Event
from tracker.selectors import EventFilters

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.export.urls_for_test")]
UTF8_BOM = b"\xef\xbb\xbf"


def test_the_columns_are_the_dictionarys_and_line_up_with_the_records():
    assert tuple(column.name for column in DICTIONARY) == COLUMNS
    assert len(set(COLUMNS)) == len(COLUMNS)
    assert COLUMNS[8:16] == CELL_COLUMNS  # records are built by position
    assert COLUMNS[16:] == ("review_state", "url", "outcome", EVIDENCE_COLUMN)
    assert all(column.description.strip() for column in DICTIONARY)


def test_parallel_lists_name_each_other():
    by_name = {column.name: column for column in DICTIONARY}
    for column in DICTIONARY:
        assert (column.values == "parallel") == bool(column.parallel), column.name
        for other in column.parallel:
            assert by_name[other].values == "parallel" and column.name in by_name[other].parallel
    assert parallel_groups() == [
        ("agencies", "agency_ids"),
        ("vendors", "vendor_ids"),
        ("source_urls", "external_ids"),
    ]


def rows(**kwargs) -> list[dict[str, str]]:
    text = "".join(export_rows(EventFilters(all=True), **kwargs))
    return list(csv.DictReader(io.StringIO(text, newline="")))


def check_cells(row: dict[str, str]) -> None:
    """No list repeats a value; the lists of a parallel group have as many entries."""
    for column in DICTIONARY:
        entries = row[column.name].split(SEPARATOR) if row[column.name] else []
        if column.values == "list":
            assert len(entries) == len(set(entries)), (column.name, row[column.name])
    for group in parallel_groups():
        counts = {len(row[name].split(SEPARATOR)) for name in group if row[name]}
        assert len(counts) <= 1, (group, [row[name] for name in group])


@pytest.fixture
def curated() -> Event:
    """An event with three curator records (one without a link) and two same-named tags."""
    return make.event(
        title="Société “Générale” buys cameras",
        technologies=[make.technology("Cameras"), make.technology("Cameras")],
        sources=[
            ("curator", "c-2", "https://news.example/b"),
            ("curator", "c-1", "https://news.example/a"),
            ("curator", "c-3", ""),
            ("fpds", "F-1", "https://fpds.example/1"),
        ],
    )


@pytest.mark.parametrize("stored", [False, True])
def test_no_repeated_values_and_parallel_source_records(curated, stored):
    if stored:
        refresh_export_cells()
    (row,) = rows()
    assert row["sources"] == "curator; fpds"
    assert row["technologies"] == "Cameras"
    assert row["external_ids"] == "curator:c-1; curator:c-2; curator:c-3; fpds:F-1"
    assert row["source_urls"] == (
        "https://news.example/a; https://news.example/b; ; https://fpds.example/1"
    )
    check_cells(row)
    (record,) = [json.loads(line) for line in export_rows(EventFilters(all=True), fmt="jsonl")]
    assert record["sources"] == ["curator", "fpds"] and record["technologies"] == ["Cameras"]
    assert record["external_ids"] == row["external_ids"].split(SEPARATOR)


def test_every_row_of_a_mixed_export_keeps_the_rules(rich):
    refresh_export_cells([pk for pk in Event.objects.values_list("id", flat=True)][::2])
    found = rows(chunk_size=3)
    assert len(found) == Event.objects.count()
    for row in found:
        check_cells(row)


def test_downloads_start_with_a_bom_and_keep_non_ascii_text(client, curated):
    response = client.get("/events.csv?all=1")
    raw = b"".join(response.streaming_content)
    assert raw.startswith(UTF8_BOM + b"id,date,date_precision,")
    assert raw.count(UTF8_BOM) == 1
    assert "Société “Générale” buys cameras".encode() in raw
    # What readers see: utf-8-sig (pandas and csvkit by default) gives the real header; plain
    # utf-8 keeps the mark on the first name, as Python's csv module documents.
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    assert tuple(next(reader)) == COLUMNS
    assert next(reader)[COLUMNS.index("title")] == "Société “Générale” buys cameras"
    assert next(csv.reader(io.StringIO(raw.decode("utf-8"))))[0] == BOM + "id"


def test_programs_get_no_bom_unless_asked(curated):
    assert "".join(export_rows(EventFilters(all=True))).startswith("id,date,")
    assert "".join(export_rows(EventFilters(all=True), bom=True)).startswith(BOM + "id,date,")
    assert not "".join(export_rows(EventFilters(all=True), fmt="jsonl", bom=True)).startswith(BOM)
