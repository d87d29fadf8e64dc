"""USAspending.gov API v2: contract and IDV awards, their details and modification history.

Three page kinds come back: award search pages (one row per award), award details, and
transaction pages (one row per modification). Awards are keyed by USAspending's
``generated_internal_id`` (CONT_AWD_<PIID>_<agency>_<parent PIID>_<parent agency>, or
CONT_IDV_<PIID>_<agency>), whose parts give the same ``match_key`` FPDS gives the base
action, so the importer folds the two sources together.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from scrapers.base import Client, Page, Parsed, ParseError, Query, Record, load_json, page_from
from scrapers.http import HTTPStatusError
from scrapers.usaspending_records import (
    NAME,
    BadRow,
    detail_record,
    search_record,
    transaction_record,
)

log = logging.getLogger(__name__)

__all__ = ["NAME", "fetch", "parse"]

API = "https://api.usaspending.gov"
PAGE_SIZE = 100
# Page-number paging fails (HTTP 422) once page*limit passes this; the keyset cursor is needed.
RESULT_WINDOW = 50_000
EARLIEST_DATE = dt.date(2007, 10, 1)  # searches cannot start earlier
CONTRACT_CODES = ("A", "B", "C", "D")
IDV_CODES = ("IDV_A", "IDV_B", "IDV_B_A", "IDV_B_B", "IDV_B_C", "IDV_C", "IDV_D", "IDV_E")
COMMON_FIELDS = (
    "Award ID", "Recipient Name", "Recipient UEI", "Recipient DUNS Number", "Award Amount",
    "Description", "Start Date", "End Date", "Last Modified Date", "Awarding Agency",
    "Awarding Agency Code", "Awarding Sub Agency", "Awarding Sub Agency Code", "Funding Agency",
    "Funding Agency Code", "Funding Sub Agency", "Funding Sub Agency Code",
    "Contract Award Type", "NAICS", "PSC",
)  # fmt: skip
# Award type groups are never mixed in one search: each allows a different field set.
GROUPS = {
    "contracts": (CONTRACT_CODES, (*COMMON_FIELDS, "Base Obligation Date")),
    "idvs": (IDV_CODES, (*COMMON_FIELDS, "Last Date to Order")),
}
# Sorting on a numeric column gives a cursor value that round-trips as the API documents.
SORT_FIELD = "Award Amount"
SEARCH_FIELDS_EXPECTED = (
    "generated_internal_id", "Award ID", "Recipient Name", "Award Amount", "Description",
    "Awarding Agency", "Awarding Sub Agency",
)  # fmt: skip
TRANSACTION_FIELDS_EXPECTED = (
    "id", "modification_number", "action_date", "federal_action_obligation", "description",
)  # fmt: skip
DETAIL_FIELDS_EXPECTED = (
    "generated_unique_award_id", "piid", "description", "total_obligation", "date_signed",
    "recipient", "awarding_agency",
)  # fmt: skip
_AGENCY_CODE = re.compile(r"^[0-9A-Z]{3,4}$")


# -- fetch ----------------------------------------------------------------------------------


def _window(query: Query, today: dt.date) -> tuple[dt.date, dt.date]:
    """Return the last-modified date range asked for: yesterday when the query names none."""
    if query.since is None and query.until is None:
        return today - dt.timedelta(days=1), today - dt.timedelta(days=1)
    until = query.until or today
    return max(query.since or until, EARLIEST_DATE), until


def _filter_sets(query: Query) -> list[dict[str, Any]]:
    """Return one filter per alternative (keywords, PSC codes, NAICS codes): OR across them.

    The API ANDs different filter keys, so the keyword list, the PSC list and the NAICS
    list each get their own search; the keywords inside one list are ORed by the API.
    """
    sets: list[dict[str, Any]] = []
    if keywords := [k for k in query.keywords if k.strip()]:
        sets.append({"keywords": keywords})
    if psc := [c for c in query.psc_codes if c.strip()]:
        sets.append({"psc_codes": psc})
    if naics := [c for c in query.naics_codes if c.strip()]:
        sets.append({"naics_codes": {"require": naics}})
    return sets or [{}]


def _agency_filter(query: Query) -> list[dict[str, str]]:
    """Return the agencies filter: the API matches agency *names*, so bare codes are not sent."""
    return [
        {"type": "awarding", "tier": "subtier", "name": name}
        for name in query.agency_codes
        if name.strip() and not _AGENCY_CODE.match(name.strip())
    ]


def _search_payload(
    filters: dict[str, Any], fields: tuple[str, ...], page: int, size: int, cursor: tuple | None
) -> dict[str, Any]:
    """Return one spending_by_award request body."""
    payload: dict[str, Any] = {
        "filters": filters,
        "fields": list(fields),
        "limit": size,
        "page": page,
        "sort": SORT_FIELD,
        "order": "desc",
    }
    if cursor:
        payload["last_record_unique_id"], payload["last_record_sort_value"] = cursor
    return payload


def _decode(page: Page) -> Any:
    """Return the decoded JSON body; raise ParseError for any undecodable body."""
    try:
        return load_json(page)
    except ValueError as exc:  # load_json lets int-size limit errors (4300+ digits) through
        raise ParseError(f"invalid JSON: {exc}") from None


def _page_metadata(page: Page) -> tuple[dict[str, Any], list[Any]]:
    """Return (page_metadata, results) of a fetched page; empty when it cannot be read."""
    try:
        data = _decode(page)
    except ParseError:
        return {}, []  # parse() reports the broken page; fetch just stops that series
    if not isinstance(data, dict):
        return {}, []
    meta = data.get("page_metadata")
    results = data.get("results")
    return (meta if isinstance(meta, dict) else {}), (results if isinstance(results, list) else [])


def _award_pages(client: Client, base_url: str, award_id: str, size: int) -> Iterator[Page]:
    """Yield one award's detail page, then its transaction pages in action-date order."""
    detail_url = f"{base_url}/api/v2/awards/{quote(award_id, safe='')}/"
    yield page_from(client.get(detail_url), kind="detail", award_id=award_id)
    number = 1
    while True:
        body = {"award_id": award_id, "page": number, "limit": size}
        body |= {"sort": "action_date", "order": "asc"}
        page = page_from(
            client.post_json(f"{base_url}/api/v2/transactions/", body),
            kind="transactions",
            award_id=award_id,
            page=number,
        )
        yield page
        meta, results = _page_metadata(page)
        if not meta.get("hasNext") or not results:
            return
        number += 1


