"""SAM.gov Get Opportunities API v2: contract notices (solicitations, sources sought, awards).

Quota strategy. A SAM.gov key without a role allows 10 requests a day, shared with the
``sam_awards`` source (same key). Searching term by term would cover ten terms a day, so
instead each run makes **one unfiltered search per posted-date window** (``limit=1000``)
and keeps the notices that match the query locally (``NoticeFilter``): any search keyword
in the title (case-insensitive, whole words, simple plurals), a PSC prefix on
``classificationCode``, a NAICS prefix on ``naicsCode``/``naicsCodes``, or an agency name
in ``fullParentPathName``. SAM posts about 280 notices a day (the recorded sample: 9,334
notices posted 2026-01-01..02-02), so a daily run covers every term in one or two
requests and a 30-day backfill in about ten; a day never needs more than one page, so no
rotation over terms is needed. The remaining requests fetch the descriptions of matched
notices, at most half of what the shared quota has left (the rest stays for
``sam_awards``, whichever of the two runs first). A key with a SAM role (1,000 a day) runs
the same searches and fetches up to ~500 descriptions a day; a year of notices (~105,000)
backfills in ~105 searches.

Fetch: ``GET /opportunities/v2/search`` needs an API key (``api_key`` query parameter) and
a ``postedFrom``/``postedTo`` window (``MM/dd/yyyy``) of at most one year, so the requested
range is cut into windows. The docs call ``offset`` a "page index", so it is sent as one;
if the second page repeats the first page's rows the API is counting records, and paging
switches to record offsets. Paging stops at a short or empty page or once the rows reach
``totalRecords``. Every request, retries included, counts against ``query.max_requests``
and the client's shared daily quota; when either is spent (``QuotaExhausted``), fetching
stops quietly and everything fetched is kept. The filter travels with each search page
(``meta["match"]``) so that ``parse`` keeps the same notices, on replay too.

Parse: ``scrapers.sam_parse`` (one record per matched notice of a search page; a
description page gives a partial record that the importer merges).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Generator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from scrapers.base import (
    Client,
    Page,
    ParseError,
    Query,
    QuotaExhausted,
    SourceNotConfigured,
    SourceUnavailable,
    load_json,
    page_from,
)
from scrapers.sam_parse import NAME, NoticeFilter, parse
from scrapers.values import as_text

__all__ = ["NAME", "NoticeFilter", "fetch", "parse", "posting_windows"]

SEARCH_URL = "https://api.sam.gov/opportunities/v2/search"
# p presolicitation, o solicitation, k combined synopsis, r sources sought, s special
# notice, a award notice. The documentation types ptype as a string; values are joined.
NOTICE_TYPES = "p,o,k,r,s,a"
PAGE_LIMIT = 1000
DEFAULT_DAYS = 30
# Hosts a notice's description URL may name; the API key is only ever sent to these.
SAM_HOSTS = frozenset({"api.sam.gov", "api-alpha.sam.gov"})
MISSING_KEY = "SAM_API_KEY is not set: the sam source needs a free API key from SAM.gov"

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- fetch


def posting_windows(since: dt.date, until: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Return consecutive (from, to) windows covering since..until, each at most one year."""
    windows = []
    start = since
    while start <= until:
        end = min(_add_years(start, 1) - dt.timedelta(days=1), until)
        windows.append((start, end))
        start = end + dt.timedelta(days=1)
    return windows


def fetch(
    client: Client,
    query: Query,
    *,
    base_url: str = SEARCH_URL,
    today: dt.date | None = None,
) -> Iterator[Page]:
    """Yield search pages, then matched notices' description pages, until done or quota spent."""
    if not query.api_key:
        raise SourceNotConfigured(MISSING_KEY)
    today = today or dt.datetime.now(dt.UTC).date()
    until = query.until or today
    since = query.since or until - dt.timedelta(days=DEFAULT_DAYS)
    budget = _Budget(client, query.max_requests, query.max_pages)
    notice_filter = NoticeFilter.from_query(query)
    descriptions: dict[str, str] = {}
    try:
        for start, end in posting_windows(since, until):
            params = {
                "postedFrom": start.strftime("%m/%d/%Y"),
                "postedTo": end.strftime("%m/%d/%Y"),
                "ptype": NOTICE_TYPES,
                "limit": PAGE_LIMIT,
                "api_key": query.api_key,
            }
            search = _search(client, base_url, params, budget, notice_filter, descriptions)
            if not (yield from search):
                break  # a cap was hit; the quota decides about descriptions
        yield from _descriptions(client, query, base_url, budget, descriptions)
    except QuotaExhausted as exc:
        log.warning("sam: stopping, the shared daily quota is spent (%s)", exc)


