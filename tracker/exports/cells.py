"""The CSV export's link cells: computed in SQL a chunk of events at a time, and stored.

``link_cells`` computes, for a chunk of events, the eight link cells of the CSV export
(agencies, agency_ids, vendors, vendor_ids, technologies, sources, source_urls,
external_ids) pre-joined in the documented order (``tracker.exports.columns``: lists of
distinct values, or parallel lists), and the ids the outcome column needs, with one
aggregate query; and the technology_evidence cell (the last column) from the technology
links' evidence with a second. Cells hold the text as it is; ``rows.csv_cell`` alone makes
it spreadsheet-safe, when a row is written.
``refresh_export_cells`` stores them in ``ExportCells`` so a large export reads them with its
events instead of aggregating link rows per chunk; triggers delete a stored row whenever
what it shows changes (see migrations 0008 and 0010). They stay because the benchmark's
``export-unstored`` row (the same export computing every chunk's cells) runs at a half to a
third of the stored rate on both databases, further below the export floor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import orjson
from django.db import connection, transaction

from tracker.exports.outcomes import batched, ids_param, ids_subquery
from tracker.services.tag_review import tag_explanation

CELL_COLUMNS = (
    "agencies",
    "agency_ids",
    "vendors",
    "vendor_ids",
    "technologies",
    "sources",
    "source_urls",
    "external_ids",
)
# Not exported: the ids a pitch-like row's outcome needs, comma-separated in the cells' order
# (agencies by name then id; vendors in a pitching role likewise).
OUTCOME_COLUMNS = ("agency_pks", "pitch_vendor_pks")
# Exported after the outcome column: "<technology>: <why>" per technology, as ordered above.
EVIDENCE_COLUMN = "technology_evidence"
STORED_COLUMNS = (*CELL_COLUMNS, *OUTCOME_COLUMNS, EVIDENCE_COLUMN)
EVIDENCE_SEPARATOR = " | "
# A source record as the external_ids cell names it (``SourceRecord.__str__``): the pair is
# unique, so each entry is, and it says which source its parallel URL belongs to.
RECORD_ID = "(source || ':' || external_id)"
PITCH_VENDOR_ROLES = ("vendor", "client", "awardee")
REFRESH_CHUNK = 2000
# The advisory lock the PostgreSQL triggers of migration 0008 take shared (see there).
CELLS_LOCK = 7310024211


class LinkCells(NamedTuple):
    """One event's stored cells, named as ``STORED_COLUMNS`` (None where nothing is linked)."""

    agencies: str | None = None
    agency_ids: str | None = None
    vendors: str | None = None
    vendor_ids: str | None = None
    technologies: str | None = None
    sources: str | None = None
    source_urls: str | None = None
    external_ids: str | None = None
    agency_pks: str | None = None
    pitch_vendor_pks: str | None = None
    technology_evidence: str | None = None


assert LinkCells._fields == STORED_COLUMNS  # the table's columns, in the same order
NO_CELLS = LinkCells()
# The cells each part of ``joined_links_sql`` fills, by its tag.
TAG_CELLS: dict[int, tuple[str, ...]] = {
    0: ("agencies", "agency_ids", "agency_pks"),
    1: ("vendors", "vendor_ids"),
    2: ("technologies",),
    3: ("source_urls", "external_ids"),
    4: ("pitch_vendor_pks",),
    5: ("sources",),
}


def _ordered_agg(expression: str, order: str, vendor: str) -> str:
    """``expression`` of a group joined with "; " in ``order`` (code-point order on both)."""
    if vendor == "postgresql":
        collated = ", ".join(
            column if column == "id" else f'{column} COLLATE "C"' for column in order.split(", ")
        )
        return f"string_agg({expression}::text, '; ' ORDER BY {collated})"
    return f"group_concat({expression}, '; ')"


def _ordered_ids(order: str, vendor: str) -> str:
    """The ids of a group joined with "," in ``order``, as ``_ordered_agg`` orders."""
    if vendor == "postgresql":
        collated = ", ".join(
            column if column == "id" else f'{column} COLLATE "C"' for column in order.split(", ")
        )
        return f"string_agg(id::text, ',' ORDER BY {collated})"
    return "group_concat(id, ',')"


