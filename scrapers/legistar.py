"""Legistar source: city and county council legislation that buys or reports on surveillance.

Per council (a ``CouncilRef`` from the tracker's Council table, in ``query.councils``), against
``https://webapi.legistar.com/v1/{client}/`` (API notes and real responses:
``../shared/fixtures/legistar/README.md``):

1. the **title sweep**: ``/matters`` modified in the window whose titles name a search term
   (the taxonomy's keywords, the tracked vendors' names, and the surveillance-ordinance words),
   as OData v3 ``substringof`` clauses OR'd in batches that keep each URL short;
2. the **committee agendas**: ``/events`` of police and public-safety committees held or
   changed in the window, then each one's ``/events/{id}/eventitems`` (with its notes and
   attachments); each matter an item takes up is read with ``/matters/{id}``;
3. for every matter found, ``/matters/{id}/histories`` and ``/matters/{id}/attachments``,
   put in the page's ``meta`` so that ``parse`` builds one complete record per matter.

Lists come as bare arrays of at most 1,000 rows: a series pages with ``$skip`` until a short
page, ordered by id so that pages stay stable. A client that needs a ``token`` gets it as a
query parameter (the shared client redacts it from logs and stored URLs); a council whose
token is not set is skipped. A council that fails (a 500 for an unknown client, a 403) is
logged and the next one runs; the run fails only when every council did.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from scrapers.base import (
    Client,
    CouncilRef,
    Page,
    ParseError,
    Query,
    SourceUnavailable,
    load_json,
    modified_window,
    page_from,
)
from scrapers.http import FetchError
from scrapers.legistar_parse import NAME, agenda_matter_ids, parse

__all__ = ["NAME", "fetch", "parse", "search_terms", "title_filters"]

BASE_URL = "https://webapi.legistar.com/v1/"
PAGE_SIZE = 1000  # the API's cap: a page this long may have a next one
# The words of the local surveillance-technology ordinances (CCOPS): impact reports, annual
# surveillance reports, acquisition approvals. "surveillance" also brings back traffic
# "surveillance" systems, which the tagging rules leave untagged.
ORDINANCE_TERMS = ("CCOPS", "surveillance")
# Committees whose agendas are read whole: the bodies where police purchases are heard.
COMMITTEE_TERMS = ("Police", "Public Safety")
# substringof matches inside words: shorter terms ("LPR", "UAS") would match unrelated titles.
MIN_TERM_LENGTH = 4
# Legistar runs on IIS, whose default query-string limit is 2,048 characters; each batch of
# title clauses stays well under it once encoded.
MAX_QUERY_CHARS = 1800
DETAIL_FLAGS = {"AgendaNote": 1, "MinutesNote": 1, "Attachments": 1}
_LEGAL_FORM = re.compile(
    r"(?:,?\s+(?:inc|incorporated|llc|l\.l\.c|corp|corporation|co|ltd|lp|l\.p|plc)\.?)+$",
    re.IGNORECASE,
)
log = logging.getLogger(__name__)


def search_terms(query: Query) -> tuple[str, ...]:
    """The title words of the sweep: keywords, vendor names without legal forms, ordinance
    words; each once (ignoring case), none that another term already contains."""
    names = (*query.vendor_names, *query.unit_vendor_names)
    candidates = [
        *query.keywords,
        *(_LEGAL_FORM.sub("", name).strip(" ,") for name in names),
        *ORDINANCE_TERMS,
    ]
    by_key: dict[str, str] = {}
    for term in candidates:
        term = " ".join(term.split())
        if len(term) >= MIN_TERM_LENGTH:
            by_key.setdefault(term.casefold(), term)
    kept = [
        term
        for key, term in by_key.items()
        if not any(other != key and other in key for other in by_key)
    ]
    return tuple(sorted(kept, key=lambda t: (t.casefold(), t)))


def whole_words(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Any of ``terms`` as whole words, in any case and spacing."""
    spelled = (r"\s+".join(map(re.escape, term.split())) for term in terms)
    return re.compile(rf"(?<!\w)(?:{'|'.join(spelled)})(?!\w)", re.IGNORECASE)


def _literal(text: str) -> str:
    """An OData string literal: single quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def _day(day: dt.date) -> str:
    return f"datetime'{day.isoformat()}'"


def _window(field: str, since: dt.date, until: dt.date) -> str:
    return f"{field} ge {_day(since)} and {field} lt {_day(until + dt.timedelta(days=1))}"


def title_filters(terms: tuple[str, ...], since: dt.date, until: dt.date) -> list[str]:
    """``$filter`` values for the sweep: the window and terms OR'd, in batches whose encoded
    request stays under ``MAX_QUERY_CHARS``."""
    window = _window("MatterLastModifiedUtc", since, until)
    batches: list[list[str]] = []
    for term in terms:
        clause = f"substringof({_literal(term)}, MatterTitle)"
        if batches and _encoded_length(window, [*batches[-1], clause]) <= MAX_QUERY_CHARS:
            batches[-1].append(clause)
        else:
            batches.append([clause])
    return [_filter(window, batch) for batch in batches]


def _filter(window: str, clauses: list[str]) -> str:
    return f"{window} and ({' or '.join(clauses)})"


def _encoded_length(window: str, clauses: list[str]) -> int:
    params = {"$filter": _filter(window, clauses), "$orderby": "MatterId", "$skip": 100000}
    return len(urlencode(params)) + len("&token=") + 64


def committee_filter(since: dt.date, until: dt.date) -> str:
    """``$filter`` of the committee meetings held or changed in the window."""
    bodies = " or ".join(f"substringof({_literal(t)}, EventBodyName)" for t in COMMITTEE_TERMS)
    held = _window("EventDate", since, until)
    changed = _window("EventLastModifiedUtc", since, until)
    return f"(({held}) or ({changed})) and ({bodies})"


def council_meta(council: CouncilRef) -> dict[str, Any]:
    """The council as a page's meta carries it: its names, never its token."""
    data = dataclasses.asdict(council)
    data.pop("token")
    data.pop("missing_token")
    return data


