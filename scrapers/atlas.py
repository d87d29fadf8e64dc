"""EFF Atlas of Surveillance: one "report" record per (agency, technology) row of the CSV export.

Columns are read by header name because the live export may add columns (FORMATS.md section
9). A download whose first header cell is not AOSNUMBER is an error page, not the data.
Data: EFF and the Reynolds School of Journalism, CC BY 4.0.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

from scrapers.base import (
    AgencyRef,
    Client,
    Page,
    Parsed,
    ParseError,
    Query,
    Record,
    VendorRef,
    page_from,
)
from scrapers.text import clean_text, decode_body, safe_url

NAME = "atlas"
DOWNLOAD_URL = "https://atlasofsurveillance.org/download.csv"
SITE_URL = "https://atlasofsurveillance.org/"
CREDIT = "EFF Atlas of Surveillance (CC BY 4.0)"
REQUIRED = ("AOSNUMBER", "Agency")
LINK_PARTS = ("", " Snapshot", " Source", " Type", " Date")
OPTIONAL = (
    "NEWAOSNUMBER (ORI9)", "City", "County", "State", "Type of LEA", "Summary", "Type of Juris",
    "Technology", "TECH ABV", "Vendor", "Other Links",
    *(f"Link {n}{part}" for n in (1, 2, 3) for part in LINK_PARTS),
)  # fmt: skip
STATE_WORDS = ("state",)
FEDERAL_WORDS = ("federal",)
# University and school police may be state or local agencies, so they are left unset.
LOCAL_WORDS = ("municipal", "county", "city", "town", "village", "parish", "regional", "transit")
# "Motorola Solutions, Inc." must stay one vendor when the cell is split on commas.
_COMPANY_SUFFIX = re.compile(r"(?:inc|llc|l\.l\.c|ltd|corp|co|corporation|company|lp|plc)\.?", re.I)
_VENDOR_SPLIT = re.compile(r"\s*[,;/]\s*|\s+and\s+", re.IGNORECASE)


def fetch(client: Client, query: Query, *, url: str = DOWNLOAD_URL) -> Iterator[Page]:
    """Yield the whole Atlas export as one page (the site offers no paging or filtering)."""
    yield page_from(client.get(url), kind="csv")


def atlas_date(value: str) -> tuple[dt.date, str] | None:
    """Return (date, precision) for "12/27/2012", "4/2016", "2016" or "2016-04-20", else None."""
    text = value.strip()
    try:
        if match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
            month, day, year = map(int, match.groups())
            return dt.date(year, month, day), "day"
        if match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
            return dt.date(*map(int, match.groups())), "day"
        if match := re.fullmatch(r"(\d{1,2})/(\d{4})", text):
            return dt.date(int(match.group(2)), int(match.group(1)), 1), "month"
        if re.fullmatch(r"(?:19|20)\d\d", text):
            return dt.date(int(text), 1, 1), "year"
    except ValueError:
        return None
    return None


def _earliest(dates: list[tuple[dt.date, str]]) -> tuple[dt.date | None, str]:
    """Return the earliest dated source: earliest year first, then the most precise date in it."""
    if not dates:
        return None, "day"
    rank = {"day": 0, "month": 1, "year": 2}
    return min(dates, key=lambda pair: (pair[0].year, rank[pair[1]], pair[0]))


def split_vendors(cell: str) -> list[str]:
    """Return the vendor names in a Vendor cell ("Axon, Motorola Solutions, Inc. and Flock")."""
    names: list[str] = []
    for piece in _VENDOR_SPLIT.split(clean_text(cell)):
        piece = piece.strip()
        if not piece:
            continue
        if names and _COMPANY_SUFFIX.fullmatch(piece):
            names[-1] = f"{names[-1]}, {piece}"
        elif piece.lower() not in (n.lower() for n in names):
            names.append(piece)
    return names


def _level(jurisdiction: str, lea_type: str) -> str:
    """Return federal/state/local from "Type of Juris" (or "Type of LEA"), "" when unclear."""
    for value in (jurisdiction.lower(), lea_type.lower()):
        if any(word in value for word in FEDERAL_WORDS):
            return "federal"
        if any(word in value for word in STATE_WORDS):
            return "state"
        if any(word in value for word in LOCAL_WORDS):
            return "local"
    return ""


def _links(row: dict[str, str]) -> list[dict[str, str]]:
    """Return the row's sources as [{url, snapshot, source, type, date}]."""
    links = []
    for n in (1, 2, 3):
        link = {
            "url": safe_url(row.get(f"Link {n}", "")),
            "snapshot": safe_url(row.get(f"Link {n} Snapshot", "")),
            "source": clean_text(row.get(f"Link {n} Source", "")),
            "type": clean_text(row.get(f"Link {n} Type", "")),
            "date": clean_text(row.get(f"Link {n} Date", "")),
        }
        if link["url"] or link["source"]:
            links.append(link)
    for other in re.split(r"[\s,;|]+", row.get("Other Links", "")):
        if url := safe_url(other):
            links.append({"url": url, "snapshot": "", "source": "", "type": "other", "date": ""})
    return links


