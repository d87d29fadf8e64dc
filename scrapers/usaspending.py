"""USAspending.gov API v2: contract, IDV and grant actions, one row per action.

A run pages through ``spending_by_transaction`` searches (one row per action, 100 a page), so
a page of rows gives a page of records: the base action (mod 0) of an award is the award, the
others its modifications. The award id (CONT_AWD_<PIID>_<agency>_<parent PIID>_<parent
agency>, or CONT_IDV_<PIID>_<agency>) gives the same ``match_key`` FPDS gives each action, so
the importer folds the two sources together.

Older page kinds stay readable for saved replays: award search pages (one row per award),
award details and per-award transaction pages.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scrapers.base import (
    Client,
    Page,
    Parsed,
    ParseError,
    Query,
    Record,
    load_json,
    modified_window,
    page_from,
)
from scrapers.http import HTTPStatusError
from scrapers.usaspending_awards import detail_record, search_record, transaction_record
from scrapers.usaspending_fields import NAME, BadRow, text
from scrapers.usaspending_records import action_record

log = logging.getLogger(__name__)

__all__ = ["NAME", "fetch", "parse"]

API = "https://api.usaspending.gov"
SEARCH_PATH = "/api/v2/search/spending_by_transaction/"
PAGE_SIZE = 100  # the endpoint's maximum ``limit``
# Page-number paging is refused (HTTP 422) once (page - 1) * limit reaches this
# (ES_TRANSACTIONS_MAX_RESULT_WINDOW in usaspending_api/settings.py); there is no cursor, so
# a series that reaches it is asked again as two halves of its date window.
RESULT_WINDOW = 50_000
EARLIEST_DATE = dt.date(2007, 10, 1)  # searches cannot start earlier
CONTRACT_CODES = ("A", "B", "C", "D")
IDV_CODES = ("IDV_A", "IDV_B", "IDV_B_A", "IDV_B_B", "IDV_B_C", "IDV_C", "IDV_D", "IDV_E")
GRANT_CODES = ("02", "03", "04", "05")
# The transaction search allows one field set for every award type (TransactionField and
# DerivedField in usaspending_api/search/v2/views/spending_by_transaction.py); it has no
# agency codes, DUNS or parent recipient.
CONTRACT_FIELDS = (
    "Award ID", "Mod", "Action Date", "Action Type", "Award Type", "Transaction Amount",
    "Transaction Description", "Awarding Agency", "Awarding Sub Agency", "Funding Agency",
    "Funding Sub Agency", "Recipient Name", "Recipient UEI", "NAICS", "PSC",
    "Last Date to Order", "generated_internal_id", "internal_id",
)  # fmt: skip
GRANT_FIELDS = (
    "Award ID", "Mod", "Action Date", "Award Type", "Transaction Amount",
    "Transaction Description", "Awarding Agency", "Awarding Sub Agency", "Recipient Name",
    "Recipient UEI", "Recipient Location", "Assistance Listing", "generated_internal_id",
    "internal_id",
)  # fmt: skip
SORT_FIELD = "Transaction Amount"
# Grants are searched once per recipient level, so each recipient government's level is known.
RECIPIENT_LEVELS = {"state": "regional_and_state_government", "local": "local_government"}
# recipient_search_text terms are ORed (query_with_filters._RecipientSearchText); a chunk
# keeps each request's query small.
VENDOR_CHUNK = 20
ACTION_FIELDS_EXPECTED = (
    "generated_internal_id", "Award ID", "Mod", "Action Date", "Transaction Amount",
    "Awarding Agency", "Recipient Name",
)  # fmt: skip
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
_PSC = re.compile(r"^[A-Z0-9]{1,4}$")  # PSCCodesMixin.validation_pattern; shorter = prefix
_KEYWORD = re.compile(r"^.{3,}$", re.DOTALL)  # the keywords filter's text_min is 3
_NAICS = re.compile(r"^(\d{2}|\d{4}|\d{6})$")  # the only lengths the NAICS filter takes


# -- fetch ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sweep:
    """One request series: its filters (ANDed by the API) and what its pages carry."""

    name: str
    filters: dict[str, Any]
    fields: tuple[str, ...] = CONTRACT_FIELDS
    meta: dict[str, str] = field(default_factory=dict)


def _clean(values: tuple[str, ...], pattern: re.Pattern[str] | None = None) -> list[str]:
    """Return the distinct non-empty values; with ``pattern``, only those that match it: the
    API refuses a whole request for one value it cannot search for."""
    out = []
    for value in values:
        value = value.strip()
        if not value or value in out:
            continue
        if pattern and not pattern.match(value):
            log.warning("usaspending: %r cannot be searched for; left out", value)
            continue
        out.append(value)
    return out


def sweeps(query: Query) -> list[Sweep]:
    """Return the request series a query asks for; an empty query field runs no series.

    Keywords; the buying units by PSC and (apart) by NAICS code; the tracked vendors' names
    and UEIs with no other filter, the multi-line vendors' at the buying units only; grants
    of the listed programmes to state and local governments. Contracts and IDVs share one
    series: this endpoint allows mixing them.
    """
    contracts = [*CONTRACT_CODES, *IDV_CODES]
    found: list[Sweep] = []
    if keywords := _clean(query.keywords, _KEYWORD):
        found.append(Sweep("keywords", {"keywords": keywords, "award_type_codes": contracts}))
    # The agencies filter matches names only (query_with_filters._Agencies): codes can't go.
    agencies = [
        {"type": "awarding", "tier": "subtier", "name": name} for name in _clean(query.agency_names)
    ]
    if agencies and (psc := _clean(tuple(c.upper() for c in query.psc_codes), _PSC)):
        filters = {"agencies": agencies, "psc_codes": psc, "award_type_codes": contracts}
        found.append(Sweep("agency-psc", filters))
    if agencies and (naics := _clean(query.naics_codes, _NAICS)):
        filters = {"agencies": agencies, "naics_codes": {"require": naics}}
        found.append(Sweep("agency-naics", {**filters, "award_type_codes": contracts}))
    vendors = _clean(query.vendor_names) + _clean(query.vendor_ueis)
    for start in range(0, len(vendors), VENDOR_CHUNK):
        chunk = vendors[start : start + VENDOR_CHUNK]
        filters = {"recipient_search_text": chunk, "award_type_codes": contracts}
        found.append(Sweep("vendors", filters))
    unit_vendors = _clean(query.unit_vendor_names) + _clean(query.unit_vendor_ueis)
    for start in range(0, len(unit_vendors) if agencies else 0, VENDOR_CHUNK):
        chunk = unit_vendors[start : start + VENDOR_CHUNK]
        filters = {"agencies": agencies, "recipient_search_text": chunk}
        found.append(Sweep("agency-vendors", {**filters, "award_type_codes": contracts}))
    if programs := _clean(query.grant_programs):
        for level, type_name in RECIPIENT_LEVELS.items():
            filters = {
                "program_numbers": programs,
                "recipient_type_names": [type_name],
                "award_type_codes": list(GRANT_CODES),
            }
            found.append(Sweep("grants", filters, GRANT_FIELDS, {"recipient_level": level}))
    return found


def _payload(sweep: Sweep, since: dt.date, until: dt.date, page: int, size: int) -> dict:
    """Return one spending_by_transaction request body."""
    period = {"start_date": f"{since}", "end_date": f"{until}", "date_type": "last_modified_date"}
    return {
        "filters": {"time_period": [period], **sweep.filters},
        "fields": list(sweep.fields),
        "limit": size,
        "page": page,
        "sort": SORT_FIELD,
        "order": "desc",
    }


def _rows(page: Page) -> tuple[dict[str, Any], list[Any]]:
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


def _row_key(row: Any) -> tuple[str, str] | None:
    """Return what names one action across series: its award id and modification number."""
    if not isinstance(row, dict):
        return None
    try:
        return text(row, "generated_internal_id"), text(row, "Mod")
    except BadRow:
        return None


@dataclass(slots=True)
class _Run:
    """What one fetch shares across its series: where to ask, and what was seen."""

    client: Client
    url: str
    size: int
    window: int
    max_pages: int | None
    seen: set[tuple[str, str]] = field(default_factory=set)
    pages: int = 0

    def full(self) -> bool:
        return self.max_pages is not None and self.pages >= self.max_pages

    def series(self, sweep: Sweep, since: dt.date, until: dt.date) -> Iterator[Page]:
        """Yield one sweep's pages over a date window; a window too big to page is halved."""
        number = 1
        while not self.full():
            body = _payload(sweep, since, until, number, self.size)
            try:
                response = self.client.post_json(self.url, body)
            except HTTPStatusError as exc:
                if exc.status is not None and exc.status >= 500:
                    raise  # the source is down (retries spent): the run fails, as before
                log.warning("usaspending: %s series refused, skipped: %s", sweep.name, exc)
                return
            page = page_from(response, kind="actions", sweep=sweep.name, page=number)
            page.meta |= sweep.meta
            meta, results = _rows(page)
            repeats = self._repeats(results)
            if repeats:
                page.meta["repeats"] = repeats
            self.pages += 1
            yield page
            if not meta.get("hasNext") or not results:
                return
            if number * self.size >= self.window:
                if since >= until:
                    log.warning(
                        "usaspending: %s series over %s passes the result window", sweep.name, since
                    )
                    return
                middle = since + (until - since) // 2
                yield from self.series(sweep, since, middle)
                yield from self.series(sweep, middle + dt.timedelta(days=1), until)
                return
            number += 1

    def _repeats(self, results: list[Any]) -> list[int]:
        """Return the indexes of rows an earlier page already gave, noting the others."""
        repeats = []
        for index, row in enumerate(results):
            key = _row_key(row)
            if key is None:
                continue
            if key in self.seen:
                repeats.append(index)
            self.seen.add(key)
        return repeats


