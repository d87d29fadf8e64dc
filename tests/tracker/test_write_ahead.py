"""PostgreSQL: new events written ahead on a second connection while the next batch is prepared
give what writing them in the batch's own transaction gives, and a failed write loses nothing."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection

from tests.tracker.test_importer import award
from tracker.models import Event, SourceRecord
from tracker.services import writer
from tracker.services.importer import Importer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="writing ahead is for PostgreSQL only"
    ),
]


def records(count: int, **changes) -> list:
    """Awards, with every third one a modification (naming no one) of the award before it."""
    made = []
    for n in range(count):
        modification = n % 3 == 2
        piid = f"70CMSD21F{n - 1 if modification else n:07d}"
        made.append(
            award(
                external_id=f"CONT_AWD_{piid}_{n}",
                kind="modification" if modification else "award",
                title=f"FACE RECOGNITION SERVICES {n}",
                amount=Decimal(1000 + n),
                date=dt.date(2021, 1, 1) + dt.timedelta(days=n),
                match_key=f"contract:7012:{piid}:{1 if modification else 0}:-NONE-",
                **({"agencies": [], "vendors": []} if modification else {}),
                **changes,
            )
        )
    return made


def snapshot() -> list[tuple]:
    """The imported events as their sources, fields and links, without ids."""
    rows = []
    for event in Event.objects.prefetch_related("agencies", "vendors", "technologies", "sources"):
        rows.append(
            (
                sorted(s.external_id for s in event.sources.all()),
                event.kind, event.title, event.date, event.amount, event.match_key,
                sorted(a.slug for a in event.agencies.all()),
                sorted(v.slug for v in event.vendors.all()),
                sorted(t.slug for t in event.technologies.all()),
            )
        )  # fmt: skip
    return sorted(rows, key=repr)


def run(made: list, settings, *, ahead: bool, batch_size: int = 4):
    settings.IMPORT_WRITE_AHEAD = ahead
    importer = Importer(batch_size=batch_size)
    importer.add_many(made)
    return importer.finish()


def _clear(event_ids: set[int]) -> None:
    SourceRecord.objects.filter(event_id__in=event_ids).delete()
    Event.objects.filter(id__in=event_ids).delete()


def test_written_ahead_equals_written_in_the_batch(starter, settings, monkeypatch):
    submitted = []
    submit = writer.WriteAhead.submit
    monkeypatch.setattr(
        writer.WriteAhead, "submit", lambda self, rows: (submitted.append(rows), submit(self, rows))
    )
    made = records(30)
    before = set(Event.objects.values_list("id", flat=True))
    ahead = run(made, settings, ahead=True)
    assert len(submitted) >= 6  # the batches did go through the writer
    assert (ahead.inserted, ahead.failed, ahead.errors) == (30, 0, [])
    assert len(ahead.event_ids) == 30
    assert set(ahead.event_ids) == set(Event.objects.values_list("id", flat=True)) - before
    written_ahead = snapshot()
    assert any(row[1] == "modification" and row[6] for row in written_ahead)  # inherited links
    submitted_ahead = len(submitted)
    _clear(ahead.event_ids)
    in_batch = run(made, settings, ahead=False)
    assert (in_batch.inserted, in_batch.errors) == (30, [])
    assert snapshot() == written_ahead
    assert len(submitted) == submitted_ahead  # writing in the batch does not use the writer


def test_a_batch_naming_the_one_in_flight_waits_for_it(starter, settings, monkeypatch):
    write_new = writer.write_new

    def slow(rows, *columns):
        time.sleep(0.5)  # still in flight while the next batch is read
        return write_new(rows, *columns)

    monkeypatch.setattr(writer, "write_new", slow)
    first = records(2)  # two awards: the first batch, written ahead
    changed = replace(first[0], amount=Decimal("5.00"))
    # The second batch updates the first one's first record and folds a record of another
    # source into its second event (the same match key): it must read them, not insert them.
    later = records(2, source="fpds")[1:]
    counts = run([*first, changed, *later], settings, ahead=True, batch_size=2)
    assert (counts.inserted, counts.updated, counts.errors) == (2, 2, [])
    assert len(counts.event_ids) == 2
    assert sorted(e.sources.count() for e in Event.objects.filter(id__in=counts.event_ids)) == [
        1, 2,
    ]  # fmt: skip


def test_a_failed_write_is_redone_record_by_record(starter, settings, monkeypatch):
    write_new = writer.write_new
    calls = []

    def fail_once(rows, *columns):
        calls.append(len(rows.events))
        if len(calls) == 2:
            raise DatabaseError("connection lost mid-write")
        return write_new(rows, *columns)

    monkeypatch.setattr(writer, "write_new", fail_once)
    counts = run(records(12), settings, ahead=True)
    assert counts.inserted == 12 and counts.failed == 0
    assert any("retried one by one: connection lost mid-write" in e for e in counts.errors)
    assert len(counts.event_ids) == 12
    assert SourceRecord.objects.filter(event_id__in=counts.event_ids).count() == 12


def test_inside_a_callers_transaction_nothing_is_written_ahead(starter, settings, monkeypatch):
    from django.db import transaction

    monkeypatch.setattr(writer.WriteAhead, "submit", lambda self, rows: pytest.fail("wrote ahead"))
    with transaction.atomic():
        counts = run(records(9), settings, ahead=True)
    assert counts.inserted == 9
