"""The one importer: plain records in, events with their links and provenance out.

Idempotent by (source, external id): a record whose content hash is unchanged is a no-op; a
changed one updates its event; a new one inserts (or joins the event that another source
already reported under the same ``match_key``). Each batch is one transaction, so a crash
loses at most the batch in flight and never leaves half of one visible; a rerun converges.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import orjson
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from scrapers.base import RawJSON, Record, raw_value, record_hash
from tracker.models import (
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    ScrapeRun,
    SourceRecord,
    TagRejection,
)
from tracker.services import bulk
from tracker.services.classifier import Tagger, inherited_evidence
from tracker.services.entities import AgencyResolver, VendorResolver, vendors_flag_near_matches
from tracker.services.organisations import Mentions
from tracker.services.tagging import EntityFinder
from tracker.services.writer import NewRows, WriteAhead, insert_links

log = logging.getLogger(__name__)

# Which source's version of an event's fields wins when several report it (lower wins).
SOURCE_PRIORITY = {
    "curator": 0,
    "usaspending": 1,
    "fpds": 2,
    "sam_awards": 3,
    "sam": 4,
    "lda": 5,
    "muckrock": 6,
    "documentcloud": 7,
    "atlas": 8,
    "news": 9,
}
# Sources whose free text is searched for known agencies, vendors and products.
TEXT_MINED = {"news", "muckrock", "documentcloud"}
# Sources that cannot filter by topic: items naming nothing we track are skipped.
UNFILTERED = {"news"}
EVENT_FIELDS = (
    "kind",
    "date",
    "date_precision",
    "title",
    "summary",
    "body_text",
    "amount",
    "currency",
    "codes",
)
MAX_ERRORS_KEPT = 200
TALLIES = ("inserted", "updated", "unchanged", "skipped", "failed")
KINDS = frozenset(Event.Kind.values)
MAX_AMOUNT = Decimal("1e16")  # Event.amount holds 18 digits, 2 after the point


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


def _clean(value: Any) -> Any:
    """Strip NUL bytes, which PostgreSQL refuses in text."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _json_safe(value: Any) -> Any:
    """``value`` as plain JSON types, without NUL bytes."""
    dumped = orjson.dumps(value, default=str)
    loaded = orjson.loads(dumped)
    return _clean(loaded) if b"\\u0000" in dumped else loaded


def _raw_json(raw: Any, variant: str, digest: str) -> str:
    """A new record's stored payload, ``{variant: raw, "_hashes": {variant: digest}}``, as
    JSON text serialised once (``_json_safe`` and ``json_value`` would do it three times)."""
    dumped = raw if isinstance(raw, RawJSON) else orjson.dumps(raw, default=str)
    if b"\\u0000" in dumped:
        dumped = orjson.dumps(_clean(orjson.loads(dumped)))
    key = orjson.dumps(variant or "record")
    hashes = orjson.dumps({variant: digest})
    return (b"{" + key + b":" + dumped + b',"_hashes":' + hashes + b"}").decode()


@dataclass
class _Pending:
    """New events of a batch (as database-ready rows), written with a few bulk inserts."""

    events: list[tuple] = field(default_factory=list)
    agency_links: list[set] = field(default_factory=list)
    vendor_links: list[set] = field(default_factory=list)
    technologies: list[dict] = field(default_factory=list)
    sources: list[tuple] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)
    key_set: set[tuple[str, str]] = field(default_factory=set)  # ``keys``, for ``in``
    match_keys: dict[str, int] = field(default_factory=dict)
    entries: list[tuple[Record, str]] = field(default_factory=list)  # the records, with digests


EVENT_COLUMNS = (*EVENT_FIELDS, "review_state", "match_key", "created_at", "updated_at")
SOURCE_COLUMNS = ("source", "external_id", "url", "raw", "content_hash", "retrieved_at", "event")