def fetch(
    client: Client,
    query: Query,
    *,
    base_url: str = API,
    page_size: int = PAGE_SIZE,
    result_window: int = RESULT_WINDOW,
    today: dt.date | None = None,
) -> Iterator[Page]:
    """Yield the action pages of every sweep the query asks for, each action once per run.

    A row an earlier page already gave is listed in its page's ``meta["repeats"]`` and not
    parsed again.
    """
    since, until = modified_window(query, today or dt.datetime.now(dt.UTC).date())
    since = max(since, EARLIEST_DATE)
    url = base_url.rstrip("/") + SEARCH_PATH
    run = _Run(client, url, page_size, result_window, query.max_pages)
    for sweep in sweeps(query):
        yield from run.series(sweep, since, until)


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


def _decode(page: Page) -> Any:
    """Return the decoded JSON body; raise ParseError for any undecodable body."""
    try:
        return load_json(page)
    except ValueError as exc:  # load_json lets int-size limit errors (4300+ digits) through
        raise ParseError(f"invalid JSON: {exc}") from None


PAGE_KINDS = ("actions", "search", "transactions")
EXPECTED = {
    "actions": ACTION_FIELDS_EXPECTED,
    "search": SEARCH_FIELDS_EXPECTED,
    "transactions": TRANSACTION_FIELDS_EXPECTED,
}


