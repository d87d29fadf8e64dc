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

Parse: a search page gives one ``Record`` per matched notice (kind ``solicitation`` for
every notice type, award notices included: ``extra["notice_type"]`` says which,
``extra["award"]`` carries the award and ``extra["matched"]`` why it was kept). A notice's
``description`` is only a URL; its text arrives later as a separate *description page*,
which parses to a **partial record**: same ``external_id``, only ``summary`` set, and
``extra == {"partial": True}``. The importer merges a partial record into the existing
event, copying only its non-empty fields.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from scrapers.base import (
    AgencyRef,
    Client,
    Page,
    Parsed,
    ParseError,
    Query,
    QuotaExhausted,
    Record,
    SourceNotConfigured,
    SourceUnavailable,
    VendorRef,
    load_json,
    parse_rows,
)
from scrapers.text import html_to_text, iso_date, plain, scrub

NAME = "sam"
SEARCH_URL = "https://api.sam.gov/opportunities/v2/search"
PUBLIC_NOTICE_URL = "https://sam.gov/opp/{}/view"
# p presolicitation, o solicitation, k combined synopsis, r sources sought, s special
# notice, a award notice. The documentation types ptype as a string; values are joined.
NOTICE_TYPES = "p,o,k,r,s,a"
PAGE_LIMIT = 1000
DEFAULT_DAYS = 30
# Hosts a notice's description URL may name; the API key is only ever sent to these.
SAM_HOSTS = frozenset({"api.sam.gov", "api-alpha.sam.gov"})
MISSING_KEY = "SAM_API_KEY is not set: the sam source needs a free API key from SAM.gov"
EXPECTED_FIELDS = ("noticeId", "title", "postedDate", "type", "fullParentPathName")
PSC_PATTERN = re.compile(r"[A-Z0-9]{1,4}")
NAICS_PATTERN = re.compile(r"[0-9]{2,6}")

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- local filter


@dataclass(frozen=True, slots=True)
class NoticeFilter:
    """The query's terms, matched against a notice locally (empty: every notice matches)."""

    keywords: tuple[str, ...] = ()
    psc: tuple[str, ...] = ()
    naics: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: Query) -> NoticeFilter:
        """Return the filter for a query: its keywords, code-shaped PSC/NAICS values, agencies."""
        return cls(
            keywords=tuple(k.strip() for k in query.keywords if k.strip()),
            psc=_shaped(query.psc_codes, PSC_PATTERN),
            naics=_shaped(query.naics_codes, NAICS_PATTERN),
            agencies=tuple(a.strip() for a in query.agency_names if a.strip()),
        )

    @classmethod
    def from_meta(cls, value: Any) -> NoticeFilter | None:
        """Return the filter a search page carries in ``meta["match"]`` (None: keep all)."""
        if not isinstance(value, dict):
            return None
        return cls(
            **{
                name: tuple(str(v) for v in value.get(name) or () if isinstance(v, str))
                for name in ("keywords", "psc", "naics", "agencies")
            }
        )

    def as_meta(self) -> dict[str, list[str]]:
        """Return the filter as plain lists (page meta, saved beside replayable pages)."""
        return {
            "keywords": list(self.keywords),
            "psc": list(self.psc),
            "naics": list(self.naics),
            "agencies": list(self.agencies),
        }

    def matches(self, row: dict[str, Any]) -> list[str]:
        """Return why a notice matches ("keyword:…", "psc:…", …); empty when it does not."""
        if not (self.keywords or self.psc or self.naics or self.agencies):
            return ["all"]
        reasons = [f"keyword:{k}" for k in _matched_phrases(self.keywords, _text(row.get("title")))]
        psc = _text(row.get("classificationCode")).upper()
        reasons += [f"psc:{code}" for code in self.psc if psc and psc.startswith(code)]
        naics = {_text(row.get("naicsCode"))} | {_text(c) for c in _list(row.get("naicsCodes"))}
        reasons += [
            f"naics:{code}" for code in self.naics if any(n.startswith(code) for n in naics if n)
        ]
        # The path separates levels with dots, and names hold dots too ("U.S. MARSHALS"), so
        # dots count as spaces there and a name is tried with its dots dropped or spaced.
        path = _words(_text(row.get("fullParentPathName")).replace(".", " "))
        reasons += [
            f"agency:{name}"
            for name in self.agencies
            if _matched_phrases(
                (_words(name.replace(".", "")), _words(name.replace(".", " "))), path
            )
        ]
        return reasons


def _words(text: str) -> str:
    """Return ``text`` as words separated by single spaces (punctuation dropped)."""
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _shaped(values: tuple[str, ...], pattern: re.Pattern[str]) -> tuple[str, ...]:
    """Return the values shaped like codes (PSC rules also hold description words)."""
    return tuple(v.strip().upper() for v in values if pattern.fullmatch(v.strip().upper()))


