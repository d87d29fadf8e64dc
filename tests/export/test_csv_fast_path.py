"""The CSV path (pre-joined SQL cells, indexed outcomes) agrees with the record path and the
outcome service, cell for cell, across chunk boundaries."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests.export import factories as make
from tracker.exports.rows import COLUMNS, csv_cells, event_records, export_rows, joined
from tracker.models import Agency, Event, Vendor
from tracker.selectors import EventFilters, event_search
from tracker.services.outcomes import event_outcome

pytestmark = pytest.mark.django_db
OUTCOME = COLUMNS.index("outcome")


def csv_rows(chunk_size: int) -> list[list[str]]:
    text = "".join(export_rows(EventFilters(all=True), chunk_size=chunk_size))
    return list(csv.reader(io.StringIO(text, newline="")))[1:]


def reference_rows() -> list[list[str]]:
    """The record path (the JSON Lines one) turned into CSV cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for records in event_records(event_search(EventFilters(all=True))):
        writer.writerows(csv_cells(joined(record)) for record in records)
    return list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))


@pytest.mark.parametrize("chunk_size", [1, 3, 2000])
def test_csv_rows_equal_the_record_path_cell_for_cell(rich, chunk_size):
    expected = reference_rows()
    assert len(expected) == Event.objects.count()
    assert csv_rows(chunk_size) == expected


def test_csv_link_cells_are_ordered_and_neutralised(rich):
    (row,) = [row for row in csv_rows(4) if row[6] == "12.50"]
    twins = list(Agency.objects.filter(name="Twin").order_by("id").values_list("slug", flat=True))
    assert row[8] == "Twin; Twin" and row[9] == "; ".join(twins)
    aws = Vendor.objects.get(slug="aws")
    assert row[10] == f"'=cmd|' /C calc'!A0; {aws.name}"
    assert row[12] == "'-ai; Cameras"
    # sources each once; the records' URLs beside "source:id", an empty entry without a link
    assert row[13] == "fpds; sam" and row[15] == "fpds:A; fpds:B; sam:Z"
    assert row[14] == "; =x; https://z.example"
    assert row[-1] == (
        "'-ai: tagged by rule (no evidence recorded; run retag)"
        " | Cameras: tagged by rule (no evidence recorded; run retag)"
    )


@pytest.fixture(params=["pair by pair", "all at once"])
def index_mode(request, monkeypatch) -> None:
    """Outcomes indexed per (unit, family) pair, or every contract action in one pass."""
    if request.param == "all at once":
        monkeypatch.setattr("tracker.exports.outcomes.INDEX_ALL_AFTER", 0)


def test_csv_outcomes_equal_the_outcome_service(rich, index_mode):
    checked = 0
    for row in csv_rows(2):
        outcome = event_outcome(Event.objects.get(pk=int(row[0])))
        assert row[OUTCOME] == (outcome.message if outcome else ""), row[4]
        checked += outcome is not None
    assert checked >= 5  # the starter data adds its own pitches


def test_outcomes_below_coded_and_uncoded_agencies_match_the_service(index_mode):
    board = make.agency("Board")  # no code anywhere above: a pitch to it is its own unit
    office = make.agency("Office", parent=board)
    bureau = make.agency("Bureau", subtier_code="77")
    desk = make.agency("Desk", parent=bureau)
    parent = make.vendor("Parent Co")
    child = make.vendor("Child Co", parent=parent)
    make.event(kind="award", date=dt.date(2021, 5, 1), agencies=[office], vendors=[child])
    make.event(kind="award", date=dt.date(2021, 5, 1), agencies=[desk, bureau], vendors=[child])
    make.event(kind="award", date=dt.date(2020, 12, 31), agencies=[desk], vendors=[parent])
    make.event(kind="pitch", date=dt.date(2021, 1, 1), date_precision="year", agencies=[board],
               vendors=[child])  # fmt: skip
    make.event(kind="pitch", date=dt.date(2021, 3, 9), agencies=[desk, office], vendors=[parent])
    make.event(kind="meeting", date=dt.date(2021, 6, 1), agencies=[desk], vendors=[child])
    messages = []
    for row in csv_rows(1):
        outcome = event_outcome(Event.objects.get(pk=int(row[0])))
        assert row[OUTCOME] == (outcome.message if outcome else "")
        messages.append(row[OUTCOME])
    assert "1 contract action followed" in " ".join(messages)
    assert "2 contract actions followed" in " ".join(messages)
    assert any(message.startswith("No contract found between") for message in messages)