def _sniff(data: dict[str, Any], meta_kind: str) -> str:
    """Return "detail", "actions", "search" or "transactions" for a page; raise ParseError."""
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
        if {"Mod", "Transaction Amount", "Action Date"} & first.keys():
            return "actions"
        if {"generated_internal_id", "Award ID", "internal_id"} & first.keys():
            return "search"
    if meta_kind in PAGE_KINDS:
        return meta_kind
    if first is None and "page_metadata" in data:
        return "search"  # an empty page: nothing to read either way
    raise ParseError("rows are neither award-search rows nor transactions")


def _row_record(kind: str, row: dict[str, Any], meta: dict[str, Any]) -> Record | None:
    """Return the record of one row of a list page (None for a base action's transaction)."""
    if kind == "actions":
        level = meta.get("recipient_level")
        return action_record(row, level if isinstance(level, str) else "")
    if kind == "search":
        return search_record(row)
    award_id = meta.get("award_id")
    return transaction_record(row, award_id if isinstance(award_id, str) else "")


def parse(page: Page) -> Parsed:
    """Return the records of an action, search, award-detail or transactions page.

    The kind is sniffed from the body. Rows that ``meta["repeats"]`` lists were given by an
    earlier page of the same run and are not read again.
    """
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
    parsed.drift = _drift(rows, EXPECTED[kind], f"{kind} rows")
    repeats = page.meta.get("repeats")
    skip = {n for n in repeats if isinstance(n, int)} if isinstance(repeats, list) else set()
    for number, row in enumerate(data["results"], start=1):
        if number - 1 in skip:
            continue
        if not isinstance(row, dict):
            parsed.problems.append(f"row {number}: not an object")
            continue
        try:
            record = _row_record(kind, row, page.meta)
        except BadRow as exc:
            parsed.problems.append(f"{_row_label(row, number)}: {exc}")
            continue
        if record is not None:
            parsed.records.append(record)
    return parsed