class Importer:
    """Imports records in transactional batches; feed it with ``add`` and close with ``finish``."""

    def __init__(
        self, *, batch_size: int | None = None, counts: ImportCounts | None = None
    ) -> None:
        self.batch_size = batch_size or settings.IMPORT_BATCH_SIZE
        self.counts = counts or ImportCounts()
        self._batch: list[tuple[Record, str]] = []
        self._writer: WriteAhead | None = None
        self._ready: NewRows | None = None  # a committed batch's new events, to write ahead
        self.mentions = Mentions()  # unknown organisations named in text, proposed at the end

    def add(self, record: Record, digest: str = "") -> None:
        """Queue ``record``; ``digest`` is its ``record_hash`` when already known."""
        self._batch.append((record, digest))
        if len(self._batch) >= self.batch_size:
            self.flush()

    def add_many(self, records: Iterable[Record], hashes: Sequence[str] = ()) -> None:
        """Queue ``records``; ``hashes`` are their ``record_hash``es, if a worker computed them."""
        if not hashes:
            for record in records:
                self.add(record)
            return
        for record, digest in zip(records, hashes, strict=True):
            self.add(record, digest)

    def finish(self) -> ImportCounts:
        self.flush()
        self.close()
        self.mentions.save()
        if "vendors" in self.__dict__:
            self.counts.vendor_ids |= self.vendors.created
        return self.counts

    def close(self) -> None:
        """Wait for the batch being written ahead (if any) and stop the writer."""
        self._settle()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        defer = self._writes_ahead()
        if self._writer is not None and self._writer.busy_with(_keys(batch)):
            self._settle()  # this batch reads what the one in flight writes
        # Only the tallies (``asdict`` would copy the ever-growing id sets every batch).
        before = {name: getattr(self.counts, name) for name in TALLIES}
        try:
            with transaction.atomic():
                self._import_batch(batch, defer=defer)
        except (DatabaseError, ValueError, ArithmeticError) as exc:
            # One bad row spoiled the batch: redo it record by record, each in its own
            # transaction, so only the offending records are lost.
            self._ready = None
            self._reset_caches()
            for name, value in before.items():
                setattr(self.counts, name, value)
            self.counts.error(f"batch of {len(batch)} retried one by one: {exc}")
            for entry in batch:
                self._import_alone(entry)
            return
        if self._ready is not None:
            ready, self._ready = self._ready, None
            self._settle()
            if self._writer is None:
                self._writer = WriteAhead(EVENT_COLUMNS, SOURCE_COLUMNS)
            self._writer.submit(ready)

    def _writes_ahead(self) -> bool:
        """Whether this batch's new events are written on the writer thread: on PostgreSQL,
        unless the import runs inside a caller's transaction (it must then write in it)."""
        return (
            settings.IMPORT_WRITE_AHEAD
            and connection.vendor == "postgresql"
            and not connection.in_atomic_block
        )

    def _settle(self) -> None:
        """Collect the batch written ahead: count it, or redo its records one by one."""
        written = self._writer.wait() if self._writer is not None else None
        if written is None:
            return
        rows, error = written
        if error is None:
            self.counts.event_ids.update(rows.event_ids)
            self.counts.inserted += len(rows.event_ids)
            return
        if not isinstance(error, (DatabaseError, ValueError, ArithmeticError)):
            raise error
        self._reset_caches()
        self.counts.error(f"batch of {len(rows.entries)} new records retried one by one: {error}")
        for entry in rows.entries:
            self._import_alone(entry)

    def _import_alone(self, entry: tuple[Record, str], attempts: int = 2) -> None:
        """Import one record in its own transaction; a unique-key race is retried once."""
        record = entry[0]
        for attempt in range(attempts):
            try:
                with transaction.atomic():
                    self._import_batch([entry])
                return
            except IntegrityError as exc:
                self._reset_caches()
                if attempt + 1 < attempts:
                    continue  # another worker inserted the same key first: now it's an update
                self._record_failed(record, exc)
            except (DatabaseError, ValueError, ArithmeticError) as exc:
                self._reset_caches()
                self._record_failed(record, exc)
                return

    def _record_failed(self, record: Record, exc: Exception) -> None:
        self.counts.failed += 1
        self.counts.error(f"{record.source} {record.external_id} ({record.url}): not saved: {exc}")

    def _reset_caches(self) -> None:
        # Resolver caches may hold rows created inside a rolled-back transaction.
        if "vendors" in self.__dict__:
            self.counts.vendor_ids |= self.vendors.created
        self.__dict__.pop("agencies", None)
        self.__dict__.pop("vendors", None)

    @cached_property
    def agencies(self) -> AgencyResolver:
        return AgencyResolver()

    @cached_property
    def vendors(self) -> VendorResolver:
        return VendorResolver()

    @cached_property
    def tagger(self) -> Tagger:
        return Tagger()

    @cached_property
    def finder(self) -> EntityFinder:
        return EntityFinder()

    def _import_batch(self, batch: list[tuple[Record, str]], *, defer: bool = False) -> None:
        """Import ``batch`` in the current transaction; with ``defer``, the last new events
        are left in ``_ready`` for the writer instead of being written."""
        existing = self._existing({(r.source, r.external_id) for r, _ in batch})
        self._batch_now = bulk.datetime_value(timezone.now())
        keys = [r.match_key for r, _ in batch if r.match_key]
        known = bulk.ids_matching("tracker_event", "match_key", list(dict.fromkeys(keys)))
        by_match: dict[str, Event | int] = (
            {e.match_key: e for e in Event.objects.filter(pk__in=known)} if known else {}
        )
        pending = _Pending()
        for record, digest in batch:
            key = (record.source, record.external_id)
            if key in pending.key_set or self._needs_pending(record, pending):
                self._write_pending(pending, existing, by_match)
                pending = _Pending()
            digest = digest or record_hash(record)
            variant = str(
                record.extra.get("variant") or ("partial" if record.extra.get("partial") else "")
            )
            source_record = existing.get(key)
            if isinstance(source_record, int):  # written earlier in this batch
                source_record = existing[key] = SourceRecord.objects.select_related("event").get(
                    pk=source_record
                )
            if (
                source_record is not None
                and source_record.raw.get("_hashes", {}).get(variant) == digest
            ):
                self.counts.unchanged += 1
            elif record.extra.get("partial"):
                self._apply_partial(record, source_record, digest, variant)
            elif source_record is None and record.match_key not in by_match:
                self._add_new(record, digest, variant, pending)
            else:
                if pending.events:
                    # Updating an event writes the vendors queued so far: write the pending
                    # new events first, so their links get those vendors' real ids.
                    self._write_pending(pending, existing, by_match)
                    pending = _Pending()
                event = source_record.event if source_record else by_match[record.match_key]
                if isinstance(event, int):
                    event = by_match[record.match_key] = Event.objects.get(pk=event)
                existing[key] = self._apply(record, event, source_record, digest, variant)
        self._write_pending(pending, existing, by_match, defer=defer)

    def _needs_pending(self, record: Record, pending: _Pending) -> bool:
        """Does this record depend on an event of the batch that is not written yet?"""
        if not pending.match_keys or not record.match_key:
            return False
        return (
            record.match_key in pending.match_keys or self._base_key(record) in pending.match_keys
        )

    def _add_new(self, record: Record, digest: str, variant: str, pending: _Pending) -> None:
        analysis = self._analyse(record, None)
        if analysis is None:
            return
        tags, agency_links, vendor_links = analysis
        values = self._event_values(record)
        now = self._batch_now
        pending.events.append(
            (
                values["kind"],
                connection.ops.adapt_datefield_value(values["date"]),
                values["date_precision"],
                values["title"],
                values["summary"],
                values["body_text"],
                values["amount"],
                values["currency"],
                bulk.json_value(values["codes"]),
                values["review_state"],
                record.match_key or None,
                now,
                now,
            )
        )
        pending.agency_links.append(agency_links)
        pending.vendor_links.append(vendor_links)
        pending.technologies.append(
            {tech: (rule, tags.evidence.get(tech, [])) for tech, rule in tags.technologies.items()}
        )
        pending.sources.append(
            (
                record.source,
                record.external_id[:500],
                (record.url or "")[:2000],
                _raw_json(record.raw, variant, digest),
                "",
                now,
            )
        )
        pending.keys.append((record.source, record.external_id))
        pending.entries.append((record, digest))
        pending.key_set.add((record.source, record.external_id))
        if record.match_key:
            pending.match_keys[record.match_key] = len(pending.events) - 1

    def _write_pending(
        self,
        pending: _Pending,
        existing: dict[tuple[str, str], SourceRecord | int],
        by_match: dict[str, Event | int],
        *,
        defer: bool = False,
    ) -> None:
        if not pending.events:
            return
        real = self.vendors.commit()
        if defer:
            event_ids = bulk.draw_ids(Event, len(pending.events))
        else:
            event_ids = bulk.insert_returning_ids(Event, EVENT_COLUMNS, pending.events)
        agency_rows, vendor_rows, tech_rows = [], [], []
        for event_id, agencies, vendors, techs in zip(
            event_ids,
            pending.agency_links,
            pending.vendor_links,
            pending.technologies,
            strict=True,
        ):
            agency_rows += [(event_id, agency, role) for agency, role in agencies]
            vendor_rows += [(event_id, real.get(vendor, vendor), role) for vendor, role in vendors]
            tech_rows += [
                (event_id, tech, "rule", rule, bulk.json_value(evidence))
                for tech, (rule, evidence) in techs.items()
            ]
        sources = [
            (*row, event_id) for row, event_id in zip(pending.sources, event_ids, strict=True)
        ]
        if defer:
            self._ready = NewRows(
                entries=pending.entries,
                keys=_keys(pending.entries),
                event_ids=event_ids,
                events=pending.events,
                agency_rows=agency_rows,
                vendor_rows=vendor_rows,
                technology_rows=tech_rows,
                sources=sources,
            )
            return
        insert_links(agency_rows, vendor_rows, tech_rows)
        source_ids = bulk.insert_returning_ids(SourceRecord, SOURCE_COLUMNS, sources)
        for key, source_id in zip(pending.keys, source_ids, strict=True):
            existing[key] = source_id
        for match_key, index in pending.match_keys.items():
            by_match[match_key] = event_ids[index]
        self.counts.event_ids.update(event_ids)
        self.counts.inserted += len(event_ids)

    def _existing(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], SourceRecord]:
        by_source: dict[str, list[str]] = {}
        for source, external_id in keys:
            by_source.setdefault(source, []).append(external_id)
        known: list[int] = []
        for source, ids in by_source.items():
            known += bulk.ids_matching(
                "tracker_sourcerecord", "external_id", ids, where="source = %s AND ",
                params=[source],
            )
        if not known:
            return {}
        rows = SourceRecord.objects.filter(pk__in=known).select_related("event")
        return {(row.source, row.external_id): row for row in rows}

    def _apply_partial(
        self, record: Record, source_record: SourceRecord | None, digest: str, variant: str
    ) -> None:
        """A partial record (e.g. a notice's description) fills in fields of a known event."""
        if source_record is None:
            self.counts.skipped += 1
            self.counts.error(
                f"{record.source} {record.external_id}: partial record for an unknown item"
            )
            return
        event = source_record.event
        changed = []
        for name, value in (("summary", record.summary), ("body_text", record.text)):
            value = _clean(value)
            if value and getattr(event, name) != value:
                setattr(event, name, value)
                changed.append(name)
        if changed:
            event.save(update_fields=[*changed, "updated_at"])
        self._store_source(record, event, source_record, digest, variant)
        self.counts.updated += 1
        self.counts.event_ids.add(event.pk)

    def _analyse(self, record: Record, event: Event | None) -> tuple[Any, set, set] | None:
        """Tags and links a record asks for; None when an unfiltered source's item is off-topic."""
        text = "\n".join(filter(None, [record.title, record.summary, record.text]))
        tags = self.tagger.tag(
            fields={"title": record.title, "summary": record.summary, "text": record.text},
            vendors=[v.name for v in record.vendors],
            codes=_codes(record),
            hints=record.technology_hints,
        )
        rejected = _rejected(event)
        tags.drop(rejected)
        mined = self.finder.find(text) if record.source in TEXT_MINED else None
        if (
            record.source in UNFILTERED
            and event is None
            and not tags.technologies
            and not (mined and mined.vendors)
        ):
            self.counts.skipped += 1
            return None
        agency_links = {(self.agencies.resolve(r).pk, r.role) for r in record.agencies if r.name}
        vendor_links = {(self.vendors.resolve(r), r.role) for r in record.vendors if r.name}
        if not agency_links and not vendor_links:
            agency_links, vendor_links, base = self._base_contract_links(record)
            if base is not None:
                links = base.technology_links.values_list("technology_id", "rule_id")
                for technology, rule in links:
                    if technology not in rejected:
                        tags.add(technology, rule, inherited_evidence(base.title))
        if mined is not None:
            mentioned_role = "pitched-to" if record.kind in ("pitch", "meeting") else "subject"
            agency_links |= {(pk, mentioned_role) for pk in mined.agencies}
            vendor_links |= {(pk, "vendor") for pk in mined.vendors}
            self.mentions.note(record, text)
        return tags, agency_links, vendor_links

    def _apply(
        self,
        record: Record,
        event: Event,
        source_record: SourceRecord | None,
        digest: str,
        variant: str,
    ) -> SourceRecord:
        """Update an existing event from a changed record (or a second source's record)."""
        tags, agency_links, vendor_links = self._analyse(record, event)
        real = self.vendors.commit()
        vendor_links = {(real.get(v, v), role) for v, role in vendor_links}
        self._update_event(event, self._event_values(record), record.source)
        EventAgency.objects.bulk_create(
            [EventAgency(event=event, agency_id=pk, role=role) for pk, role in agency_links],
            ignore_conflicts=True,
        )
        EventVendor.objects.bulk_create(
            [EventVendor(event=event, vendor_id=pk, role=role) for pk, role in vendor_links],
            ignore_conflicts=True,
        )
        EventTechnology.objects.bulk_create(
            [
                EventTechnology(
                    event=event,
                    technology_id=tech,
                    rule_id=rule,
                    tagged_by="rule",
                    evidence=tags.evidence.get(tech, []),
                )
                for tech, rule in tags.technologies.items()
            ],
            ignore_conflicts=True,
        )
        self.counts.updated += 1
        self.counts.event_ids.add(event.pk)
        return self._store_source(record, event, source_record, digest, variant)

    def _event_values(self, record: Record) -> dict[str, Any]:
        if record.amount is not None and (
            not record.amount.is_finite() or abs(record.amount) >= MAX_AMOUNT
        ):
            raise ValueError(
                f"{record.source} {record.external_id}: amount {record.amount} out of range"
            )
        review = Event.Review.NEEDS_REVIEW if record.review else Event.Review.AUTO
        codes = {key: _clean(value) for key, value in _codes(record).items()}
        if record.technology_hints:
            codes["source_technology"] = ";".join(record.technology_hints)
        return {
            "kind": record.kind if record.kind in KINDS else "other",
            "date": record.date,
            "date_precision": record.date_precision,
            "title": _clean((record.title or f"{record.source} {record.external_id}")[:500]),
            "summary": _clean(record.summary),
            "body_text": _clean(record.text) if record.text != record.summary else "",
            "amount": record.amount,
            "currency": (record.currency or "USD")[:3],
            "codes": codes,
            "review_state": review,
        }

    def _update_event(self, event: Event, values: dict[str, Any], source: str) -> None:
        """Apply a source's values: the best-ranked source owns the fields, others fill gaps."""
        rank = SOURCE_PRIORITY.get(source, 99)
        others = event.sources.exclude(source=source).values_list("source", flat=True)
        outranked = any(SOURCE_PRIORITY.get(s, 99) < rank for s in others)
        verified = event.review_state == Event.Review.VERIFIED
        changed = []
        for name in EVENT_FIELDS:
            value = values[name]
            if value in (None, "", {}):
                continue
            current = getattr(event, name)
            if current == value or ((outranked or verified) and current not in (None, "", {})):
                continue
            setattr(event, name, value)
            changed.append(name)
        if (
            values["review_state"] == Event.Review.NEEDS_REVIEW
            and event.review_state == Event.Review.AUTO
        ):
            event.review_state = Event.Review.NEEDS_REVIEW
            changed.append("review_state")
        if changed:
            event.save(update_fields=[*changed, "updated_at"])

    @staticmethod
    def _base_key(record: Record) -> str:
        """The base award's key of a contract modification ("" otherwise).

        Contract keys read ``contract:<agency>:<PIID>:<mod>:<parent IDV>``; mod 0 is the base.
        """
        parts = record.match_key.split(":")
        if record.kind != "modification" or len(parts) != 5 or parts[0] != "contract":
            return ""
        return ":".join([*parts[:3], "0", parts[4]])

    def _base_contract_links(self, record: Record) -> tuple[set, set, Event | None]:
        """A modification that names no one takes its parties (and technologies) from the
        contract's base award."""
        base_key = self._base_key(record)
        base = Event.objects.filter(match_key=base_key).first() if base_key else None
        if base is None:
            return set(), set(), None
        return (
            set(base.agency_links.values_list("agency_id", "role")),
            set(base.vendor_links.values_list("vendor_id", "role")),
            base,
        )

    def _new_source(self, record: Record, digest: str, variant: str) -> SourceRecord:
        return SourceRecord(
            source=record.source,
            external_id=record.external_id[:500],
            url=(record.url or "")[:2000],
            retrieved_at=timezone.now(),
            raw={
                variant or "record": _json_safe(raw_value(record.raw)),
                "_hashes": {variant: digest},
            },
        )

    def _store_source(
        self,
        record: Record,
        event: Event,
        source_record: SourceRecord | None,
        digest: str,
        variant: str,
    ) -> SourceRecord:
        if source_record is None:
            source_record = self._new_source(record, digest, variant)
            source_record.event = event
            source_record.save()
            return source_record
        raw = dict(source_record.raw)
        raw["_hashes"] = {**raw.get("_hashes", {}), variant: digest}
        raw[variant or "record"] = _json_safe(raw_value(record.raw))
        source_record.raw = raw
        source_record.event = event
        source_record.retrieved_at = timezone.now()
        if record.url and not record.extra.get("partial"):
            source_record.url = record.url[:2000]
        source_record.save(update_fields=["raw", "retrieved_at", "url", "event"])
        return source_record