def _matched_phrases(phrases: tuple[str, ...], text: str) -> list[str]:
    """Return the phrases found in ``text`` as whole words (any case, simple plurals)."""
    if not phrases or not text:
        return []
    return [
        phrase
        for phrase in phrases
        if re.search(rf"(?<!\w){re.escape(phrase)}(?:s|es)?(?!\w)", text, re.IGNORECASE)
    ]


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
        ids = [_text(row.get("noticeId")) for row in rows]
        new = {notice_id for notice_id in ids if notice_id} - seen
        repeated = len(new) < len([i for i in ids if i])
        seen |= new
        for row in rows:
            notice_id = _text(row.get("noticeId"))
            link = _text(row.get("description")).replace(" ", "")
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
    return Page(
        url=_redact(response.url),
        body=response.content,
        content_type=response.headers.get("Content-Type", ""),
        meta=meta,
    )


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


# ---------------------------------------------------------------- parse


def parse(page: Page) -> Parsed:
    """Return one record per matched notice of a search page, or a description's partial record.

    A search page whose ``meta["match"]`` carries the run's filter keeps only the notices it
    matches; a page without it (saved before the filter existed) keeps every notice.
    """
    if page.body.lstrip()[:1] in (b"{", b"["):
        try:
            data = load_json(page)
        except RecursionError:
            raise ParseError("JSON nested too deeply") from None
        if isinstance(data, dict) and "opportunitiesData" in data:
            return _parse_search(data, NoticeFilter.from_meta(page.meta.get("match")))
        if isinstance(data, dict) and "description" in data:
            markup = data["description"]
            return _parse_description(page, markup if isinstance(markup, str) else "")
        raise ParseError("JSON is neither a SAM search page nor a notice description")
    if page.meta.get("kind") == "description" or description_notice_id(page):
        # The description endpoint may also answer with bare HTML or plain text.
        return _parse_description(page, page.body.decode("utf-8", errors="replace"))
    raise ParseError("not JSON, and not a description page")


def description_notice_id(page: Page) -> str:
    """Return the notice id a description page belongs to (from meta, else from its URL)."""
    notice_id = page.meta.get("notice_id")
    if isinstance(notice_id, str) and notice_id:
        return notice_id
    query = parse_qs(urlsplit(page.url).query)
    return (query.get("noticeid") or query.get("noticeId") or [""])[0]


def _parse_search(data: dict[str, Any], notice_filter: NoticeFilter | None) -> Parsed:
    """Return the records of a search page's opportunitiesData (matched notices only)."""
    rows = data["opportunitiesData"]
    if not isinstance(rows, list):
        raise ParseError("opportunitiesData is not a list")
    parsed = Parsed()
    if "totalRecords" not in data:
        parsed.drift.append("page field 'totalRecords' is missing")
    objects = [row for row in rows if isinstance(row, dict)]
    for name in EXPECTED_FIELDS:  # over every notice, kept or not
        missing = sum(1 for row in objects if name not in row)
        if missing:
            parsed.drift.append(f"notice field {name!r} missing in {missing} of {len(objects)}")
    matched: dict[int, list[str]] = {}
    if notice_filter is not None:
        matched = {id(row): notice_filter.matches(row) for row in objects}
        rows = [row for row in rows if not isinstance(row, dict) or matched[id(row)]]

    def build(notice_id: str, row: dict[str, Any]) -> Record:
        record = _notice_record(notice_id, row)
        if notice_filter is not None:
            record.extra["matched"] = matched[id(row)]
        return record

    return parse_rows(
        rows,
        parsed,
        what="notice",
        expected=(),
        id_field="noticeId",
        id_pattern=r"[A-Za-z0-9_-]{1,64}",
        build=build,
    )


def _notice_record(notice_id: str, row: dict[str, Any]) -> Record:
    """Return the record of one notice."""
    award = _dict(row.get("award"))
    notice_type = _text(row.get("type"))
    is_award = bool(award) or notice_type.lower() == "award notice"
    agency = _agency_chain(row)
    vendors, amount, award_extra = _award(award) if is_award else ([], None, {})
    codes = {
        key: value
        for key, value in (
            ("naics", _text(row.get("naicsCode"))),
            ("psc", _text(row.get("classificationCode"))),
        )
        if value
    }
    description_url = _text(row.get("description")).replace(" ", "")
    extra: dict[str, Any] = {
        "notice_type": notice_type,
        "base_type": _text(row.get("baseType")),
        "solicitation_number": _text(row.get("solicitationNumber")),
        "response_deadline": _text(row.get("responseDeadLine")),
        "set_aside": _text(row.get("typeOfSetAside")),
        "set_aside_description": _text(row.get("typeOfSetAsideDescription")),
        "active": _text(row.get("active")).lower() == "yes",
        "description_url": description_url if description_url.startswith("http") else "",
        "resource_links": [_text(link) for link in _list(row.get("resourceLinks")) if _text(link)],
        "place_of_performance": _place(row.get("placeOfPerformance")),
        "ui_link": _text(row.get("uiLink")),
        "naics_codes": [_text(code) for code in _list(row.get("naicsCodes")) if _text(code)],
    }
    if is_award:
        extra["award"] = award_extra
    title = (
        plain(_text(row.get("title"))) or extra["solicitation_number"] or f"SAM notice {notice_id}"
    )
    return Record(
        source=NAME,
        external_id=notice_id,
        kind="solicitation",
        title=title,
        # uiLink points at the logged-in workspace view; the public view needs no account.
        url=PUBLIC_NOTICE_URL.format(notice_id),
        raw=scrub(row),
        date=iso_date(row.get("postedDate")),
        amount=amount,
        agencies=[agency] if agency else [],
        vendors=vendors,
        codes=codes,
        extra=extra,
    )