def joined_links_sql(vendor: str) -> str:
    """One query: per event of a chunk, its link cells pre-joined in the documented order.

    Rows are (tag, event id, three cells): tag 0 agencies (names, slugs, ids), 1 vendors
    (names, slugs), 2 technologies (distinct names), 3 source records (URLs and
    "source:external id", parallel), 4 the ids of the vendors in a pitching role, 5 the
    distinct sources. Agencies and vendors are ordered by name then id (names, slugs and ids
    alike), technologies and sources by name, source records by source then external id.
    SQLite (no ORDER BY inside aggregates before 3.44) concatenates the rows of an ordered
    subquery, which it never flattens into an aggregate; PostgreSQL orders inside
    ``string_agg``. The ids are one bound parameter (``ids_param``), six times.
    """
    ordered = vendor != "postgresql"

    def entity(tag: int, link: str, table: str, fk: str, ids: bool) -> str:
        rows = (
            f"SELECT DISTINCT l.event_id, t.name, t.id, t.slug FROM {link} l"  # noqa: S608 - constant names
            f" JOIN {table} t ON t.id = l.{fk} WHERE l.event_id IN ({{ids}})"
        )
        return (
            f"SELECT {tag}, event_id, {_ordered_agg('name', 'name, id', vendor)},"  # noqa: S608
            f" {_ordered_agg('slug', 'name, id', vendor)},"
            f" {_ordered_ids('name, id', vendor) if ids else 'NULL'}"
            f" FROM ({rows}{' ORDER BY 1, 2, 3' if ordered else ''}) x GROUP BY event_id"
        )

    roles = ", ".join(f"'{role}'" for role in PITCH_VENDOR_ROLES)
    pitching = (
        "SELECT DISTINCT l.event_id, t.name, t.id FROM tracker_eventvendor l"  # noqa: S608
        " JOIN tracker_vendor t ON t.id = l.vendor_id WHERE l.event_id IN ({ids})"
        f" AND l.role IN ({roles})"
    )

    # Two technologies may share a name: the cell lists each name once.
    technologies = (
        "SELECT DISTINCT l.event_id, t.name FROM tracker_eventtechnology l"
        " JOIN tracker_technology t ON t.id = l.technology_id WHERE l.event_id IN ({ids})"
    )
    records = (
        "SELECT event_id, source, external_id, url FROM tracker_sourcerecord"
        " WHERE event_id IN ({ids})"
    )
    sources = "SELECT DISTINCT event_id, source FROM tracker_sourcerecord WHERE event_id IN ({ids})"
    record_order = "source, external_id, url"
    return " UNION ALL ".join(
        [
            entity(0, "tracker_eventagency", "tracker_agency", "agency_id", True),
            entity(1, "tracker_eventvendor", "tracker_vendor", "vendor_id", False),
            f"SELECT 2, event_id, {_ordered_agg('name', 'name', vendor)}, NULL, NULL"  # noqa: S608
            f" FROM ({technologies}{' ORDER BY 1, 2' if ordered else ''}) x GROUP BY event_id",
            f"SELECT 3, event_id, {_ordered_agg('url', record_order, vendor)},"  # noqa: S608
            f" {_ordered_agg(RECORD_ID, record_order, vendor)}, NULL"
            f" FROM ({records}{' ORDER BY 1, 2, 3, 4' if ordered else ''}) x GROUP BY event_id",
            f"SELECT 4, event_id, {_ordered_ids('name, id', vendor)}, NULL, NULL"  # noqa: S608
            f" FROM ({pitching}{' ORDER BY 1, 2, 3' if ordered else ''}) x GROUP BY event_id",
            f"SELECT 5, event_id, {_ordered_agg('source', 'source', vendor)}, NULL, NULL"  # noqa: S608
            f" FROM ({sources}{' ORDER BY 1, 2' if ordered else ''}) x GROUP BY event_id",
        ]
    ).format(ids=ids_subquery(vendor))


# The evidence as text: one type in both databases, and PostgreSQL's jsonb read as is.
EVIDENCE_SQL = (
    "SELECT l.event_id, t.name, l.tagged_by, CAST(l.evidence AS TEXT)"
    " FROM tracker_eventtechnology l JOIN tracker_technology t ON t.id = l.technology_id"
    " WHERE l.event_id IN ({ids})"
)


def evidence_cell(tags: Iterable[tuple[str, str, str | list]]) -> str | None:
    """The technology_evidence cell of (technology name, tagged_by, evidence) tags.

    Ordered by name like the technologies cell (code points, as both databases order it);
    the evidence may be a list or its JSON text. None when there is no tag.
    """
    parts = sorted(
        (name, tag_explanation(orjson.loads(evidence) if type(evidence) is str else evidence, by))
        for name, by, evidence in tags
    )
    if not parts:
        return None
    return EVIDENCE_SEPARATOR.join(f"{name}: {why}" for name, why in parts)


