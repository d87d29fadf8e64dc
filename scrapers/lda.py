"""Lobbying Disclosure Act (LDA) API: who lobbies which agencies for which clients.

Fetch: ``GET filings/`` pages (25 a page) Django-REST style, following each page's ``next``
link. The API refuses to page past page 1 without a filter, so every series filters by
``filing_year`` and by one taxonomy keyword (``filing_specific_lobbying_issues``) or one
vendor (``client_name``). Anonymous access allows 15 requests a minute; an API key
(``Authorization: Token <key>``) allows 120.

The API moved from ``lda.senate.gov`` to ``lda.gov`` (same paths and JSON): recorded 2026
responses name ``https://lda.gov/api/v1/`` in every ``url`` and ``next`` field, and the old
host was reported (by third parties, not an official notice we could find) to be sunset on
2026-06-30 with a 301 to the new one. Requests go to ``lda.gov``; a ``next`` link naming either
host (or ``base_url``'s own) is followed and any other is refused. A ``base_url`` still on the
old host keeps its token across that redirect (``scrapers.http.CREDENTIAL_MOVES``); the client
drops it on any other cross-origin redirect.

Parse: one ``lobbying`` record per filing. Amendments carry their own ``filing_uuid``, so
``match_key`` names the filing period instead (``lda:<registrant>:<client>:<year>:<period>``
for LD-2 reports and their amendments, ``lda-registration:<registrant>:<client>`` for LD-1
registrations and theirs): the importer folds an amendment into the original's event.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapers.base import (
    AgencyRef,
    Client,
    Page,
    Parsed,
    ParseError,
    Query,
    Record,
    VendorRef,
    load_json,
    page_from,
    parse_rows,
)
from scrapers.text import clean_text as text_clean
from scrapers.text import int_id, iso_date, scrub
from scrapers.values import as_amount, as_dict, as_list, as_text

NAME = "lda"
BASE_URL = "https://lda.gov/api/v1/"
LDA_HOSTS = frozenset({"lda.senate.gov", "lda.gov"})
PAGE_SIZE = 25
EXPECTED_FIELDS = ("filing_uuid", "filing_type", "filing_year", "registrant", "client", "dt_posted")

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- fetch


def fetch(
    client: Client,
    query: Query,
    *,
    base_url: str = BASE_URL,
    today: dt.date | None = None,
) -> Iterator[Page]:
    """Yield filings list pages for every (year, keyword or vendor) series, up to max_pages."""
    today = today or dt.datetime.now(dt.UTC).date()
    headers = {"Authorization": f"Token {query.api_key}"} if query.api_key else None
    start = urljoin(base_url, "filings/")
    base_host = urlsplit(base_url).netloc
    seen: set[str] = set()
    pages = 0
    for params in _series(query, today):
        url: str | None = start
        request_params: dict[str, Any] | None = params
        visited: set[str] = set()
        while url:
            if query.max_pages is not None and pages >= query.max_pages:
                log.info("lda: stopping at max_pages (%d)", query.max_pages)
                return
            response = client.get(url, params=request_params, headers=headers)
            visited.add(response.url)
            pages += 1
            uuids, next_url = _uuids_and_next(response.content)
            yield page_from(response, kind="filings", seen_before=sorted(uuids & seen))
            seen |= uuids
            # An empty page or a link back to a fetched page ends the series either way.
            url = next_url if uuids and next_url not in visited else None
            if url and not next_link_allowed(url, base_host):
                log.error("lda: refusing a next link to an unknown host: %s", url)
                url = None
            request_params = None  # a next link already carries the query string


def next_link_allowed(url: str, base_host: str) -> bool:
    """Return whether a ``next`` link may be followed: an LDA host over https, or base_url's."""
    parts = urlsplit(url)
    if parts.netloc == base_host and parts.scheme in ("http", "https"):
        return True
    return parts.scheme == "https" and parts.netloc in LDA_HOSTS


