"""The contract every source module follows: pages in, plain typed records out.

A source module in ``scrapers/`` exposes:

* ``NAME``: the source name used everywhere (command, tasks, admin);
* ``fetch(client, query) -> Iterator[Page]``: HTTP and paging only, through the shared client;
* ``parse(page) -> Parsed``: pure (no network, no database); raises ``ParseError`` when the
  whole page is unusable, and reports a bad record inside a good page in ``Parsed.problems``.

Records carry names and codes exactly as the source spells them; the importer in
``tracker/`` resolves them to rows. Nothing here imports Django.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import orjson

from scrapers.values import as_text

EVENT_KINDS = (
    "award",
    "modification",
    "solicitation",
    "pitch",
    "meeting",
    "lobbying",
    "foia",
    "report",
    "other",
)
DATE_PRECISIONS = ("day", "month", "year")


class ParseError(Exception):
    """The whole page cannot be used (malformed body, wrong shape, hostile markup)."""


class SourceUnavailable(Exception):
    """The source cannot be reached or used now (network down, missing key, quota spent)."""


class SourceNotConfigured(SourceUnavailable):
    """The source needs credentials this installation has not set: the run is skipped."""


class QuotaExhausted(SourceUnavailable):
    """Today's request allowance for a key is spent (counted across runs and workers)."""


@dataclass(slots=True)
class Page:
    """One raw response body, exactly as the source returned it.

    ``meta`` carries context a later parse needs (e.g. the feed item an article page came
    from); ``--save-raw`` writes it beside the body as ``<file>.meta.json``.
    """

    url: str
    body: bytes
    content_type: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AgencyRef:
    """An agency as the source names it; ``parent`` gives the path the source states."""

    name: str
    code: str = ""
    code_type: str = ""  # "toptier" | "subtier" | "fpds" | "office" | ""
    acronym: str = ""
    parent: AgencyRef | None = None
    role: str = "buyer"  # buyer | funder | pitched-to | requester | subject
    level: str = ""  # federal | state | local | foreign, when the source says
    country: str = ""
    state: str = ""
    place: str = ""
    agency_type: str = ""


@dataclass(slots=True)
class VendorRef:
    """A company as the source names it, with whatever identifiers the source gives."""

    name: str
    uei: str = ""
    duns: str = ""
    cage: str = ""
    parent_name: str = ""
    parent_uei: str = ""
    parent_duns: str = ""
    role: str = "vendor"  # vendor | client | intermediary | awardee


@dataclass(slots=True)
class CouncilRef:
    """A local council whose agenda system a source reads, and the agencies it speaks for.

    ``client`` is the council's name at the source (Legistar's ``{client}.legistar.com``);
    ``jurisdiction`` (the city or county) and ``police`` are the agencies its records name;
    ``token`` is the access token the source needs, "" when none; ``missing_token`` names
    the setting that should hold a token the installation has not set.
    """

    client: str
    name: str = ""
    jurisdiction: AgencyRef | None = None
    police: AgencyRef | None = None
    token: str = ""
    missing_token: str = ""


@dataclass(slots=True)
class Record:
    """One fact from one source, keyed by the source's own stable id.

    ``match_key`` names the real-world action across sources (the same contract action
    reported by USAspending and FPDS), so the importer folds them into one event.
    """

    source: str
    external_id: str
    kind: str
    title: str
    url: str
    raw: Any
    date: dt.date | None = None
    date_precision: str = "day"
    summary: str = ""
    text: str = ""
    amount: Decimal | None = None
    currency: str = "USD"
    agencies: list[AgencyRef] = field(default_factory=list)
    vendors: list[VendorRef] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)
    technology_hints: list[str] = field(default_factory=list)
    match_key: str = ""
    review: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Parsed:
    """What one page gave: its records, and one reason per record that had to be skipped."""

    records: list[Record] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)


def parsed_pages(
    module: Any, pages: Iterable[Page]
) -> Iterator[tuple[Page, Parsed | None, ParseError | None]]:
    """Each page with what ``module.parse`` made of it, or the ``ParseError`` it raised."""
    for page in pages:
        try:
            parsed = module.parse(page)
        except ParseError as exc:
            yield page, None, exc
            continue
        yield page, parsed, None


