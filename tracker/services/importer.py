"""The one importer: plain records in, events with their links and provenance out.

Parse (the source module) → resolve → tag (``linking``) → upsert, one transaction per batch,
with the ORM's bulk operations on the caller's connection. Idempotent by (source, external
id): a record whose content hash is unchanged is a no-op; a changed one updates its event; a
new one inserts (or joins the event another source already reported under the same
``match_key``). A crash loses at most the batch in flight and never leaves half of one
visible; a rerun converges.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction

from scrapers.base import Record, record_hash
from tracker.models import (
    Agency,
    ContractAction,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    ScrapeRun,
    SourceRecord,
    Vendor,
)
from tracker.services.bulk import PlannerStatistics, rows_insert
from tracker.services.entities import vendors_flag_near_matches
from tracker.services.linking import TEXT_MINED, Linker, Links, link_rows, links_save
from tracker.services.record_fields import (
    base_key,
    clean,
    event_update,
    event_values,
    source_record_new,
    source_record_store,
)

__all__ = ["TEXT_MINED", "ImportCounts", "Importer", "records_import"]

log = logging.getLogger(__name__)

MAX_ERRORS_KEPT = 200
TALLIES = ("inserted", "updated", "unchanged", "skipped", "failed")
Key = tuple[str, str]  # (source, external id)
# The tables an import writes (events first: their growth decides when to analyze them all).
WRITTEN = (Event, SourceRecord, EventAgency, EventVendor, EventTechnology, ContractAction,
           Vendor, Agency)  # fmt: skip


@dataclass
class ImportCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    event_ids: set[int] = field(default_factory=set)
    vendor_ids: set[int] = field(default_factory=set)

    def error(self, message: str) -> None:
        log.warning(message)
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message[:1000])

    @property
    def summary(self) -> str:
        return (
            f"inserted={self.inserted} updated={self.updated} unchanged={self.unchanged} "
            f"skipped={self.skipped} failed={self.failed}"
        )


@dataclass
class _Batch:
    """What one batch knows: its rows by key, and its new events not written yet."""

    records: dict[Key, SourceRecord]
    events: dict[str, Event]  # by match key
    new: list[tuple[Key, Event, SourceRecord, Links]] = field(default_factory=list)
    waiting: set[Key | str] = field(default_factory=set)  # the new ones' keys and match keys


class Importer:
    """Imports records in transactional batches; feed it with ``add`` and close with ``finish``."""

    def __init__(
        self, *, batch_size: int | None = None, counts: ImportCounts | None = None
    ) -> None:
        self.batch_size = batch_size or settings.IMPORT_BATCH_SIZE
        self.counts = counts or ImportCounts()
        self.linker = Linker()
        self.statistics = PlannerStatistics(WRITTEN)
        self._batch: list[Record] = []
        self._touched: set[int] = set()  # events of the open transaction, counted at commit

    def add(self, record: Record) -> None:
        self._batch.append(record)
        if len(self._batch) >= self.batch_size:
            self.flush()

    def add_many(self, records: Iterable[Record]) -> None:
        for record in records:
            self.add(record)

    def finish(self) -> ImportCounts:
        """Import what is queued, propose the organisations named in text; the counts."""
        self.flush()
        self.linker.mentions.save()
        self.linker.reset()
        self.counts.vendor_ids |= self.linker.vendors_created
        return self.counts

    def flush(self) -> None:
        """Import the queued records in one transaction; if one spoils it, one by one."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        before = {name: getattr(self.counts, name) for name in TALLIES}
        try:
            self._import_batch(batch)
        except (DatabaseError, ValueError, ArithmeticError) as exc:
            for name, value in before.items():
                setattr(self.counts, name, value)
            self.counts.error(f"batch of {len(batch)} retried one by one: {exc}")
            for record in batch:
                self._import_alone(record)

    def _import_alone(self, record: Record, attempts: int = 2) -> None:
        """Import one record in its own transaction; a unique-key race is retried once."""
        for attempt in range(attempts):
            try:
                self._import_batch([record])
                return
            except (DatabaseError, ValueError, ArithmeticError) as exc:
                if isinstance(exc, IntegrityError) and attempt + 1 < attempts:
                    continue  # another import inserted the same key first: now it's an update
                self.counts.failed += 1
                self.counts.error(
                    f"{record.source} {record.external_id} ({record.url}): not saved: {exc}"
                )
                return

    def _import_batch(self, records: list[Record]) -> None:
        """Upsert ``records`` in order, in one transaction; its events are counted once it
        commits, and the resolvers forget what it wrote if it rolls back."""
        inserted = self.counts.inserted
        try:
            with transaction.atomic():
                batch = _look_up(records)
                for record in records:
                    self._import_record(record, batch)
                self._write_new(batch)
        except BaseException:
            self._touched = set()
            self.linker.reset()
            raise
        self.counts.event_ids |= self._touched
        self._touched = set()
        self.statistics.grown(self.counts.inserted - inserted)

    def _import_record(self, record: Record, batch: _Batch) -> None:
        key = (record.source, record.external_id)
        if batch.waiting & {key, record.match_key, base_key(record)}:
            self._write_new(batch)  # this record reads an event new in this batch
        digest = record_hash(record)
        partial = bool(record.extra.get("partial"))
        variant = str(record.extra.get("variant") or ("partial" if partial else ""))
        known = batch.records.get(key)
        if known is not None and known.raw.get("_hashes", {}).get(variant) == digest:
            self.counts.unchanged += 1
        elif partial:
            self._apply_partial(record, known, digest, variant)
        elif known is None and record.match_key not in batch.events:
            links = self.linker.links(record, None)
            if links is None:
                self.counts.skipped += 1
                return
            event = Event(**event_values(record), match_key=record.match_key or None)
            batch.new.append((key, event, source_record_new(record, digest, variant), links))
            batch.waiting |= {key, record.match_key} - {""}
        else:
            self._write_new(batch)  # an update writes the queued vendors: new links first
            event = known.event if known else batch.events[record.match_key]
            batch.records[key] = self._apply(record, event, known, digest, variant)

    def _write_new(self, batch: _Batch) -> None:
        """Write the batch's new events, their links and source records with bulk inserts."""
        if not batch.new:
            return
        real = self.linker.vendors.commit()  # provisional vendor ids → the rows just written
        rows_insert([event for _, event, _, _ in batch.new])
        links = []
        for key, event, source_record, asked in batch.new:
            links.append(link_rows(event, asked, real))
            source_record.event = event
            batch.records[key] = source_record
            if event.match_key:
                batch.events[event.match_key] = event
            self._touched.add(event.pk)
        links_save(links, new_events=True)
        rows_insert([source for _, _, source, _ in batch.new])
        self.counts.inserted += len(batch.new)
        batch.new, batch.waiting = [], set()

    def _apply_partial(
        self, record: Record, known: SourceRecord | None, digest: str, variant: str
    ) -> None:
        """A partial record (e.g. a notice's description) fills in fields of a known event."""
        if known is None:
            self.counts.skipped += 1
            self.counts.error(
                f"{record.source} {record.external_id}: partial record for an unknown item"
            )
            return
        event = _locked(known.event, known)
        changed = []
        for name, value in (("summary", clean(record.summary)), ("body_text", clean(record.text))):
            if value and getattr(event, name) != value:
                setattr(event, name, value)
                changed.append(name)
        if changed:
            event.save(update_fields=[*changed, "updated_at"])
        source_record_store(record, event, known, digest, variant)
        self.counts.updated += 1
        self._touched.add(event.pk)

    def _apply(
        self, record: Record, event: Event, known: SourceRecord | None, digest: str, variant: str
    ) -> SourceRecord:
        """Update an existing event from a changed record (or a second source's record)."""
        _locked(event, known)
        links = self.linker.links(record, event)
        real = self.linker.vendors.commit()
        stored = source_record_store(record, event, known, digest, variant)
        event_update(event, event_values(record), stored, variant)
        links_save([link_rows(event, links, real)], new_events=False)
        self.counts.updated += 1
        self._touched.add(event.pk)
        return stored


