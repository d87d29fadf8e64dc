"""CSV and JSON Lines exports of ``event_search`` results, streamed chunk by chunk.

Events are read with one streaming query; each chunk of ids then costs a handful of bulk
queries (agencies, vendors, technologies, sources and, for pitch-like rows, the outcome),
so memory stays flat and the query count grows with the number of chunks, not of rows.
CSV takes a faster path (``_csv_chunks``): the link cells arrive pre-joined, in the
documented order, stored with each event (``ExportCells``) or, for events without stored
cells, from one aggregate query per chunk; JSON Lines and the bulk files build records with
lists (``event_records``). Either way a record is an ``ExportRecord`` (named as the columns),
and ``csv_cells`` is the one place a CSV row is made spreadsheet-safe. Id lists are bound as
one parameter so every chunk reuses one prepared statement.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from functools import cache
from itertools import chain
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, connections
from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast
from django.urls import reverse

from tracker.exports.cells import (
    NO_CELLS,
    PITCH_VENDOR_ROLES,
    STORED_COLUMNS,
    LinkCells,
    evidence_cell,
    link_cells,
)
from tracker.exports.columns import COLUMN_NAMES, LIST_SEPARATOR, ExportRecord
from tracker.exports.outcomes import (  # noqa: F401 - batched re-exported
    OutcomeMessages,
    batched,
    id_list,
    ids_param,
    ids_subquery,
    streaming_cursor,
    top_id,
    unknown,
)
from tracker.models import (
    Agency,
    Event,
    Technology,
    Vendor,
)
from tracker.selectors import EventFilters, event_search
from tracker.services.outcomes import PITCH_KINDS

COLUMNS = COLUMN_NAMES
FORMATS = ("csv", "jsonl")
CHUNK_SIZE = 2000
SEPARATOR = LIST_SEPARATOR
# Excel reads a CSV file as UTF-8 only when it starts with this byte-order mark; pandas'
# read_csv, csvkit and R's readr skip it; Python's csv module wants encoding="utf-8-sig".
BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet (CSV injection, OWASP).
FORMULA_CHARS = "=+-@\t\r"
NUMERIC_COLUMNS = frozenset({"id", "amount"})  # numbers: "-12.00" stays as it is
EVENT_FIELDS = (
    "id",
    "date",
    "date_precision",
    "kind",
    "title",
    "summary",
    "amount",
    "currency",
    "review_state",
)
URL_PLACEHOLDER = 987654321
STORED_ID = len(EVENT_FIELDS)  # where the stored cells start in a ``_csv_chunks`` row


def csv_line(values: Iterable[Any]) -> str:
    """One RFC 4180 line (CRLF-terminated) for ``values``."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


class EntityNames:
    """Names, slugs and paths of the agencies, vendors and technologies one export meets.

    Filled a chunk at a time with one query per kind for the ids not seen yet, so link
    queries only read the link tables' covering indexes.
    """

    def __init__(self, outcomes: OutcomeMessages, *, with_outcomes: bool = True) -> None:
        self.outcomes = outcomes
        self.with_outcomes = with_outcomes
        self.agencies: dict[int, tuple[str, str]] = {}
        self.vendors: dict[int, tuple[str, str, str]] = {}
        self.technologies: dict[int, str] = {}

    def load(self, agency_ids: set[int], vendor_ids: set[int], technology_ids: set[int]) -> None:
        if missing := unknown(agency_ids, self.agencies):
            for pk, name, slug, path, acronym, top, sub, fpds in Agency.objects.filter(
                pk__in=id_list(missing)
            ).values_list(
                "id", "name", "slug", "path", "acronym", "toptier_code", "subtier_code", "fpds_id"
            ):
                self.agencies[pk] = (name, slug)
                self.outcomes.remember_agency(pk, path, bool(top or sub or fpds), acronym or name)
        if missing := unknown(vendor_ids, self.vendors):
            for pk, name, slug, path in Vendor.objects.filter(pk__in=id_list(missing)).values_list(
                "id", "name", "slug", "path"
            ):
                self.vendors[pk] = (name, slug, path)
        if missing := unknown(technology_ids, self.technologies):
            self.technologies.update(
                Technology.objects.filter(pk__in=id_list(missing)).values_list("id", "name")
            )