def _keys(entries: Iterable[tuple[Record, str]]) -> set[str]:
    """What records may read or write across batches: their (source, external id), match
    key and base contract's key (``WriteAhead.busy_with``)."""
    keys = set()
    for record, _ in entries:
        keys.add(f"{record.source}\x00{record.external_id}")
        if record.match_key:
            keys.add(record.match_key)
            if base := Importer._base_key(record):
                keys.add(base)
    return keys


def records_import(records: Iterable[Record], *, run: ScrapeRun | None = None) -> ImportCounts:
    """Import records (see ``Importer``), then flag new vendors' near matches for review."""
    importer = Importer()
    importer.add_many(records)
    counts = importer.finish()
    vendors_flag_near_matches(counts.vendor_ids)
    if run is not None:
        for name in ("inserted", "updated", "unchanged", "skipped", "failed"):
            setattr(run, name, getattr(counts, name))
        run.errors = counts.errors
        run.save()
    return counts


def _codes(record: Record) -> dict[str, str]:
    """The record's PSC and NAICS codes with their descriptions, which the tagging rules read."""
    codes = dict(record.codes)
    for name in ("psc_description", "naics_description"):
        if record.extra.get(name):
            codes[name] = str(record.extra[name])
    return codes


def _rejected(event: Event | None) -> set[int]:
    """Technologies a curator rejected for ``event``: no import adds them back."""
    if event is None:
        return set()
    return set(TagRejection.objects.filter(event=event).values_list("technology_id", flat=True))
