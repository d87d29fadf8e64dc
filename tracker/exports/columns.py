"""The event export's columns, in order, with what each holds: the single source of the CSV
header, the JSON Lines keys and the data dictionary on the Data page.

A multi-valued cell is either a list of distinct values ("list") or one of a group of
parallel lists ("parallel": the n-th entries of the group's columns describe the same
agency, vendor or source record, so a value may repeat there and an entry may be empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from tracker.exports.cells import EVIDENCE_SEPARATOR
from tracker.models import DATE_PRECISIONS, EVENT_KINDS

LIST_SEPARATOR = "; "


@dataclass(frozen=True)
class Column:
    """One export column: its name, what a cell holds, and how a multi-valued cell is built."""

    name: str
    description: str
    values: str = "one"  # "one", "list" (distinct values) or "parallel"
    parallel: tuple[str, ...] = ()  # the columns a parallel list lines up with

    @property
    def group(self) -> tuple[str, ...]:
        """This column and those it is parallel to, in export order."""
        return tuple(sorted((self.name, *self.parallel), key=COLUMN_NAMES.index))


def _choices(values: tuple[str, ...]) -> str:
    return ", ".join(values[:-1]) + " or " + values[-1]


DICTIONARY: tuple[Column, ...] = (
    Column("id", "Spyglass event number; stable, and the end of the event's page address."),
    Column(
        "date",
        "ISO 8601 date (YYYY-MM-DD). A month- or year-precise date is the first day of that "
        "month or year. Blank when unknown.",
    ),
    Column("date_precision", f"How precise the date is: {_choices(DATE_PRECISIONS)}."),
    Column("kind", f"What happened: {_choices(EVENT_KINDS)}."),
    Column("title", "Short description."),
    Column("summary", "Longer description (may be blank)."),
    Column(
        "amount",
        "Obligated or stated amount: a plain number with two decimals, negative for a "
        "de-obligation. Blank when unknown.",
    ),
    Column("currency", "ISO 4217 currency code, usually USD."),
    Column(
        "agencies",
        "Names of the agencies linked to the event (buyers, funders, requesters, those "
        "pitched to), ordered by name. Two different agencies can share a name: "
        "agency_ids tells them apart.",
        "parallel",
        ("agency_ids",),
    ),
    Column(
        "agency_ids",
        "The same agencies' ids (slugs, as in /agencies/<id>/ and the API), one per agency.",
        "parallel",
        ("agencies",),
    ),
    Column(
        "vendors",
        "Names of the vendors linked to the event (awardees, lobbying clients, "
        "intermediaries), ordered by name.",
        "parallel",
        ("vendor_ids",),
    ),
    Column(
        "vendor_ids",
        "The same vendors' ids (slugs, as in /vendors/<id>/ and the API), one per vendor.",
        "parallel",
        ("vendors",),
    ),
    Column("technologies", "Technologies tagged on the event, each once, by name.", "list"),
    Column(
        "sources",
        "The sources the event's records come from, each once: usaspending, fpds, sam, "
        "sam_awards, lda, muckrock, documentcloud, news, atlas or curator.",
        "list",
    ),
    Column(
        "source_urls",
        "Each source record's link, one per record (ordered as external_ids); an entry is "
        "empty when the record has no link.",
        "parallel",
        ("external_ids",),
    ),
    Column(
        "external_ids",
        "Each source record as source:identifier (the record's id in that source, e.g. "
        "usaspending:CONT_AWD_…), one per record, ordered by source then identifier.",
        "parallel",
        ("source_urls",),
    ),
    Column(
        "review_state",
        "auto (imported, not yet checked by a curator), needs_review or verified.",
    ),
    Column("url", "The event's page on Spyglass, with every source record and its raw data."),
    Column(
        "outcome",
        "For pitches, meetings, solicitations and lobbying: what followed between the "
        "agency and the vendor (the contract actions found, or none as of the day of the "
        "export). Blank for other kinds.",
    ),
    Column(
        "technology_evidence",
        "Why each technology was tagged, as “technology: reasons”, one entry per tag in "
        f"the order of technologies, separated by “{EVIDENCE_SEPARATOR}” (e.g. “Face "
        "recognition: vendor Clearview AI is a face recognition vendor”).",
    ),
)
COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in DICTIONARY)


class ExportRecord(NamedTuple):
    """One exported event, a field per column. Multi-valued cells are lists, or (CSV) text
    already joined with ``LIST_SEPARATOR``."""

    id: int
    date: str | None
    date_precision: str
    kind: str
    title: str
    summary: str
    amount: str | None
    currency: str
    agencies: Any
    agency_ids: Any
    vendors: Any
    vendor_ids: Any
    technologies: Any
    sources: Any
    source_urls: Any
    external_ids: Any
    review_state: str
    url: str
    outcome: str | None
    technology_evidence: str | None


assert ExportRecord._fields == COLUMN_NAMES  # the header and the record agree


def parallel_groups() -> list[tuple[str, ...]]:
    """The groups of parallel list columns, each in export order, in the order they appear."""
    groups: list[tuple[str, ...]] = []
    for column in DICTIONARY:
        if column.values == "parallel" and column.group not in groups:
            groups.append(column.group)
    return groups


# The agency, vendor and technology bulk files' columns (``bulk.entity_columns``), by
# name; a name the bulk files use must be here (tests/web/test_data_page.py).
ENTITY_DESCRIPTIONS: dict[str, str] = {
    "slug": "The id (as in the page and API addresses, and in the event files' *_ids columns).",
    "name": "Name.",
    "acronym": "Acronym, when the agency has one.",
    "parent": "The id (slug) of the parent agency, parent company or broader technology.",
    "level": "federal, state, local or foreign.",
    "agency_type": "The kind of agency, as its source names it, when known.",
    "country": "ISO 3166 two-letter country code.",
    "state": "US state (two-letter code), for state and local agencies.",
    "place": "City or county, for local agencies.",
    "toptier_code": "USAspending toptier agency code.",
    "subtier_code": "USAspending subtier agency code.",
    "fpds_id": "FPDS agency id.",
    "uei": "SAM.gov Unique Entity ID.",
    "duns": "DUNS number (the identifier used before the UEI).",
    "cage": "CAGE code.",
    "website": "Website.",
    "atlas_category": "The Atlas of Surveillance technology category it matches, if any.",
    "description": "What the technology is.",
    "aliases": f"Other names the sources use, separated by “{LIST_SEPARATOR}”.",
    "url": "Its page on Spyglass.",
}