LINKS_SQL = (
    "SELECT 0, event_id, agency_id, role, NULL, NULL FROM tracker_eventagency"
    " WHERE event_id IN ({ids})"
    " UNION ALL SELECT 1, event_id, vendor_id, role, NULL, NULL FROM tracker_eventvendor"
    " WHERE event_id IN ({ids})"
    " UNION ALL SELECT 2, event_id, technology_id, tagged_by, CAST(evidence AS TEXT), NULL"
    " FROM tracker_eventtechnology WHERE event_id IN ({ids})"
    " UNION ALL SELECT 3, event_id, NULL, source, external_id, url FROM tracker_sourcerecord"
    " WHERE event_id IN ({ids})"
)


def _links(ids: list[int]) -> tuple[dict, dict, list, dict, dict]:
    """Agency, vendor, technology and source links of the events ``ids`` in one query.

    Technology links are (technology id, tagged_by, evidence as JSON text).
    """
    agencies: dict[int, list[int]] = defaultdict(list)
    vendors: dict[int, list[int]] = defaultdict(list)
    vendor_roles: list[tuple[int, int, str]] = []
    technologies: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    sources: dict[int, list[tuple]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            LINKS_SQL.format(ids=ids_subquery(connection.vendor)),
            [ids_param(ids, connection.vendor)] * 4,
        )
        for kind, event_id, pk, text, external_id, url in cursor.fetchall():
            if kind == 0:
                agencies[event_id].append(pk)
            elif kind == 1:
                vendors[event_id].append(pk)
                vendor_roles.append((event_id, pk, text))
            elif kind == 2:
                technologies[event_id].append((pk, text, external_id))
            else:
                sources[event_id].append((text, external_id, url))
    return agencies, vendors, vendor_roles, technologies, sources


def _chunk_records(rows: list[tuple], names: EntityNames, url: str) -> list[ExportRecord]:
    """Full export records (column order, lists for multi-valued cells) for one chunk.

    Lists are as ``tracker.exports.columns`` describes them: technologies and sources each
    once; agencies and vendors one per entity beside their ids; source records one per
    record, URLs beside "source:external id".

    ``rows`` hold ``EVENT_FIELDS`` with the date as ISO text and the amount as text.
    """
    agencies, vendors, vendor_roles, technologies, sources = _links([row[0] for row in rows])
    names.load(
        set(chain.from_iterable(agencies.values())),
        set(chain.from_iterable(vendors.values())),
        {tag[0] for tag in chain.from_iterable(technologies.values())},
    )
    agency_names, vendor_names, technology_names = names.agencies, names.vendors, names.technologies
    no_links: list = []

    def by_name(found: list[int], table: dict) -> list[int]:
        return sorted(set(found), key=lambda pk: (table[pk][0], pk))

    pitch_rows = {}
    records = []
    append = records.append
    with_outcomes = names.with_outcomes
    for event_id, date, precision, kind, title, summary, amount, currency, review in rows:
        linked_agencies = agencies.get(event_id, no_links)
        if len(linked_agencies) > 1:
            linked_agencies = by_name(linked_agencies, agency_names)
        linked_vendors = vendors.get(event_id, no_links)
        if len(linked_vendors) > 1:
            linked_vendors = by_name(linked_vendors, vendor_names)
        linked_sources = sources.get(event_id, no_links)
        if len(linked_sources) > 1:
            linked_sources.sort()
        if with_outcomes and kind in PITCH_KINDS:
            pitch_rows[event_id] = (date, precision, linked_agencies)
        agency_rows = [agency_names[pk] for pk in linked_agencies]
        vendor_rows = [vendor_names[pk] for pk in linked_vendors]
        linked_technologies = technologies.get(event_id, no_links)
        append(
            ExportRecord(
                event_id,
                date,
                precision,
                kind,
                title,
                summary,
                amount,
                currency,
                [a[0] for a in agency_rows],
                [a[1] for a in agency_rows],
                [v[0] for v in vendor_rows],
                [v[1] for v in vendor_rows],
                sorted({technology_names[tag[0]] for tag in linked_technologies})
                if linked_technologies
                else no_links,
                sorted({s[0] for s in linked_sources}),
                [s[2] for s in linked_sources],
                [f"{s[0]}:{s[1]}" for s in linked_sources],
                review,
                url.format(event_id),
                None,
                evidence_cell((technology_names[pk], *tag) for pk, *tag in linked_technologies)
                if linked_technologies
                else None,
            )
        )
    if pitch_rows:
        pitch_vendors: dict[int, set[int]] = defaultdict(set)
        for event_id, pk, role in vendor_roles:
            if event_id in pitch_rows and role in PITCH_VENDOR_ROLES:
                pitch_vendors[event_id].add(pk)
        messages = names.outcomes.messages(
            [
                (
                    event_id,
                    date,
                    precision,
                    linked,
                    [
                        top_id(vendor_names[pk][2])
                        for pk in by_name(list(pitch_vendors[event_id]), vendor_names)
                    ],
                )
                for event_id, (date, precision, linked) in pitch_rows.items()
            ]
        )
        records = [
            record._replace(outcome=messages[record.id]) if record.id in messages else record
            for record in records
        ]
    return records