def _locked(event: Event, known: SourceRecord | None) -> Event:
    """Read ``event`` (and its source record) again under a row lock on the event.

    Another import's update of the event is waited for and seen, so which source's value wins
    (and which variants a source record keeps) does not depend on which import ran first.
    """
    event.refresh_from_db(from_queryset=Event.objects.select_for_update())
    if known is not None:
        known.refresh_from_db(fields=["raw", "url"])
    return event


def records_import(records: Iterable[Record], *, run: ScrapeRun | None = None) -> ImportCounts:
    """Import records (see ``Importer``), then flag new vendors' near matches for review."""
    importer = Importer()
    importer.add_many(records)
    counts = importer.finish()
    vendors_flag_near_matches(counts.vendor_ids)
    if run is not None:
        for name in TALLIES:
            setattr(run, name, getattr(counts, name))
        run.errors = counts.errors
        run.save()
    return counts


def _look_up(records: list[Record]) -> _Batch:
    """The batch's known source records (with their events) and events by match key."""
    by_source: dict[str, list[str]] = {}
    for record in records:
        by_source.setdefault(record.source, []).append(record.external_id)
    keys = {record.match_key for record in records if record.match_key}
    events = {e.match_key: e for e in Event.objects.filter(match_key__in=keys)} if keys else {}
    known = {}
    for source, ids in by_source.items():
        rows = SourceRecord.objects.filter(source=source, external_id__in=ids)
        for row in rows.select_related("event"):
            row.event = events.get(row.event.match_key, row.event)  # one instance per event
            known[(row.source, row.external_id)] = row
    return _Batch(records=known, events=events)