def _series(query: Query, today: dt.date) -> Iterator[dict[str, Any]]:
    """Yield the query parameters of each request series (one filter each, every year)."""
    last_year = (query.until or today).year
    # A year's fourth-quarter reports are posted the following January.
    first_year = query.since.year - 1 if query.since else last_year
    dates: dict[str, str] = {}
    if query.since:
        dates["filing_dt_posted_after"] = query.since.isoformat()
    if query.until:
        dates["filing_dt_posted_before"] = (query.until + dt.timedelta(days=1)).isoformat()
    filters = [{"filing_specific_lobbying_issues": _phrase(k)} for k in query.keywords]
    filters += [{"client_name": name} for name in query.vendor_names]
    for extra in filters or [{}]:
        for year in range(first_year, last_year + 1):
            yield {"filing_year": year, **extra, **dates, "page_size": PAGE_SIZE}


def _phrase(keyword: str) -> str:
    """Return a keyword quoted as a phrase (unquoted words are OR-ed by the LDA text search)."""
    keyword = keyword.replace('"', " ").strip()
    return f'"{keyword}"' if " " in keyword else keyword


def _uuids_and_next(body: bytes) -> tuple[set[str], str | None]:
    """Return the filing uuids and the ``next`` link of a list page (empty when unreadable)."""
    try:
        data = load_json(Page(url="", body=body))
    except ParseError:
        return set(), None
    if not isinstance(data, dict):
        return set(), None
    results = data.get("results") if isinstance(data.get("results"), list) else []
    uuids = {
        r["filing_uuid"] for r in results if isinstance(r, dict) and _is_str(r.get("filing_uuid"))
    }
    next_url = data.get("next")
    return uuids, next_url if isinstance(next_url, str) and next_url else None


# ---------------------------------------------------------------- parse


def parse(page: Page) -> Parsed:
    """Return one lobbying record per filing of a list page (or of a single filing object)."""
    try:
        data = load_json(page)
    except RecursionError:
        raise ParseError("JSON nested too deeply") from None
    if isinstance(data, dict) and "results" in data:
        filings = data["results"]
        if not isinstance(filings, list):
            raise ParseError("results is not a list")
        parsed = Parsed(
            drift=[f"page field {k!r} is missing" for k in ("count", "next") if k not in data]
        )
    elif isinstance(data, dict) and "filing_uuid" in data:
        filings, parsed = [data], Parsed()
    else:
        raise ParseError("neither an LDA filings page nor a filing")
    return parse_rows(
        filings,
        parsed,
        what="filing",
        expected=EXPECTED_FIELDS,
        id_field="filing_uuid",
        id_pattern=r"[0-9A-Fa-f-]{32,36}",
        build=_filing_record,
    )


def _filing_record(uuid: str, filing: dict[str, Any]) -> Record:
    """Return the record of one filing."""
    registrant, client = as_dict(filing.get("registrant")), as_dict(filing.get("client"))
    client_name, registrant_name = (
        clean_text(client.get("name")),
        clean_text(registrant.get("name")),
    )
    if not client_name:
        raise ValueError("filing names no client")
    activities = [a for a in as_list(filing.get("lobbying_activities")) if isinstance(a, dict)]
    filing_type = as_text(filing.get("filing_type")).upper()
    type_display = as_text(filing.get("filing_type_display")) or filing_type
    year, period = as_text(filing.get("filing_year")), as_text(filing.get("filing_period"))
    registrant_id, client_id = int_id(registrant.get("id")), int_id(client.get("id"))
    issue_codes = _distinct(as_text(a.get("general_issue_code")).upper() for a in activities)
    in_house = registrant_name.casefold() == client_name.casefold()
    title = f"{client_name} lobbying" + ("" if in_house else f" via {registrant_name}")
    vendors = [VendorRef(name=client_name, role="client")]
    if registrant_name and not in_house:
        vendors.append(VendorRef(name=registrant_name, role="intermediary"))
    income, expenses = filing.get("income"), filing.get("expenses")
    amount = as_amount(income) if as_text(income) else as_amount(expenses)
    extra = {
        "filing_type": filing_type,
        "filing_type_display": type_display,
        "filing_period": period,
        "filing_period_display": as_text(filing.get("filing_period_display")),
        "filing_year": year,
        "registrant_id": registrant_id,
        "registrant_name": registrant_name,
        "registrant_description": clean_text(registrant.get("description")),
        "client_id": client_id,
        "client_description": clean_text(client.get("general_description")),
        "client_government_entity": client.get("client_government_entity") is True,
        "is_amendment": is_amendment(filing_type),
        "income": as_text(income),
        "expenses": as_text(expenses),
        "lobbyists": _lobbyists(activities),
        "issue_codes": issue_codes,
        "government_entity_ids": _distinct(
            int_id(g.get("id")) for a in activities for g in _entities(a)
        ),
        "termination_date": as_text(filing.get("termination_date")),
    }
    return Record(
        source=NAME,
        external_id=uuid,
        kind="lobbying",
        title=f"{title} ({' '.join(p for p in (type_display, year) if p)})",
        url=as_text(filing.get("filing_document_url")) or as_text(filing.get("url")),
        raw=scrub(filing),
        date=iso_date(filing.get("dt_posted")),
        summary="\n".join(_distinct(clean_text(a.get("description")) for a in activities)),
        amount=amount,
        agencies=_agencies(activities),
        vendors=vendors,
        codes={"issue_codes": ";".join(issue_codes)} if issue_codes else {},
        match_key=_match_key(filing_type, registrant_id, client_id, year, period),
        extra=extra,
    )