def row_record(row: dict[str, str]) -> Record:
    """Return the record for one Atlas row; raises ValueError without AOSNUMBER or Agency."""
    aos, agency = clean_text(row.get("AOSNUMBER")), clean_text(row.get("Agency"))
    if not aos:
        raise ValueError("row has no AOSNUMBER")
    if not agency:
        raise ValueError(f"row {aos}: no Agency")
    technology = clean_text(row.get("Technology"))
    lea_type = clean_text(row.get("Type of LEA"))
    links = _links(row)
    dated = [d for link in links if (d := atlas_date(link["date"]))]
    date, precision = _earliest(dated)
    summary = clean_text(row.get("Summary"))
    return Record(
        source=NAME,
        external_id=aos,
        kind="report",
        title=f"{agency} uses {technology or 'surveillance technology'}",
        url=next((link["url"] for link in links if link["url"]), SITE_URL),
        raw=row,
        date=date,
        date_precision=precision,
        summary=summary,
        text=summary,
        agencies=[
            AgencyRef(
                name=agency,
                role="buyer",
                level=_level(clean_text(row.get("Type of Juris")), lea_type),
                country="US",
                state=clean_text(row.get("State")),
                place=clean_text(row.get("City")),
                agency_type=lea_type,
            )
        ],
        vendors=[VendorRef(name=name) for name in split_vendors(row.get("Vendor", ""))],
        technology_hints=[technology] if technology else [],
        extra={
            "links": links,
            "county": clean_text(row.get("County")),
            "jurisdiction_type": clean_text(row.get("Type of Juris")),
            "ori9": clean_text(row.get("NEWAOSNUMBER (ORI9)")),
            "credit": CREDIT,
        },
    )


def _header(first: list[str]) -> list[str]:
    """Return the cleaned header row; raises ParseError unless it starts with AOSNUMBER."""
    header = [clean_text(cell).strip('"') for cell in first]
    if not header or header[0] != "AOSNUMBER":
        raise ParseError("not the Atlas CSV: first header cell is not AOSNUMBER (an error page?)")
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ParseError(f"Atlas CSV lacks required columns: {', '.join(missing)}")
    return header


def parse(page: Page) -> Parsed:
    """Return one record per data row of the Atlas CSV export."""
    charset = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", page.content_type or "", re.I)
    text = decode_body(page.body, charset.group(1) if charset else None).replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _header(next(reader, []))
    except csv.Error as exc:
        raise ParseError(f"not the Atlas CSV: {exc}") from None
    parsed = Parsed()
    parsed.drift.extend(f"column {name!r} missing" for name in OPTIONAL if name not in header)
    known = {*REQUIRED, *OPTIONAL}
    parsed.drift.extend(f"new column {name!r}" for name in header if name and name not in known)
    seen: set[str] = set()
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            row: dict[str, Any] = {}
            for name, cell in zip(header, cells, strict=False):
                row.setdefault(name, cell)
            try:
                record = row_record(row)
            except ValueError as exc:
                parsed.problems.append(f"line {reader.line_num}: {exc}")
                continue
            if record.external_id in seen:
                parsed.problems.append(f"line {reader.line_num}: duplicate {record.external_id}")
                continue
            seen.add(record.external_id)
            parsed.records.append(record)
    except csv.Error as exc:
        parsed.problems.append(f"line {reader.line_num}: CSV error, rest of file skipped: {exc}")
    return parsed
