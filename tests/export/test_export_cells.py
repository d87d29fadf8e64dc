"""Stored export cells: the export is the same with them, without them or with some, and the
triggers drop a stored row whenever what it shows changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tests.export import factories as make
from tests.export.test_csv_fast_path import csv_rows, reference_rows
from tests.support.overlap import overlapping
from tracker import tasks
from tracker.exports.cells import refresh_export_cells
from tracker.exports.rows import csv_cells
from tracker.models import (
    Agency,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    ExportCells,
    SourceRecord,
    Technology,
    Vendor,
)

pytestmark = pytest.mark.django_db


def stored() -> set[int]:
    return set(ExportCells.objects.values_list("event_id", flat=True))


def all_ids() -> set[int]:
    return set(Event.objects.values_list("id", flat=True))


@pytest.mark.parametrize("share", ["none", "half", "all"])
@pytest.mark.parametrize("chunk_size", [3, 2000])
def test_export_is_the_same_with_any_share_of_stored_cells(rich, share, chunk_size):
    expected = reference_rows()
    ids = sorted(all_ids())
    if share == "half":
        assert refresh_export_cells(ids[::2]) == len(ids[::2])
    elif share == "all":
        assert refresh_export_cells() == len(ids)
    assert len(stored()) == {"none": 0, "half": len(ids[::2]), "all": len(ids)}[share]
    assert csv_rows(chunk_size) == expected


def test_stored_cells_are_what_the_export_shows(rich):
    refresh_export_cells()
    (row,) = [row for row in csv_rows(2000) if row[6] == "12.50"]
    cells = ExportCells.objects.get(event_id=int(row[0]))
    # Stored as the links show them; the CSV writer alone neutralises.
    assert cells.vendors.startswith("=cmd|") and row[10].startswith("'=cmd|")
    stored = [cells.agencies, cells.technologies, cells.sources, cells.external_ids]
    assert csv_cells(stored, (True,) * len(stored)) == [
        row[8], row[12], row[13], row[15],
    ]  # fmt: skip
    unlinked = make.event(kind="pitch")
    refresh_export_cells([unlinked.pk])
    assert ExportCells.objects.filter(event=unlinked, agencies="", sources="").exists()


def test_fill_writes_only_missing_rows_and_given_ids_are_recomputed(rich):
    assert refresh_export_cells() == len(all_ids())
    assert refresh_export_cells() == 0
    first = min(all_ids())
    ExportCells.objects.filter(event_id=first).update(agencies="stale")
    assert refresh_export_cells() == 0  # a stored row is trusted
    assert refresh_export_cells([first, first, 10**9]) == 1  # a vanished id is skipped
    assert ExportCells.objects.get(event_id=first).agencies != "stale"


def _one_event_with_everything() -> tuple[Event, set[int]]:
    """A linked event beside the starter data, every event's cells stored; (it, all ids)."""
    agency, vendor = make.agency("Border Office"), make.vendor("Lens Corp")
    tech = make.technology("Tethered balloons")
    linked = make.event(
        agencies=[agency], vendors=[vendor], technologies=[tech],
        sources=[("fpds", "X1", "https://x.example")],
    )  # fmt: skip
    make.event(agencies=[make.agency("Other Office")], vendors=[make.vendor("Other")])
    refresh_export_cells()
    assert stored() == all_ids()
    return linked, all_ids()


