"""Two imports updating one event at once give what one after the other gives (PostgreSQL).

USAspending outranks FPDS: whichever import runs first, the event keeps USAspending's title.
Here the USAspending update holds its transaction open while an FPDS update of the same event
starts; the FPDS import must wait, see the USAspending record, and leave the title alone. Two
variants of one source record (a search row, a transaction-search row) keep both payloads.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests.support.overlap import overlapping
from tests.tracker.test_importer import award
from tracker.models import Event, SourceRecord
from tracker.services.importer import records_import

pytestmark = pytest.mark.django_db(transaction=True)


def fpds(title: str):
    return award(
        source="fpds",
        external_id="70CMSD21F0000012:0",
        title=title,
        url="https://www.fpds.gov/ezsearch/70CMSD21F0000012",
    )


def test_an_update_waits_for_a_concurrent_update_of_the_same_event(starter):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: imports cannot overlap")
    records_import([fpds("FPDS TITLE")])
    overlapping(
        lambda: records_import([award(title="USASPENDING TITLE")]),
        lambda: records_import([fpds("FPDS TITLE, AMENDED")]),
    )
    assert Event.objects.get(match_key=award().match_key).title == "USASPENDING TITLE"


def test_two_variants_of_one_id_at_once_keep_both_payloads(starter):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: imports cannot overlap")
    records_import([award(title="FROM THE DETAIL", extra={"variant": "detail"})])
    overlapping(
        lambda: records_import([award(title="FROM THE SEARCH ROW", raw={"v": "search"})]),
        lambda: records_import(
            [award(title="FROM THE ACTION", raw={"v": "action"}, extra={"variant": "action"})]
        ),
    )
    source_record = SourceRecord.objects.get(source="usaspending")
    assert sorted(source_record.raw["_hashes"]) == ["", "action", "detail"]
    assert (source_record.raw["record"], source_record.raw["action"]) == (
        {"v": "search"},
        {"v": "action"},
    )
    assert source_record.event.title == "FROM THE DETAIL"