def _search_series(
    client: Client, base_url: str, filters: dict[str, Any], fields: tuple[str, ...], size: int,
    window: int, group: str,
) -> Iterator[Page]:  # fmt: skip
    """Yield the search pages of one filter, by page number, then by cursor past the window."""
    url = f"{base_url}/api/v2/search/spending_by_award/"
    number, cursor = 1, None
    while True:
        payload = _search_payload(filters, fields, number, size, cursor)
        page = page_from(client.post_json(url, payload), kind="search", group=group, page=number)
        yield page
        meta, results = _page_metadata(page)
        if not meta.get("hasNext") or not results:
            return
        number += 1
        if cursor or number * size > window:
            last_id, last_value = (
                meta.get("last_record_unique_id"),
                meta.get("last_record_sort_value"),
            )
            if last_id is None or last_value in (None, "None"):
                return  # no cursor to continue from: stopping beats an HTTP 422
            cursor = (last_id, last_value)


def _award_ids(page: Page) -> list[str]:
    """Return the generated award ids on a search page, in order."""
    _, results = _page_metadata(page)
    return [
        row["generated_internal_id"]
        for row in results
        if isinstance(row, dict) and isinstance(row.get("generated_internal_id"), str)
    ]


def fetch(
    client: Client,
    query: Query,
    *,
    base_url: str = API,
    page_size: int = PAGE_SIZE,
    result_window: int = RESULT_WINDOW,
    today: dt.date | None = None,
) -> Iterator[Page]:
    """Yield search pages (contracts, then IDVs), each followed by its awards' details/history."""
    base_url = base_url.rstrip("/")
    since, until = _window(query, today or dt.datetime.now(dt.UTC).date())
    common: dict[str, Any] = {
        "time_period": [
            {"start_date": f"{since}", "end_date": f"{until}", "date_type": "last_modified_date"}
        ]
    }
    if agencies := _agency_filter(query):
        common["agencies"] = agencies
    seen: set[str] = set()
    search_pages = 0
    for group, (codes, fields) in GROUPS.items():
        for extra in _filter_sets(query):
            filters = {**common, **extra, "award_type_codes": list(codes)}
            series = _search_series(
                client, base_url, filters, fields, page_size, result_window, group
            )
            for page in series:
                yield page
                search_pages += 1
                for award_id in _award_ids(page):
                    if award_id not in seen:
                        seen.add(award_id)
                        try:
                            yield from _award_pages(client, base_url, award_id, page_size)
                        except HTTPStatusError as exc:
                            # One award's detail or history is refused: keep its search row
                            # and go on with the others.
                            log.warning("usaspending: award %s skipped: %s", award_id, exc)
                if query.max_pages is not None and search_pages >= query.max_pages:
                    return


