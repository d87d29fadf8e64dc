"""Writing a batch's new events on a second connection while the importer goes on (PostgreSQL).

After the importer's batch transaction has resolved agencies and vendors and applied updates,
what is left is writing the new events: ``COPY`` of the events and their source records, the
link rows and the foreign-key checks at commit. On PostgreSQL that is mostly the server's
work, and the importer sat waiting for it. ``WriteAhead`` writes those rows in a transaction
of its own, on a thread with its own connection, while the importer prepares the next batch.

One batch at most is in flight. A batch that names a key, match key or base contract of the
batch in flight waits for it first, so it reads what that batch wrote. A write that fails is
handed back with its records, for the importer to redo one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connection, transaction

from scrapers.base import Record
from tracker.models import Event, EventAgency, EventTechnology, EventVendor, SourceRecord
from tracker.services import bulk


@dataclass
class NewRows:
    """A batch's new events as database-ready rows, with ids drawn beforehand."""

    entries: list[tuple[Record, str]]  # the records (and digests) these rows came from
    keys: set[str] = field(default_factory=set)  # match keys and "source\x00external id"s
    event_ids: list[int] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    agency_rows: list[tuple] = field(default_factory=list)
    vendor_rows: list[tuple] = field(default_factory=list)
    technology_rows: list[tuple] = field(default_factory=list)
    sources: list[tuple] = field(default_factory=list)  # with the event id last


def insert_links(
    agency_rows: Sequence[tuple], vendor_rows: Sequence[tuple], technology_rows: Sequence[tuple]
) -> None:
    """The link rows of new events, (event, entity, role or tagging) each."""
    bulk.insert_ignoring_duplicates(EventAgency, ("event", "agency", "role"), agency_rows)
    bulk.insert_ignoring_duplicates(EventVendor, ("event", "vendor", "role"), vendor_rows)
    bulk.insert_ignoring_duplicates(
        EventTechnology, ("event", "technology", "tagged_by", "rule", "evidence"), technology_rows
    )


def write_new(rows: NewRows, event_columns: Sequence[str], source_columns: Sequence[str]) -> None:
    """Write ``rows`` in one transaction on this thread's connection (PostgreSQL)."""
    with transaction.atomic():
        bulk.copy_rows(Event, event_columns, rows.events, rows.event_ids)
        insert_links(rows.agency_rows, rows.vendor_rows, rows.technology_rows)
        bulk.copy_rows(SourceRecord, source_columns, rows.sources)


def _close_connection() -> None:
    connection.close()


class WriteAhead:
    """One background thread writing ``NewRows``, one batch at a time."""

    def __init__(self, event_columns: Sequence[str], source_columns: Sequence[str]) -> None:
        self._columns = (event_columns, source_columns)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="import-writer")
        self._future: Future | None = None
        self._rows: NewRows | None = None

    def busy_with(self, keys: set[str]) -> bool:
        """Does the batch in flight (if any) write one of ``keys``?"""
        return self._rows is not None and not self._rows.keys.isdisjoint(keys)

    def submit(self, rows: NewRows) -> None:
        """Start writing ``rows``; the batch before must have been collected with ``wait``."""
        assert self._future is None, "collect the batch in flight first"
        self._rows = rows
        self._future = self._pool.submit(write_new, rows, *self._columns)

    def wait(self) -> tuple[NewRows, BaseException | None] | None:
        """The batch in flight once written, with the error that stopped it (None if none)."""
        if self._future is None or self._rows is None:
            return None
        future, rows = self._future, self._rows
        self._future = self._rows = None
        return rows, future.exception()

    def close(self) -> None:
        """Stop the thread (after closing its connection); collect the last batch first."""
        assert self._future is None, "collect the batch in flight first"
        self._pool.submit(_close_connection).result()
        self._pool.shutdown()