CHANGES = {
    "agency link added": lambda e: EventAgency.objects.create(
        event=e, agency=make.agency("Harbor Office"), role="funder"
    ),
    "agency link removed": lambda e: EventAgency.objects.filter(event=e).delete(),
    "vendor link moved": lambda e: EventVendor.objects.filter(event=e).update(
        vendor=make.vendor("Merged Into")
    ),
    "vendor role changed": lambda e: EventVendor.objects.filter(event=e).update(
        role="intermediary"
    ),
    "technology link removed": lambda e: EventTechnology.objects.filter(event=e).delete(),
    "technology link added": lambda e: EventTechnology.objects.create(
        event=e, technology=make.technology("Sensors")
    ),
    "source url changed": lambda e: SourceRecord.objects.filter(event=e).update(
        url="https://y.example"
    ),
    "source added": lambda e: SourceRecord.objects.create(
        event=e, source="sam", external_id="S1", retrieved_at=timezone.now()
    ),
    "source removed": lambda e: SourceRecord.objects.filter(event=e).delete(),
    "agency renamed": lambda e: Agency.objects.filter(name="Border Office").update(
        name="Border Bureau"
    ),
    "vendor slug changed": lambda e: Vendor.objects.filter(name="Lens Corp").update(
        slug="lens-corp-2"
    ),
    "technology renamed (save)": lambda e: _rename(
        Technology.objects.get(name="Tethered balloons")
    ),
}


def _rename(technology: Technology) -> None:
    technology.name = "Unmanned aircraft"
    technology.save()


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_drops_the_stored_cells_of_the_events_it_touches(starter, change):
    linked, ids = _one_event_with_everything()
    CHANGES[change](linked)
    assert stored() == ids - {linked.pk}
    expected = reference_rows()
    assert csv_rows(2000) == expected  # computed on the fly meanwhile
    assert refresh_export_cells() == 1
    assert stored() == ids
    assert csv_rows(2000) == expected


@pytest.mark.parametrize(
    "change",
    [
        lambda: SourceRecord.objects.update(raw={"new": "payload"}, content_hash="h2"),
        lambda: EventAgency.objects.update(role="funder"),
        lambda: Agency.objects.filter(name="Border Office").update(acronym="BO"),
        lambda: _save_unchanged(Vendor.objects.get(name="Lens Corp")),
        lambda: Event.objects.update(title="Retitled"),
    ],
    ids=["source payload", "agency role", "agency acronym", "vendor saved as is", "event title"],
)
def test_changes_the_cells_do_not_show_keep_them(starter, change):
    _, ids = _one_event_with_everything()
    change()
    assert stored() == ids


def _save_unchanged(vendor: Vendor) -> None:
    vendor.save()


def test_deleting_an_event_deletes_its_cells(starter):
    linked, ids = _one_event_with_everything()
    pk = linked.pk
    linked.delete()
    assert stored() == ids - {pk}


def test_after_import_stores_the_cells_of_the_events_it_is_given(starter):
    event = make.event(agencies=[make.agency("Port Office")], date=dt.date(2021, 5, 5))
    tasks.after_import([event.pk], [])
    assert stored() == {event.pk}
    assert tasks.export_cells_fill() == len(all_ids()) - 1


def test_triggers_exist_on_this_database():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(DISTINCT tgname) FROM pg_trigger WHERE tgname LIKE '%%_cells_%%'"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master"
                " WHERE type = 'trigger' AND name LIKE '%_cells_%'"
            )
        assert cursor.fetchone()[0] == 4 * 3 + 3


def test_refresh_export_cells_command_fills_and_recomputes(rich):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("refresh_export_cells", stdout=out)
    assert stored() == all_ids()
    assert f"stored for {len(all_ids()):,} events" in out.getvalue()
    first = min(all_ids())
    ExportCells.objects.filter(event_id=first).update(agencies="stale")
    call_command("refresh_export_cells", stdout=out)
    assert ExportCells.objects.get(event_id=first).agencies == "stale"
    call_command("refresh_export_cells", "--all", stdout=out)
    assert ExportCells.objects.get(event_id=first).agencies != "stale"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time")
def test_a_refresh_waits_for_a_change_in_flight_and_then_sees_it(starter):
    event = make.event(agencies=[make.agency("Dock Office")])
    refresh_export_cells([event.pk])
    ice = Agency.objects.get(slug="ice")
    overlapping(
        lambda: EventAgency.objects.create(event_id=event.pk, agency=ice, role="funder"),
        lambda: refresh_export_cells([event.pk]),
    )
    assert ice.name in ExportCells.objects.get(event=event).agencies