def link_cells(cursor: Any, ids: Sequence[int]) -> dict[int, LinkCells]:
    """{event id: its ``LinkCells``}.

    Events of ``ids`` with no link at all are left out.
    """
    vendor = cursor.db.vendor
    cursor.execute(EVIDENCE_SQL.format(ids=ids_subquery(vendor)), [ids_param(ids, vendor)])
    tags: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for event_id, *tag in cursor.fetchall():
        tags[event_id].append(tag)
    cursor.execute(joined_links_sql(vendor), [ids_param(ids, vendor)] * 6)
    found: dict[int, dict[str, Any]] = defaultdict(dict)
    for tag, event_id, *values in cursor.fetchall():
        found[event_id].update(zip(TAG_CELLS[tag], values, strict=False))
    for event_id, event_tags in tags.items():
        found[event_id]["technology_evidence"] = evidence_cell(event_tags)
    return {event_id: LinkCells(**cells) for event_id, cells in found.items()}


_UPSERT = (
    f"INSERT INTO tracker_exportcells (event_id, {', '.join(STORED_COLUMNS)}) {{rows}}"
    f" ON CONFLICT (event_id) DO UPDATE SET"
    f" {', '.join(f'{column} = excluded.{column}' for column in STORED_COLUMNS)}"
)
# SQLite: one row per parameter set (executemany); PostgreSQL: a whole chunk as column arrays.
UPSERT_SQL = {
    "sqlite": _UPSERT.format(rows=f"VALUES ({', '.join(['%s'] * (len(STORED_COLUMNS) + 1))})"),
    "postgresql": _UPSERT.format(
        rows="SELECT * FROM unnest(%s::bigint[], "  # noqa: S608 - placeholders only
        + ", ".join(["%s::text[]"] * len(STORED_COLUMNS))
        + ")"
    ),
}
WINDOW_SQL = "SELECT id FROM tracker_event WHERE id > %s ORDER BY id LIMIT %s"


def _store(ids: Sequence[int]) -> int:
    """Compute and store the cells of the events ``ids`` that still exist; how many."""
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        # PostgreSQL: no change to what the cells show commits while they are computed and
        # stored (the triggers take ``CELLS_LOCK`` shared), and the events are locked against
        # deletion. SQLite has one writer at a time.
        lock = ""
        if vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CELLS_LOCK])
            lock = " FOR KEY SHARE"
        cursor.execute(
            f"SELECT id FROM tracker_event WHERE id IN ({ids_subquery(vendor)}){lock}",  # noqa: S608
            [ids_param(ids, vendor)],
        )
        existing = [row[0] for row in cursor.fetchall()]
        if not existing:
            return 0
        found = link_cells(cursor, existing)
        rows = [
            (pk, *("" if cell is None else cell for cell in found.get(pk, NO_CELLS)))
            for pk in existing
        ]
        if vendor == "postgresql":
            cursor.execute(UPSERT_SQL[vendor], [list(column) for column in zip(*rows, strict=True)])
        else:
            cursor.executemany(UPSERT_SQL[vendor], rows)
    return len(existing)


def refresh_export_cells(
    event_ids: Iterable[int] | None = None,
    *,
    chunk_size: int = REFRESH_CHUNK,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Store the export cells of ``event_ids`` (recomputed even where stored), or, when None,
    of every event without stored cells; the number of events written.

    Each chunk is its own transaction, during which changes to links, sources and entity
    names wait (PostgreSQL; see migration 0008), so stored cells are never older than a
    committed change.
    """
    written = 0
    if event_ids is not None:
        for chunk in batched(sorted(set(event_ids)), chunk_size):
            written += _store(chunk)
            if progress is not None:
                progress(len(chunk))
        return written
    # Windows of event ids in order, then those without cells: a single anti-join query per
    # chunk (ids above the last one, without cells, LIMIT n) was planned as a full anti-join.
    vendor = connection.vendor
    stored_sql = (
        f"SELECT event_id FROM tracker_exportcells WHERE event_id IN ({ids_subquery(vendor)})"  # noqa: S608
    )
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(WINDOW_SQL, [last, chunk_size])
            window = [row[0] for row in cursor.fetchall()]
            if not window:
                return written
            cursor.execute(stored_sql, [ids_param(window, vendor)])
            stored = {row[0] for row in cursor.fetchall()}
        if missing := [pk for pk in window if pk not in stored]:
            written += _store(missing)
        last = window[-1]
        if progress is not None:
            progress(len(window))
