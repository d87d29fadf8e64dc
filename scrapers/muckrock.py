"""MuckRock source: public records requests matching the taxonomy keywords, as "foia" records.

API v2 (``/api_v2/requests/``) answers only authenticated users since June 2026 (MuckRock's
``AuthenticatedAPIMixin`` with ``API_V2_AUTH``): a MuckRock account's username and password
are exchanged for a JWT at the Squarelet account service (``POST accounts.muckrock.com/api/
token/`` → ``{access, refresh}``), sent as ``Authorization: Bearer``. Access tokens are
short-lived, so a refused request (401/403) renews the token once (``refresh/``, or a new
login when the refresh token has expired too) and is sent again. Without an account the
source is skipped.

Pages are ``{next, previous, results}``; ``search`` matches request titles. Results come
newest-updated first, so a run with ``since`` stops paging a keyword once a page reaches
requests last updated before it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from scrapers.base import (
    AgencyRef,
    Client,
    Page,
    Parsed,
    ParseError,
    Query,
    Record,
    Response,
    SourceNotConfigured,
    SourceUnavailable,
    load_json,
    parse_results_page,
)
from scrapers.documentcloud import follow_next
from scrapers.http import HTTPStatusError
from scrapers.text import clean_text, int_id, iso_date, plain, scrub

NAME = "muckrock"
BASE_URL = "https://www.muckrock.com/api_v2/"
AUTH_URL = "https://accounts.muckrock.com/api/"
SITE_URL = "https://www.muckrock.com/"
PAGE_SIZE = 100
EXPECTED_FIELDS = ("title", "slug", "status", "agency", "requested_docs", "datetime_submitted")
MISSING_ACCOUNT = (
    "MUCKROCK_USERNAME and MUCKROCK_PASSWORD are not set: MuckRock's API needs a free "
    "MuckRock account"
)


class _Authenticated:
    """The shared client with a MuckRock bearer token on every GET, renewed once when refused."""

    def __init__(self, client: Client, auth_url: str, username: str, password: str) -> None:
        self.client = client
        self.auth_url = auth_url
        self.username = username
        self.password = password
        self.access, self.refresh = self._login()

    def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        try:
            return self.client.get(url, params=params, headers={**(headers or {}), **self._auth})
        except HTTPStatusError as exc:
            if exc.status not in (401, 403):
                raise
        self._renew()
        return self.client.get(url, params=params, headers={**(headers or {}), **self._auth})

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    def _login(self) -> tuple[str, str]:
        credentials = {"username": self.username, "password": self.password}
        try:
            response = self.client.post_json(urljoin(self.auth_url, "token/"), credentials)
        except HTTPStatusError as exc:
            if exc.status in (400, 401, 403):
                raise SourceUnavailable(
                    f"MuckRock refused the account in MUCKROCK_USERNAME (HTTP {exc.status})"
                ) from None
            raise
        return _tokens(response)

    def _renew(self) -> None:
        try:
            response = self.client.post_json(
                urljoin(self.auth_url, "refresh/"), {"refresh": self.refresh}
            )
        except HTTPStatusError as exc:
            if exc.status not in (400, 401, 403):
                raise
            self.access, self.refresh = self._login()
        else:
            self.access, self.refresh = _tokens(response, keep_refresh=self.refresh)


def _tokens(response: Response, keep_refresh: str = "") -> tuple[str, str]:
    """Return (access, refresh) from a token answer; SourceUnavailable when it has none."""
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        data = None
    access = data.get("access") if isinstance(data, dict) else None
    refresh = data.get("refresh", keep_refresh) if isinstance(data, dict) else None
    if not isinstance(access, str) or not access or not isinstance(refresh, str):
        raise SourceUnavailable("MuckRock's account service answered without a token")
    return access, refresh


def fetch(
    client: Client, query: Query, *, base_url: str = BASE_URL, auth_url: str = AUTH_URL
) -> Iterator[Page]:
    """Yield the pages of requests matching each keyword, newest-updated first."""
    if not (query.username and query.password):
        raise SourceNotConfigured(MISSING_ACCOUNT)
    session = _Authenticated(client, auth_url, query.username, query.password)
    requests_url = urljoin(base_url, "requests/")
    for keyword in query.keywords:
        params = {"search": keyword, "page_size": PAGE_SIZE, "ordering": "-datetime_updated"}
        pages = follow_next(
            session, requests_url, params, max_pages=query.max_pages, keyword=keyword
        )
        for page in pages:
            yield page
            if query.since and _reaches_before(page, query.since):
                break


def _reaches_before(page: Page, since: dt.date) -> bool:
    """Does this page (newest-updated first) hold a request last updated before ``since``?"""
    try:
        data = load_json(page)
    except ParseError:
        return False
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        return False
    updated = [iso_date(row.get("datetime_updated")) for row in results if isinstance(row, dict)]
    return any(day is not None and day < since for day in updated)


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


def _url(request_id: str) -> str:
    """Return the public page of a request.

    API v2 gives no page URL, and the page's own address needs the jurisdiction's slug and
    id (``/foi/<jurisdiction>-<id>/<slug>-<id>/``; ``/foi/<slug>-<id>/`` is a jurisdiction's
    page). MuckRock redirects ``/foi/request/<id>/`` to the request's page.
    """
    return f"{SITE_URL}foi/request/{request_id}/"


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
        url=_url(request_id),
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
            "datetime_updated": clean_text(request.get("datetime_updated")),
        },
    )


def parse(page: Page) -> Parsed:
    """Return one record per request in a results page, or the one record of a single request."""
    return parse_results_page(
        page, what="request", source="MuckRock", expected=EXPECTED_FIELDS, build=request_record
    )
