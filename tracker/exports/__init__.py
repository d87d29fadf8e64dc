"""Event and entity exports: CSV and JSON Lines streams, the bulk files, their views and URLs.

``rows`` streams ``event_search`` results as CSV or JSON Lines; ``columns`` names and
describes every column; ``cells`` holds the CSV link cells; ``outcomes`` the outcome column;
``bulk`` the whole-database files; ``views``, ``urls`` and ``limits`` the web side.
"""

from tracker.exports.bulk import (
    BULK_DATASETS,
    BULK_NAMES,
    ENTITY_EXPORTS,
    bulk_exports_write,
    entity_columns,
)
from tracker.exports.cells import EVIDENCE_SEPARATOR, refresh_export_cells
from tracker.exports.columns import DICTIONARY, ENTITY_DESCRIPTIONS, LIST_SEPARATOR, parallel_groups
from tracker.exports.rows import BOM, COLUMNS, FORMATS, event_outcome_message, export_rows

__all__ = [
    "BOM",
    "BULK_DATASETS",
    "BULK_NAMES",
    "COLUMNS",
    "DICTIONARY",
    "ENTITY_DESCRIPTIONS",
    "ENTITY_EXPORTS",
    "EVIDENCE_SEPARATOR",
    "FORMATS",
    "LIST_SEPARATOR",
    "bulk_exports_write",
    "entity_columns",
    "event_outcome_message",
    "export_rows",
    "parallel_groups",
    "refresh_export_cells",
]