def _descriptions(
    client: Client, query: Query, base_url: str, budget: _Budget, descriptions: dict[str, str]
) -> Iterator[Page]:
    """Yield the description pages of matched notices, within half the shared quota left."""
    allowed_hosts = SAM_HOSTS | {urlsplit(base_url).netloc}
    left = getattr(client, "quota_left", lambda: None)()
    share = None if left is None else left // 2
    for notice_id, url in descriptions.items():
        if urlsplit(url).netloc not in allowed_hosts:
            log.error("sam: refusing description URL on an unknown host: %s", url)
            continue
        if share is not None and share <= 0:
            log.info("sam: leaving the rest of the shared quota to sam_awards")
            return
        if not budget.allows_request():
            return
        response = _get(client, url, {"api_key": query.api_key})
        if share is not None:
            share -= 1
        if response is not None:
            yield _page(response, kind="description", notice_id=notice_id)


class _Budget:
    """Counts requests (through the client's own counter when it has one) and pages."""

    def __init__(self, client: Client, max_requests: int | None, max_pages: int | None) -> None:
        self.client = client
        self.start = getattr(client, "requests_made", 0)
        self.max_requests = max_requests
        self.max_pages = max_pages
        self.pages = 0
        self.spent = False

    def allows_request(self) -> bool:
        """Return whether one more request stays within the quotas (warning once when not)."""
        used = getattr(self.client, "requests_made", 0) - self.start
        left = getattr(self.client, "quota_left", lambda: None)()
        within = self.max_requests is None or used < self.max_requests
        if within and (left is None or left > 0):
            return True
        if not self.spent:
            log.warning("sam: stopping at the request quota (%d requests made)", used)
        self.spent = True
        return False

    def allows_page(self) -> bool:
        """Return whether one more search page stays within max_pages."""
        return self.max_pages is None or self.pages < self.max_pages


def _search(
    client: Client,
    url: str,
    params: dict[str, Any],
    budget: _Budget,
    notice_filter: NoticeFilter,
    descriptions: dict[str, str],
) -> Generator[Page, None, bool]:
    """Yield the pages of one search window; return False when the quota or page cap hit."""
    offset = 0
    by_records = False
    seen: set[str] = set()
    while True:
        if not budget.allows_page():
            log.info("sam: stopping at max_pages (%d)", budget.max_pages)
            return False
        if not budget.allows_request():
            return False
        response = _get(client, url, {**params, "offset": offset})
        if response is None:
            return True
        budget.pages += 1
        yield _page(response, kind="search", match=notice_filter.as_meta())
        rows, total = _rows_and_total(response.content)
        ids = [as_text(row.get("noticeId")) for row in rows]
        new = {notice_id for notice_id in ids if notice_id} - seen
        repeated = len(new) < len([i for i in ids if i])
        seen |= new
        for row in rows:
            notice_id = as_text(row.get("noticeId"))
            link = as_text(row.get("description")).replace(" ", "")
            if notice_id and link.startswith("http") and notice_filter.matches(row):
                descriptions.setdefault(notice_id, link)
        if not new or len(rows) < params["limit"] or (total is not None and len(seen) >= total):
            return True
        if repeated and not by_records:
            # The page index repeated rows: this server counts offset in records.
            log.info("sam: offset counts records here, not pages; paging by records")
            by_records = True
        offset = len(seen) if by_records else offset + 1


def _get(client: Client, url: str, params: dict[str, Any]) -> Any:
    """Return the response, or None when SAM answers 404 (its "no data" reply)."""
    try:
        return client.get(url, params=params)
    except SourceUnavailable as exc:
        if getattr(exc, "status", None) == 404:
            log.info("sam: no data (404) for %s", _redact(url))
            return None
        raise


def _rows_and_total(body: bytes) -> tuple[list[dict[str, Any]], int | None]:
    """Return the notice rows and totalRecords of a search body (empty when unreadable)."""
    try:
        data = load_json(Page(url="", body=body))
    except ParseError:
        return [], None
    if not isinstance(data, dict) or not isinstance(data.get("opportunitiesData"), list):
        return [], None
    total = data.get("totalRecords")
    rows = [row for row in data["opportunitiesData"] if isinstance(row, dict)]
    return rows, total if isinstance(total, int) else None


def _page(response: Any, **meta: Any) -> Page:
    """Wrap a response as a Page whose URL no longer carries the API key."""
    page = page_from(response, **meta)
    page.url = _redact(page.url)
    return page


def _redact(url: str) -> str:
    """Return ``url`` without its api_key parameter (saved pages must not hold the key)."""
    parts = urlsplit(url)
    pairs = [
        (k, v)
        for k, vs in parse_qs(parts.query, keep_blank_values=True).items()
        for v in vs
        if k != "api_key"
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="/,")))


def _add_years(day: dt.date, years: int) -> dt.date:
    """Return ``day`` moved by whole years (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
