"""``scrape SOURCE --plan``: the requests a default run would send, recorded instead of sent.

A ``PlanningClient`` stands in for the shared HTTP client: it records each request (secrets
redacted) and answers it with an empty result, so a source's ``fetch`` runs to its end
without the network. An empty answer ends every paged series after its first page, so a
plan counts one request per series; each further page of results a live run finds adds one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from requests.structures import CaseInsensitiveDict

from scrapers.base import Query, SourceNotConfigured, SourceUnavailable
from scrapers.http import SECRET_PARAMS, HttpResponse, redact
from tracker.services.scraping import endpoint_override, source_module, source_query

REDACTED = "REDACTED"
# JSON body keys and headers whose values are secrets (compared lower-case); query
# parameters are the shared client's SECRET_PARAMS, which it redacts from logged URLs.
SECRET_FIELDS = frozenset({"password", "refresh", "access", "secret", "client_secret"})
SECRET_HEADERS = frozenset({"authorization", "cookie", "x-api-key", "proxy-authorization"})
# A source that pages on empty answers would loop: a plan refuses to grow past this.
MAX_PLANNED_REQUESTS = 100_000
# The body is shown in the source's own key order (its filters usually come first).
BODY_SHOWN = 240
PAGING_NOTE = "each page of results beyond the first adds one request to its series"


class PlanTooLong(RuntimeError):
    """The source kept asking: a plan never ends this way, so it stops with this error.

    Not a ``SourceUnavailable``: sources catch those and go on to their next request.
    """


@dataclass(slots=True)
class PlannedRequest:
    """One request a run would send, secrets replaced by REDACTED."""

    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        """The request on one line: method, URL with its parameters, and the body shortened."""
        url = self.url
        if self.params:
            url += ("&" if urlsplit(url).query else "?") + urlencode(self.params, doseq=True)
        text = f"{self.method} {url}"
        if self.body is not None:
            body = json.dumps(self.body, separators=(",", ":"), default=str)
            text += f"  {body[:BODY_SHOWN]}{'…' if len(body) > BODY_SHOWN else ''}"
        return text


Answer = Callable[[str, str], bytes]


def empty_answer(method: str, url: str) -> bytes:
    """An empty JSON object: a JSON source reads no results and no next link in it."""
    return b"{}"


def empty_feed_answer(method: str, url: str) -> bytes:
    """An RSS feed with no items (news reads feeds, then each item's article)."""
    return b'<?xml version="1.0"?><rss version="2.0"><channel><title></title></channel></rss>'


def empty_atom_answer(method: str, url: str) -> bytes:
    """An Atom feed with no entries and no next link (FPDS's feed)."""
    return b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>'


def muckrock_answer(method: str, url: str) -> bytes:
    """MuckRock first trades the account for a token: answer the token request with one."""
    if method == "POST" and url.rstrip("/").endswith(("/token", "/refresh")):
        return b'{"access": "planned-access-token", "refresh": "planned-refresh-token"}'
    return b"{}"


ANSWERS: dict[str, Answer] = {
    "fpds": empty_atom_answer,
    "muckrock": muckrock_answer,
    "news": empty_feed_answer,
}
# How a live run's request count grows past the plan's.
GROWTH = {
    "news": "each feed item published since --since adds one request for its article",
    "atlas": "the whole export is one download",
    "legistar": (
        "each page of results beyond the first adds one request to its series; each matter "
        "found adds two (its histories and attachments), each committee meeting one (its "
        "agenda) and each agenda matter not already found three"
    ),
}


class PlanningClient:
    """The scrapers' ``Client`` that records requests and sends none (see the module doc)."""

    def __init__(self, answer: Answer = empty_answer) -> None:
        self.answer = answer
        self.requests: list[PlannedRequest] = []

    @property
    def requests_made(self) -> int:
        """How many requests were planned (``HttpClient`` counts the ones it sent)."""
        return len(self.requests)

    def quota_left(self) -> int | None:
        """No daily quota applies to a plan."""
        return None

    def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        """Record a GET and answer it empty."""
        return self._record("GET", url, params, None, headers)

    def post_json(
        self, url: str, payload: Any, *, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        """Record a POST of ``payload`` as JSON and answer it empty."""
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self._record("POST", url, None, payload, headers)

    def _record(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        body: Any,
        headers: dict[str, str] | None,
    ) -> HttpResponse:
        if len(self.requests) >= MAX_PLANNED_REQUESTS:
            raise PlanTooLong(f"the source asked for more than {MAX_PLANNED_REQUESTS} requests")
        self.requests.append(
            PlannedRequest(
                method=method,
                url=redact(url),
                params=redacted_params(params or {}),
                body=redacted_body(body),
                headers={
                    name: REDACTED if name.lower() in SECRET_HEADERS else str(value)
                    for name, value in (headers or {}).items()
                },
            )
        )
        content = self.answer(method, url)
        kind = "application/xml" if content.startswith(b"<") else "application/json"
        return HttpResponse(
            status_code=200,
            url=redact(url),
            headers=CaseInsensitiveDict({"Content-Type": kind}),
            content=content,
        )


def redacted_params(params: dict[str, Any]) -> dict[str, Any]:
    """Query parameters with secret values replaced (values kept as the source passed them)."""
    return {
        str(name): REDACTED if str(name).lower() in SECRET_PARAMS else value
        for name, value in params.items()
    }


def redacted_body(body: Any) -> Any:
    """A JSON body with the values of secret keys replaced, at any depth."""
    if isinstance(body, dict):
        return {
            key: REDACTED
            if str(key).lower() in SECRET_FIELDS | SECRET_PARAMS
            else redacted_body(value)
            for key, value in body.items()
        }
    if isinstance(body, list | tuple):
        return [redacted_body(item) for item in body]
    return body


@dataclass(slots=True)
class Plan:
    """What a run of ``source`` would send; ``skipped`` or ``stopped`` say why it would not
    (missing credentials) or where it would end early (the source gave up)."""

    source: str
    requests: list[PlannedRequest]
    skipped: str = ""
    stopped: str = ""

    def lines(self) -> list[str]:
        """The plan as ``scrape --plan`` prints it: one line a request, then the count."""
        if self.skipped:
            return [f"{self.source}: skipped: {self.skipped}"]
        lines = [request.line() for request in self.requests]
        if self.stopped:
            lines.append(f"{self.source}: the run would stop here: {self.stopped}")
        count = len(self.requests)
        growth = GROWTH.get(self.source, PAGING_NOTE)
        lines.append(f"{count} request{'s' if count != 1 else ''} ({growth})")
        return lines

    def as_data(self) -> list[dict[str, Any]]:
        """The requests as plain data (what the request-expectation files hold)."""
        return [asdict(request) for request in self.requests]


def scrape_plan(*, source: str, since: dt.date | None = None, until: dt.date | None = None) -> Plan:
    """Run ``source``'s fetch on a ``PlanningClient`` with the default query; nothing is sent.

    Uses the same query and endpoint (``SOURCE_URLS``) a run would; writes nothing to the
    database. Raises ``UnknownSource`` for a name not in ``SOURCES``.
    """
    module = source_module(source)
    client = PlanningClient(ANSWERS.get(source, empty_answer))
    query = source_query(source, since=since, until=until)
    plan = Plan(source=source, requests=client.requests)
    try:
        for _page in module.fetch(client, query, **endpoint_override(module, source)):
            pass
    except SourceNotConfigured as exc:
        plan.skipped = str(exc)
    except SourceUnavailable as exc:
        plan.stopped = str(exc)
    return plan


def query_summary(query: Query, *, samples: int = 3) -> list[str]:
    """Human-readable lines on what a query asks for: each part's count and a few samples.

    For the sources page and ``scrape --plan``; credentials are named, never shown.
    """
    parts = (
        ("keywords", query.keywords),
        ("PSC codes", query.psc_codes),
        ("NAICS codes", query.naics_codes),
        ("agency codes", query.agency_codes),
        ("agency names", query.agency_names),
        ("vendor names", query.vendor_names),
        ("vendor UEIs", query.vendor_ueis),
        ("vendor names at the buying units", query.unit_vendor_names),
        ("vendor UEIs at the buying units", query.unit_vendor_ueis),
        ("grant programmes", query.grant_programs),
        ("news feeds", query.feeds),
        ("councils", tuple(council.client for council in query.councils)),
    )
    lines = [f"dates: {query.since or 'source default'} to {query.until or 'source default'}"]
    for label, values in parts:
        if not values:
            lines.append(f"{label}: none")
            continue
        shown = ", ".join(values[:samples])
        more = f", … ({len(values) - samples} more)" if len(values) > samples else ""
        lines.append(f"{label}: {len(values)} ({shown}{more})")
    credentials = [
        name
        for name, value in (
            ("API key", query.api_key),
            ("username", query.username),
            ("password", query.password),
        )
        if value
    ]
    lines.append(f"credentials: {', '.join(credentials) if credentials else 'none'}")
    return lines


def source_query_summary(
    source: str, *, since: dt.date | None = None, until: dt.date | None = None
) -> list[str]:
    """``query_summary`` of ``source``'s default query (what the sources page shows)."""
    return query_summary(source_query(source, since=since, until=until))