def _agency_chain(row: dict[str, Any]) -> AgencyRef | None:
    """Return the deepest office of the notice's agency path, with parent links up to the top."""
    names = [n.strip() for n in _path(row.get("fullParentPathName")) if n.strip()]
    codes = [c.strip() for c in _path(row.get("fullParentPathCode")) if c.strip()]
    if not names:  # v1 responses named the levels separately
        names = [
            _text(row.get(k)) for k in ("department", "subTier", "office") if _text(row.get(k))
        ]
    if len(codes) != len(names):
        # A dot inside a name (e.g. "U.S. ...") breaks the split; keep only the department code.
        codes = (codes[:1] or [""]) + [""] * (len(names) - 1)
    parent = None
    last = len(names) - 1
    for depth, (name, code) in enumerate(zip(names, codes, strict=True)):
        parent = AgencyRef(
            name=name,
            code=code,
            code_type=_code_type(depth, last) if code else "",
            parent=parent,
            role="buyer",
            level="federal",
        )
    office = _dict(row.get("officeAddress"))
    if parent is not None:
        parent.state = _text(office.get("state"))
        parent.place = _text(office.get("city"))
    return parent


def _code_type(depth: int, last: int) -> str:
    """Return the code type of a level of SAM's agency path (department, sub-tier, office)."""
    if depth == 0:
        return "toptier"
    if depth == 1:
        return "subtier"
    return "office" if depth == last else ""


def _award(award: dict[str, Any]) -> tuple[list[VendorRef], Decimal | None, dict[str, Any]]:
    """Return the awardee, the amount and the award facts of an award notice."""
    awardee = _dict(award.get("awardee"))
    location = _dict(awardee.get("location"))
    name = _text(awardee.get("name"))
    vendors = []
    if name:
        vendors.append(
            VendorRef(
                name=name,
                uei=_text(awardee.get("ueiSAM")),
                duns=_text(awardee.get("duns")),
                cage=_text(awardee.get("cageCode")),
                role="awardee",
            )
        )
    facts = {
        "date": _text(award.get("date")),
        "number": _text(award.get("number")),
        "amount": _text(award.get("amount")),
        "awardee": name,
        # Free text as entered: the sample award has country "GA" (the state) for Atlanta.
        "awardee_location": {
            key: _text(_dict(location.get(key)).get("name")) for key in ("city", "state", "country")
        }
        | {"zip": _text(location.get("zip"))},
    }
    return vendors, _amount(award.get("amount")), facts


def _place(value: Any) -> dict[str, str]:
    """Return a place of performance flattened to non-empty names and codes."""
    place = _dict(value)
    flat = {"zip": _text(place.get("zip")), "street": _text(place.get("streetAddress"))}
    for key in ("city", "state", "country"):
        part = _dict(place.get(key))
        flat[key] = _text(part.get("name"))
        flat[f"{key}_code"] = _text(part.get("code"))
    return {key: value for key, value in flat.items() if value}


def _parse_description(page: Page, markup: str) -> Parsed:
    """Return the partial record carrying a notice's description text."""
    notice_id = description_notice_id(page)
    if not notice_id:
        raise ParseError("description page without a notice id (no meta and no noticeid in URL)")
    text = html_to_text(markup)
    if not text or text.lower() == "description not found":
        return Parsed()
    record = Record(
        source=NAME,
        external_id=notice_id,
        kind="solicitation",
        title="",
        url=PUBLIC_NOTICE_URL.format(notice_id),
        raw={"notice_id": notice_id, "description": text},
        summary=text,
        extra={"partial": True},
    )
    return Parsed(records=[record])


# ---------------------------------------------------------------- value helpers


def _text(value: Any) -> str:
    """Return a scalar as stripped text without NULs ("" for null, objects and lists)."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return ""
    return str(value).replace("\x00", "").strip()


def _path(value: Any) -> list[str]:
    """Return the levels of a dot-separated path string (none for any other type)."""
    return _text(value).split(".") if isinstance(value, str) else []


def _dict(value: Any) -> dict[str, Any]:
    """Return ``value`` if it is an object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """Return ``value`` if it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def _amount(value: Any) -> Decimal | None:
    """Return an award amount ("5000000.00", "$1,200.50" or a number) as Decimal, else None."""
    text = _text(value).replace(",", "").replace("$", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None