# -- parse ----------------------------------------------------------------------------------


def _drift(rows: list[dict[str, Any]], expected: tuple[str, ...], what: str) -> list[str]:
    """Return one note per expected field that no row carries (renamed or dropped upstream)."""
    if not rows:
        return []
    return [f"{what} lack {name!r}" for name in expected if not any(name in r for r in rows)]


def _row_label(row: dict[str, Any], number: int) -> str:
    """Return how a problem names a row: its own id when it has a usable one."""
    for key in ("generated_internal_id", "id", "Award ID", "internal_id"):
        value = row.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:120]
    return f"row {number}"


def _sniff(data: dict[str, Any], meta_kind: str) -> str:
    """Return "detail", "search" or "transactions" for a decoded page; raise ParseError."""
    if "generated_unique_award_id" in data or ("piid" in data and "category" in data):
        return "detail"
    if "results" not in data:
        raise ParseError("no 'results' in the response (not a search or transactions page)")
    results = data["results"]
    if not isinstance(results, list):
        raise ParseError(f"'results' is a {type(results).__name__}, not a list")
    first = next((row for row in results if isinstance(row, dict)), None)
    if first is not None:
        if "modification_number" in first or "federal_action_obligation" in first:
            return "transactions"
        if {"generated_internal_id", "Award ID", "internal_id"} & first.keys():
            return "search"
    if meta_kind in ("search", "transactions"):
        return meta_kind
    if first is None and "page_metadata" in data:
        return "search"  # an empty page: nothing to read either way
    raise ParseError("rows are neither award-search rows nor transactions")


def parse(page: Page) -> Parsed:
    """Return the records of a search, award-detail or transactions page (sniffed from the body)."""
    data = _decode(page)
    if not isinstance(data, dict):
        raise ParseError(f"expected a JSON object, got {type(data).__name__}")
    kind = _sniff(data, str(page.meta.get("kind", "")))
    parsed = Parsed()
    if kind == "detail":
        parsed.drift = [
            f"award detail lacks {k!r}" for k in DETAIL_FIELDS_EXPECTED if k not in data
        ]
        try:
            parsed.records.append(detail_record(data))
        except BadRow as exc:
            parsed.problems.append(str(exc))
        return parsed
    rows = [row for row in data["results"] if isinstance(row, dict)]
    award_id = page.meta.get("award_id")
    award_id = award_id if isinstance(award_id, str) else ""
    expected = SEARCH_FIELDS_EXPECTED if kind == "search" else TRANSACTION_FIELDS_EXPECTED
    parsed.drift = _drift(rows, expected, f"{kind} rows")
    for number, row in enumerate(data["results"], start=1):
        if not isinstance(row, dict):
            parsed.problems.append(f"row {number}: not an object")
            continue
        try:
            record: Record | None
            record = search_record(row) if kind == "search" else transaction_record(row, award_id)
        except BadRow as exc:
            parsed.problems.append(f"{_row_label(row, number)}: {exc}")
            continue
        if record is not None:
            parsed.records.append(record)
    return parsed