def record_hash(record: Record) -> str:
    """A stable fingerprint of everything a record says (the importer's "unchanged" test)."""
    payload = orjson.dumps(record, default=str, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


@dataclass(slots=True)
class Query:
    """What to ask a source for; built by the tracker from the taxonomy and settings."""

    since: dt.date | None = None
    until: dt.date | None = None
    keywords: tuple[str, ...] = ()
    psc_codes: tuple[str, ...] = ()
    naics_codes: tuple[str, ...] = ()
    # Agency sweeps: the buying units searched by codes (subtier codes, and names as the
    # sources spell them).
    agency_codes: tuple[str, ...] = ()
    agency_names: tuple[str, ...] = ()
    # Vendor sweeps: every name (aliases, subsidiaries) and UEI of the tracked vendor families.
    vendor_names: tuple[str, ...] = ()
    vendor_ueis: tuple[str, ...] = ()
    # Multi-line vendors (AWS, Anduril): searched only at the buying units above.
    unit_vendor_names: tuple[str, ...] = ()
    unit_vendor_ueis: tuple[str, ...] = ()
    # Grant sweeps: assistance listing (CFDA) numbers of programmes that fund police technology.
    grant_programs: tuple[str, ...] = ()
    # Local councils whose agenda systems are read (Legistar clients), with their agencies.
    councils: tuple[CouncilRef, ...] = ()
    feeds: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    api_key: str = ""
    username: str = ""
    password: str = ""
    max_pages: int | None = None
    max_requests: int | None = None


def modified_window(query: Query, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last-modified date range a query asks for: yesterday when it names none."""
    if query.since is None and query.until is None:
        yesterday = today - dt.timedelta(days=1)
        return yesterday, yesterday
    until = query.until or today
    return query.since or until, until


class Response(Protocol):
    status_code: int
    url: str
    headers: Any
    content: bytes


class Client(Protocol):
    """The shared HTTP client (``scrapers.http.HttpClient``) as source modules see it."""

    def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response: ...

    def post_json(
        self, url: str, payload: Any, *, headers: dict[str, str] | None = None
    ) -> Response: ...


def page_from(response: Response, **meta: Any) -> Page:
    """Wrap a client response as a ``Page``."""
    return Page(
        url=response.url,
        body=response.content,
        content_type=response.headers.get("Content-Type", ""),
        meta=meta,
    )


def load_json(page: Page) -> Any:
    """Decode a JSON page, refusing non-standard constants and non-JSON bodies."""

    def refuse_constant(name: str) -> Any:
        raise ParseError(f"non-standard JSON constant {name}")

    body = page.body.lstrip()
    if body[:1] == b"<":
        raise ParseError("HTML or XML served where JSON was expected")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=refuse_constant)
    except UnicodeDecodeError as exc:
        raise ParseError(f"body is not UTF-8: {exc.reason}") from None
    except RecursionError:
        raise ParseError("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg} at char {exc.pos}") from None
    except ValueError as exc:  # e.g. an integer longer than Python's 4,300-digit limit
        raise ParseError(f"invalid JSON: {exc}") from None


def field_drift(rows: list[Any], expected: Sequence[str], what: str) -> list[str]:
    """One note per expected field that some object rows lack (renamed or dropped upstream)."""
    objects = [row for row in rows if isinstance(row, dict)]
    notes = []
    for name in expected:
        missing = sum(1 for row in objects if name not in row)
        if missing:
            notes.append(f"{what} field {name!r} missing in {missing} of {len(objects)}")
    return notes


def parse_rows(
    rows: list[Any],
    parsed: Parsed,
    *,
    what: str,
    expected: Sequence[str],
    id_field: str,
    id_pattern: str,
    build: Callable[[str, dict[str, Any]], Record],
) -> Parsed:
    """Add one record per row of a JSON list page, each bad row noted as a problem.

    Fields from ``expected`` that rows lack are reported as drift; a row that is not an
    object, has no well-formed id, or fails to build is skipped with its reason.
    """
    parsed.drift.extend(field_drift(rows, expected, what))
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            parsed.problems.append(f"{what} #{index}: not an object")
            continue
        key = as_text(row.get(id_field))
        if not re.fullmatch(id_pattern, key):
            parsed.problems.append(f"{what} #{index}: missing or malformed {id_field}")
            continue
        try:
            parsed.records.append(build(key, row))
        except (ValueError, TypeError, RecursionError) as exc:
            parsed.problems.append(f"{what} {key}: {exc}")
    return parsed


def parse_results_page(
    page: Page,
    *,
    what: str,
    source: str,
    expected: Sequence[str],
    build: Callable[[dict[str, Any]], Record],
) -> Parsed:
    """One record per item of a REST page (``{"results": [...]}``) or of a single item.

    ``build`` raises ``ValueError`` for an unusable item; expected fields that no item has
    are reported as drift.
    """
    data = load_json(page)
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        items = data["results"]
    elif isinstance(data, dict) and "id" in data:
        items = [data]
    else:
        raise ParseError(f"not a {source} {what} page or {what}")
    parsed = Parsed()
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            parsed.problems.append(f"result {number}: not an object ({type(item).__name__})")
            continue
        try:
            parsed.records.append(build(item))
        except ValueError as exc:
            parsed.problems.append(str(exc))
    objects = [item for item in items if isinstance(item, dict)]
    for name in expected:
        if objects and not any(name in item for item in objects):
            parsed.drift.append(f"field {name!r} missing from every {what}")
    return parsed


def replay_pages(paths: Iterable[str | Path]) -> Iterator[Page]:
    """Pages read from files or folders of raw bodies (sorted), with any ``.meta.json`` sidecar."""
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.name.endswith(".meta.json"):
                continue
            sidecar = file.with_name(file.name + ".meta.json")
            meta = json.loads(sidecar.read_text("utf-8")) if sidecar.exists() else {}
            yield Page(
                url=meta.pop("url", file.resolve().as_uri()), body=file.read_bytes(), meta=meta
            )


def save_page(page: Page, directory: str | Path, number: int) -> Path:
    """Write a fetched page in replayable form: the body as-is, plus url and meta beside it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    kind = (
        "json" if "json" in page.content_type else "xml" if "xml" in page.content_type else "html"
    )
    target = directory / f"{number:06d}.{kind}"
    target.write_bytes(page.body)
    sidecar = target.with_name(target.name + ".meta.json")
    sidecar.write_text(json.dumps({"url": page.url, **page.meta}, default=str), "utf-8")
    return target