class _Council:
    """One council's requests: its root URL, its token, and the matters already read."""

    def __init__(self, client: Client, council: CouncilRef, base_url: str, query: Query) -> None:
        self.client = client
        self.council = council
        self.root = f"{base_url.rstrip('/')}/{council.client}/"
        self.query = query
        self.seen: set[str] = set()
        self.meta = {"client": council.client, "council": council_meta(council)}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Page:
        params = dict(params or {})
        if self.council.token:
            params["token"] = self.council.token
        return page_from(self.client.get(self.root + path, params=params), **self.meta)

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[tuple[Page, list[Any]]]:
        """Each page of a list series with its rows, ``$skip`` by 1,000 until a short page."""
        count = 0
        while self.query.max_pages is None or count < self.query.max_pages:
            page = self.get(path, {**params, "$skip": count * PAGE_SIZE})
            count += 1
            rows = _rows(page)
            yield page, rows
            if len(rows) < PAGE_SIZE:
                return

    def with_details(
        self, page: Page, rows: list[Any], wanted: re.Pattern[str] | None = None
    ) -> Page:
        """``page`` with the histories and attachments of its matters not yet read.

        With ``wanted``, a matter whose title does not hold a sweep term as whole words
        ("Ring" in "Hearing": ``substringof`` matches inside words) is listed in the page's
        ``outside_words`` instead: no details are asked for it and it gives no record.
        """
        histories: dict[str, Any] = {}
        attachments: dict[str, Any] = {}
        outside: list[str] = []
        for row in rows:
            matter_id = str(row.get("MatterId", "")) if isinstance(row, dict) else ""
            if not matter_id.isdigit() or matter_id in self.seen:
                continue
            if wanted is not None and not wanted.search(str(row.get("MatterTitle") or "")):
                outside.append(matter_id)
                continue
            self.seen.add(matter_id)
            histories[matter_id] = self._detail(f"matters/{matter_id}/histories")
            attachments[matter_id] = self._detail(f"matters/{matter_id}/attachments")
        page.meta.update(histories=histories, attachments=attachments)
        if outside:
            page.meta["outside_words"] = outside
        return page

    def _detail(self, path: str) -> Any:
        """A matter's histories or attachments; None when that request fails (the record then
        has what the matter row says, and the next change of the matter fills it in)."""
        try:
            return load_json(self.get(path))
        except (FetchError, ParseError) as exc:
            log.warning("legistar %s: %s: %s", self.council.client, path, exc)
            return None

    def run(self, since: dt.date, until: dt.date) -> Iterator[Page]:
        terms = search_terms(self.query)
        wanted = whole_words(terms)
        for condition in title_filters(terms, since, until):
            for page, rows in self.pages("matters", {"$filter": condition, "$orderby": "MatterId"}):
                yield self.with_details(page, rows, wanted)
        events = {"$filter": committee_filter(since, until), "$orderby": "EventId"}
        for page, rows in self.pages("events", events):
            yield page
            for event_id in [str(r.get("EventId")) for r in rows if isinstance(r, dict)]:
                if not event_id.isdigit():
                    continue
                agenda = self.get(f"events/{event_id}/eventitems", DETAIL_FLAGS)
                yield agenda
                for matter_id in agenda_matter_ids(agenda):
                    if matter_id not in self.seen:
                        yield from self._matter(matter_id)

    def _matter(self, matter_id: str) -> Iterator[Page]:
        try:
            page = self.get(f"matters/{matter_id}")
        except FetchError as exc:
            log.warning("legistar %s: matter %s: %s", self.council.client, matter_id, exc)
            return
        rows = _rows(page)
        yield self.with_details(page, rows)


def _rows(page: Page) -> list[Any]:
    """The rows of a list page (a bare array) or of one object; [] when unreadable."""
    try:
        data = load_json(page)
    except ParseError:
        return []
    if isinstance(data, dict):
        return [data]
    return data if isinstance(data, list) else []


def fetch(
    client: Client, query: Query, *, base_url: str = BASE_URL, today: dt.date | None = None
) -> Iterator[Page]:
    """Yield each council's matter, event and agenda pages for the modified window (yesterday
    by default); see the module docstring for the requests."""
    since, until = modified_window(query, today or dt.datetime.now(dt.UTC).date())
    failures: list[str] = []
    tried = 0
    for council in sorted(query.councils, key=lambda c: c.client):
        if council.missing_token:
            log.warning(
                "legistar %s skipped: its token setting %s is not set",
                council.client,
                council.missing_token,
            )
            continue
        tried += 1
        try:
            yield from _Council(client, council, base_url, query).run(since, until)
        except FetchError as exc:
            failures.append(f"{council.client}: {exc}")
            log.warning("legistar %s stopped: %s", council.client, exc)
    if tried and len(failures) == tried:
        raise SourceUnavailable("every council failed: " + "; ".join(failures)[:400])