def is_amendment(filing_type: str) -> bool:
    """Return whether an LDA filing type is an amendment (RA, 1A, 2AY, MA, 3@ …)."""
    return filing_type == "RA" or (len(filing_type) >= 2 and filing_type[1] in "A@")


def _match_key(filing_type: str, registrant: str, client: str, year: str, period: str) -> str:
    """Return the key shared by a filing and its amendments ("" when ids are missing)."""
    if not (registrant and client):
        return ""
    if filing_type.startswith("R"):
        return f"lda-registration:{registrant}:{client}"
    return f"lda:{registrant}:{client}:{year}:{period}" if year and period else ""


def _agencies(activities: list[dict[str, Any]]) -> list[AgencyRef]:
    """Return each distinct government entity lobbied, as named by the filing."""
    names = _distinct(clean_text(g.get("name")) for a in activities for g in _entities(a))
    return [
        AgencyRef(name=name, acronym=_acronym(name), role="pitched-to", level="federal")
        for name in names
    ]


def _entities(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """Return an activity's government entity objects."""
    return [g for g in as_list(activity.get("government_entities")) if isinstance(g, dict)]


def _acronym(name: str) -> str:
    """Return the acronym in a trailing "(ICE)"-style suffix, else ""."""
    match = re.search(r"\(([A-Z][A-Za-z0-9&.\-]{1,11})\)\s*$", name)
    return match.group(1) if match else ""


def _lobbyists(activities: list[dict[str, Any]]) -> list[str]:
    """Return the distinct lobbyist names ("FIRST LAST") across activities."""
    names = []
    for activity in activities:
        for entry in as_list(activity.get("lobbyists")):
            person = as_dict(as_dict(entry).get("lobbyist"))
            parts = (clean_text(person.get(k)) for k in ("first_name", "last_name"))
            names.append(" ".join(p for p in parts if p))
    return _distinct(names)


# ---------------------------------------------------------------- text helpers

# A UTF-8 sequence read as Windows-1252: a lead byte char then 1-3 continuation chars.
_CONTINUATION = "".join(
    ch for ch in bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")
) + "".join(map(chr, range(0x80, 0xC0)))
_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][{re.escape(_CONTINUATION)}]{{1,3}}")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def clean_text(value: Any) -> str:
    """Return free text on one line: unescaped, mojibake repaired, no controls or NULs."""
    text = _MOJIBAKE.sub(_repair, text_clean(as_text(value))).translate(_INVISIBLE)
    return re.sub(r"\s+", " ", text).strip()


def _repair(match: re.Match[str]) -> str:
    """Return one mojibake run decoded back to the character it stood for (or unchanged)."""
    run = match.group()
    lead = ord(run[0])
    size = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    if len(run) < size:
        return run
    try:
        raw = bytes(ord(ch) if ord(ch) < 0x100 else ch.encode("cp1252")[0] for ch in run[:size])
        return raw.decode("utf-8") + run[size:]
    except UnicodeError:
        return run


def _is_str(value: Any) -> bool:
    """Return whether ``value`` is non-empty text."""
    return isinstance(value, str) and bool(value)


def _distinct(values: Any) -> list[str]:
    """Return the non-empty values in first-seen order without repeats."""
    return list(dict.fromkeys(v for v in values if v))