def _as_text(rows: Iterable[tuple]) -> list[tuple]:
    """Raw driver rows of ``EVENT_FIELDS`` with the date and amount as export text.

    SQLite hands back the date as ISO text and the amount as a number (two decimals, as
    Django's own converter gives); PostgreSQL hands back a date and a Decimal.
    """
    converted = []
    for event_id, date, precision, kind, title, summary, amount, currency, review in rows:
        if date is not None and type(date) is not str:
            date = date.isoformat()
        converted.append(
            (event_id, date, precision, kind, title, summary, amount_text(amount), currency, review)
        )
    return converted


def amount_text(amount: Decimal | float | None) -> str | None:
    """An amount as export text: two decimals (SQLite gives a float, PostgreSQL a Decimal)."""
    if amount is None:
        return None
    return str(amount) if type(amount) is Decimal else f"{amount:.2f}"


def event_outcome_message(event_id: int) -> str | None:
    """The outcome cell of one event (None unless pitch-like), exactly as the export has it."""

    def names() -> EntityNames:
        return EntityNames(OutcomeMessages())

    rows = _event_rows(Event.objects.filter(pk=event_id), 1)
    records = [record for chunk in rows for record in _chunk_records(chunk, names(), "{}")]
    return records[0].outcome if records else None


def event_records(
    events: QuerySet[Event], *, chunk_size: int = CHUNK_SIZE, outcomes: bool = True
) -> Iterator[list[ExportRecord]]:
    """Chunks of export records (lists for multi-valued cells) for ``events``, in its order."""
    url = settings.SITE_URL + reverse("event-detail", args=[URL_PLACEHOLDER]).replace(
        str(URL_PLACEHOLDER), "{}"
    )
    entity_names = EntityNames(OutcomeMessages(), with_outcomes=outcomes)
    for chunk in _event_rows(events, chunk_size):
        yield _chunk_records(chunk, entity_names, url)


def _event_rows(events: QuerySet[Event], chunk_size: int) -> Iterator[list[tuple]]:
    """Chunks of ``EVENT_FIELDS`` rows streamed with one server-side (chunked) cursor."""
    query = events.values_list(*EVENT_FIELDS).query
    sql, params = query.get_compiler(events.db).as_sql()
    db = connections[events.db]
    with streaming_cursor(db) as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            yield _as_text(rows)


@cache
def text_columns(columns: tuple[str, ...] = COLUMNS) -> tuple[bool, ...]:
    """For each of ``columns``, whether it holds text (to neutralise) rather than a number."""
    return tuple(name not in NUMERIC_COLUMNS for name in columns)


def joined(record: Sequence[Any]) -> list[Any]:
    """``record`` with each list cell joined with "; " (``SEPARATOR``)."""
    return [SEPARATOR.join(value) if type(value) is list else value for value in record]


def csv_cells(record: Sequence[Any], text: tuple[bool, ...] = text_columns()) -> list[Any]:
    """A record as spreadsheet-safe CSV cells: text that a spreadsheet would run as a formula
    prefixed with an apostrophe (the only place exports neutralise; ``text`` from
    ``text_columns``). A text cell holds a string or None (lists ``joined`` first); numbers
    (the id and the amount) stay as they are.
    """
    return [
        "'" + value if is_text and value and value[0] in FORMULA_CHARS else value
        for value, is_text in zip(record, text, strict=True)
    ]


def format_chunk(
    records: Sequence[Sequence[Any]], fmt: str, columns: tuple[str, ...] = COLUMNS
) -> str:
    """A chunk of records as CSV lines or JSON Lines (one object keyed by ``columns`` a line)."""
    if fmt == "csv":
        buffer = io.StringIO()
        text = text_columns(columns)
        csv.writer(buffer, lineterminator="\r\n").writerows(
            csv_cells(joined(record), text) for record in records
        )
        return buffer.getvalue()
    return "".join(
        orjson.dumps(dict(zip(columns, record, strict=True))).decode() + "\n" for record in records
    )


