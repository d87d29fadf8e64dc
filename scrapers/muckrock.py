"""MuckRock source: public records requests matching the taxonomy keywords, as "foia" records.

Written from the API v2 field list in FORMATS.md section 5 (no real response was available):
``{next, previous, results}`` pages of requests, each with ``agency`` as an integer id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from scrapers.base import (
    AgencyRef,
    Client,
    Page,
    Parsed,
    Query,
    Record,
    parse_results_page,
)
from scrapers.documentcloud import follow_next
from scrapers.text import clean_text, int_id, iso_date, plain, safe_url, scrub

NAME = "muckrock"
BASE_URL = "https://www.muckrock.com/api_v2/"
SITE_URL = "https://www.muckrock.com/"
PAGE_SIZE = 100
EXPECTED_FIELDS = ("title", "slug", "status", "agency", "requested_docs", "datetime_submitted")


def fetch(client: Client, query: Query, *, base_url: str = BASE_URL) -> Iterator[Page]:
    """Yield every page of requests matching each keyword, following ``next``."""
    requests_url = urljoin(base_url, "requests/")
    for keyword in query.keywords:
        params = {"search": keyword, "page_size": PAGE_SIZE}
        yield from follow_next(
            client, requests_url, params, max_pages=query.max_pages, keyword=keyword
        )


def _agency(value: Any) -> list[AgencyRef]:
    """Return the agency a request was filed with (an id, or an expanded object)."""
    if isinstance(value, dict):
        agency_id, name = int_id(value.get("id")), plain(value.get("name"))
    else:
        agency_id, name = int_id(value), ""
    if not agency_id and not name:
        return []
    return [
        AgencyRef(
            name=name or f"MuckRock agency {agency_id}",
            code=agency_id,
            code_type="muckrock",
            role="subject",
        )
    ]


def _url(request: dict[str, Any], request_id: str) -> str:
    """Return the public page of a request."""
    absolute = request.get("absolute_url")
    if isinstance(absolute, str) and absolute.strip():
        url = safe_url(urljoin(SITE_URL, absolute.strip()))
        if url:
            return url
    slug = clean_text(request.get("slug"))
    if slug and re.fullmatch(r"[\w-]+", slug):
        return f"{SITE_URL}foi/{slug}-{request_id}/"
    return f"{BASE_URL}requests/{request_id}/"


def request_record(request: dict[str, Any]) -> Record:
    """Return the record for one request; raises ValueError when it has no usable id."""
    request_id = int_id(request.get("id"))
    if not request_id:
        raise ValueError(f"request {str(request.get('id'))[:40]!r}: no usable id")
    requested = plain(request.get("requested_docs"))
    price = request.get("price")
    return Record(
        source=NAME,
        external_id=request_id,
        kind="foia",
        title=plain(request.get("title")) or f"MuckRock request {request_id}",
        url=_url(request, request_id),
        raw=scrub(request),
        date=iso_date(request.get("datetime_done")) or iso_date(request.get("datetime_submitted")),
        summary=requested,
        text=requested,
        agencies=_agency(request.get("agency")),
        extra={
            "status": clean_text(request.get("status")),
            "tracking_id": clean_text(request.get("tracking_id")),
            "price": clean_text(price) if isinstance(price, str | int | float) else "",
            "embargo_status": clean_text(request.get("embargo_status")),
            "date_due": clean_text(request.get("date_due")),
            "datetime_submitted": clean_text(request.get("datetime_submitted")),
            "datetime_done": clean_text(request.get("datetime_done")),
        },
    )


def parse(page: Page) -> Parsed:
    """Return one record per request in a results page, or the one record of a single request."""
    return parse_results_page(
        page, what="request", source="MuckRock", expected=EXPECTED_FIELDS, build=request_record
    )