def _ids(text: str | None) -> list[int]:
    return [int(pk) for pk in text.split(",")] if text else []


def _pitch_messages(
    pitches: dict[int, tuple[str | None, str, str | None, str | None]], outcomes: OutcomeMessages
) -> dict[int, str]:
    """Outcome messages of a chunk's pitch-like rows, from (date, precision, agency ids,
    pitching vendor ids) with the ids as their cells hold them."""
    families = outcomes.families_of([_ids(vendors) for *_, vendors in pitches.values()])
    return outcomes.messages(
        [
            (event_id, date, precision, _ids(agencies), pitch_families)
            for (event_id, (date, precision, agencies, _)), pitch_families in zip(
                pitches.items(), families, strict=True
            )
        ]
    )


def _csv_chunks(
    events: QuerySet[Event], *, chunk_size: int, outcomes: bool, progress: Callable | None
) -> Iterator[str]:
    """CSV text per chunk of ``events``: one streaming query, and few queries per chunk.

    The link cells come with the events, from ``ExportCells``; only events without stored
    cells cost an aggregate query (``link_cells``). Each row then costs ``csv_cells`` and
    ``csv.writer``.
    """
    url = settings.SITE_URL + reverse("event-detail", args=[URL_PLACEHOLDER]).replace(
        str(URL_PLACEHOLDER), "{}"
    )
    messages = OutcomeMessages()
    # The date as text in SQL: the driver's per-row date converter cost more than the query.
    fields = [name if name != "date" else "date_text" for name in EVENT_FIELDS]
    stored = ["export_cells__event_id", *(f"export_cells__{name}" for name in STORED_COLUMNS)]
    query = events.annotate(date_text=Cast("date", CharField())).values_list(*fields, *stored).query
    sql, params = query.get_compiler(events.db).as_sql()
    db = connections[events.db]
    text = text_columns()
    with streaming_cursor(db) as cursor, db.cursor() as links:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            # A row: EVENT_FIELDS, then the stored cells' event id (None: not stored) and cells.
            missing = [row[0] for row in rows if row[STORED_ID] is None]
            computed = link_cells(links, missing) if missing else {}
            pitches = {}
            records = []
            append = records.append
            for row in rows:
                (event_id, date, precision, kind, title, summary, amount, currency, review,
                 stored_id, *stored_cells) = row  # fmt: skip
                cells = (
                    LinkCells(*stored_cells)
                    if stored_id is not None
                    else computed.get(event_id, NO_CELLS)
                )
                if outcomes and kind in PITCH_KINDS:
                    pitches[event_id] = (date, precision, cells.agency_pks, cells.pitch_vendor_pks)
                append(
                    ExportRecord(
                        event_id, date, precision, kind, title, summary, amount_text(amount),
                        currency, cells.agencies, cells.agency_ids, cells.vendors,
                        cells.vendor_ids, cells.technologies, cells.sources, cells.source_urls,
                        cells.external_ids, review, url.format(event_id), None,
                        cells.technology_evidence,
                    )
                )  # fmt: skip
            if pitches:
                found = _pitch_messages(pitches, messages)
                records = [
                    record._replace(outcome=found[record.id]) if record.id in found else record
                    for record in records
                ]
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\r\n").writerows(
                csv_cells(record, text) for record in records
            )
            yield buffer.getvalue()
            if progress is not None:
                progress(len(records))


def export_rows(
    filters: EventFilters,
    *,
    fmt: str = "csv",
    header: bool = True,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], object] | None = None,
    outcomes: bool = True,
    bom: bool = False,
) -> Iterator[str]:
    """The events ``event_search(filters)`` finds, as text: a CSV header, then one string per chunk.

    ``fmt`` is "csv" or "jsonl"; ``progress`` is called with the number of rows of each chunk;
    ``outcomes=False`` leaves the outcome column empty (it roughly halves the cost of a large
    export with many pitch-like rows); ``bom`` starts a CSV header with the UTF-8 byte-order
    mark, for spreadsheets (``BOM``).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if header and fmt == "csv":
        yield (BOM if bom else "") + csv_line(COLUMNS)
    # Every row is read, so the smallest entity filter drives even when it is broad.
    events = event_search(filters, drive_limit=None)
    if fmt == "csv":
        yield from _csv_chunks(events, chunk_size=chunk_size, outcomes=outcomes, progress=progress)
        return
    for records in event_records(events, chunk_size=chunk_size, outcomes=outcomes):
        yield format_chunk(records, fmt)
        if progress is not None:
            progress(len(records))
