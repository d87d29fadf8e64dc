"""A local HTTP server on 127.0.0.1 answering each source's endpoints with generated pages.

The fetch stage points the sources at it (``SOURCE_URLS``) and counts the requests it
receives. Each route serves pages in the real format of the endpoint it stands for, paged
as the real service pages: USAspending POST searches with ``page_metadata`` (and the keyset
cursor), FPDS ATOM with ``rel="next"``, SAM with ``totalRecords`` and ``offset``,
Django-REST ``next`` links (LDA, DocumentCloud, MuckRock) pointing back at this server, and
Legistar's bare OData arrays (``$top``/``$skip``, at most 1,000 rows, a short page last).

A *series* is one filter the source pages through (a keyword over a date window, say): the
request's parameters without its paging ones. The n-th series of a kind to arrive gets its
share of ``density[kind]`` rows (spread evenly: with 0.5, every other series has one row),
so a run's figures follow the volume the stage asks for. Legistar's committee meetings are
the exception: a committee meets on a calendar, not in proportion to a sweep, so each
``/events`` series holds ``COMMITTEE_MEETINGS_PER_YEAR`` meetings a year of its window.
``ROUTES`` is the table to adjust when a source starts calling another endpoint.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.sax.saxutils import escape

from tracker.bench.datagen import FPDS_ENTRY, Dataset

# The transactions (modifications included) one USAspending award has; the base action
# folds into the award's event, so an award stands for this many events. An assumption for
# the benchmark (no published ratio); the award-search path makes two requests per award.
TRANSACTIONS_PER_AWARD = 3
# Meetings a year of one council's committees that the legistar committee filter names
# ("Police", "Public Safety"): an estimate, about two a month. Oakland's, the busiest seen,
# met 45 times in 2002 (../shared/fixtures/legistar/oakland_events_unfiltered_first1000.json);
# some starter councils hear police items in committees of other names, which it skips.
COMMITTEE_MEETINGS_PER_YEAR = 24
# Items on one committee agenda, and how many of them take up a matter (the rest are roll
# call, membership and public comment): Oakland's Public Safety Committee of 2019-04-23 had
# 15 and 7 (../shared/fixtures/legistar/oakland_event-8172_eventitems_…). Agenda matters are
# generated apart from the title sweep's, so none is already read (the dearer case).
AGENDA_ITEMS = 15
AGENDA_MATTERS = 7
LEGISTAR_PAGE = 1000  # the Web API's row cap: a list answers at most this many ($top: fewer)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Reply:
    body: bytes
    content_type: str = "application/json"
    status: int = 200


Handler = Callable[["ReplayServer", Request], Reply]


@dataclass
class Series:
    number: int  # arrival order among its kind's series
    rows: int


@dataclass
class ReplayServer:
    """The server; use as a context manager. ``requests[kind]`` counts what each route served."""

    density: dict[str, float] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)
    series: dict[tuple[str, str], Series] = field(default_factory=dict)
    page_sizes: dict[str, int] = field(default_factory=dict)  # rows a full page holds, by kind
    dataset: Dataset = field(default_factory=lambda: Dataset(vendors=5_000))

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: dict[int, dict] = {}
        self._days: dict[tuple[str, int], dt.date] = {}  # Legistar rows' dates, by (kind, id)
        self._terms: dict[int, str] = {}  # the sweep word a Legistar matter's title names
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, as ``SCRAPER_TRUSTED_HOSTS`` takes it."""
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset(self, density: dict[str, float]) -> None:
        """Forget the series and counts seen so far; serve ``density`` rows per series from now."""
        with self._lock:
            self.density = dict(density)
            self.requests.clear()
            self.series.clear()
            self.page_sizes.clear()
            self._days.clear()
            self._terms.clear()

    def series_for(self, kind: str, signature: Any, page_size: int) -> Series:
        """The series a request belongs to (allocated its rows when first seen)."""
        key = (kind, json.dumps(signature, sort_keys=True, default=str))
        with self._lock:
            self.page_sizes[kind] = page_size
            found = self.series.get(key)
            if found is None:
                number = sum(1 for k, _ in self.series if k == kind)
                share = self.density.get(kind, 0.0)
                rows = math.floor((number + 1) * share) - math.floor(number * share)
                found = self.series[key] = Series(number, rows)
            return found

    def action(self, n: int) -> dict:
        """The generated facts of row ``n`` (the same every time it is asked for)."""
        with self._lock:
            if n not in self._actions:
                self._actions[n] = self.dataset.action(n)
            return self._actions[n]

    def day(self, kind: str, number: int, default: dt.date | None = None) -> dt.date:
        """The date a Legistar matter or meeting was given when listed (``default`` sets it)."""
        with self._lock:
            if default is not None:
                self._days.setdefault((kind, number), default)
            found = self._days.get((kind, number))
        return found or self.action(number)["date"]

    def term(self, matter_id: int, default: str = "") -> str:
        """The sweep word a Legistar matter was listed for (``default`` sets it)."""
        with self._lock:
            if default:
                self._terms.setdefault(matter_id, default)
            return self._terms.get(matter_id, "")

    def answer(self, request: Request) -> Reply:
        for method, pattern, kind, handler in ROUTES:
            if request.method == method and re.fullmatch(pattern, request.path):
                with self._lock:
                    self.requests[kind] += 1
                return handler(self, request)
        with self._lock:
            self.requests["unrouted"] += 1
        return Reply(b'{"detail": "Not found."}', status=404)


def _handler_class(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the stage reports counts, not request lines."""

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                body=self.rfile.read(length) if length else b"",
            )
            reply = server.answer(request)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = _serve

    return Handler


def _json(payload: Any) -> Reply:
    return Reply(json.dumps(payload).encode())


def _row_number(series: Series, position: int) -> int:
    """A number unique to one row of one series (the generated ids embed it)."""
    return series.number * 1_000_000 + position


def _without(query: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in query.items() if k not in names}


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# -- USAspending ----------------------------------------------------------------------------


def _award_id(server: ReplayServer, n: int) -> tuple[str, str]:
    a = server.action(n)
    piid = f"{a['piid'][:2]}B{n:012d}"
    return f"CONT_AWD_{piid}_{a['agency'].code}_-NONE-_-NONE-", piid


def _award_row(server: ReplayServer, n: int) -> dict[str, Any]:
    a = server.action(n)
    agency, company = a["agency"], a["company"]
    gid, piid = _award_id(server, n)
    return {
        "internal_id": n, "generated_internal_id": gid, "Award ID": piid,
        "Recipient Name": company.name, "Recipient UEI": company.uei,
        "Recipient DUNS Number": None, "Award Amount": a["amount"], "Total Outlays": None,
        "Description": a["description"], "Start Date": a["date"].isoformat(),
        "End Date": (a["date"] + dt.timedelta(days=365)).isoformat(),
        "Base Obligation Date": a["date"].isoformat(), "Last Modified Date": a["date"].isoformat(),
        "Awarding Agency": agency.department, "Awarding Agency Code": agency.toptier,
        "Awarding Sub Agency": agency.name, "Awarding Sub Agency Code": agency.code,
        "Funding Agency": agency.department, "Funding Agency Code": agency.toptier,
        "Funding Sub Agency": agency.name, "Funding Sub Agency Code": agency.code,
        "Contract Award Type": "DEFINITIVE CONTRACT",
        "NAICS": {"code": a["naics"], "description": "NAICS"},
        "PSC": {"code": a["psc"], "description": "PSC"},
    }  # fmt: skip


def _usaspending_page(
    server: ReplayServer, kind: str, request: Request, row: Callable[[int], dict[str, Any]],
    rows_of: Callable[[Series], int],
) -> Reply:  # fmt: skip
    """One POST search page: page-number paging, or the keyset cursor the API documents."""
    body = request.json()
    size = _int(body.get("limit"), 100)
    series = server.series_for(kind, body.get("filters"), size)
    total = rows_of(series)
    cursor = body.get("last_record_unique_id")
    if cursor is not None:
        start = _int(cursor, 0) - _row_number(series, 0) + 1
    else:
        start = (_int(body.get("page"), 1) - 1) * size
    numbers = [_row_number(series, p) for p in range(start, min(start + size, total))]
    results = [row(n) for n in numbers]
    last = results[-1] if results else {}
    return _json(
        {
            "limit": size,
            "results": results,
            "page_metadata": {
                "page": _int(body.get("page"), 1),
                "hasNext": start + size < total,
                "last_record_unique_id": numbers[-1] if numbers else None,
                "last_record_sort_value": str(
                    last.get("Award Amount", last.get("Transaction Amount"))
                ),
            },
            "messages": [],
        }
    )


def usaspending_awards(server: ReplayServer, request: Request) -> Reply:
    """``POST /api/v2/search/spending_by_award/``: one row per award."""
    return _usaspending_page(
        server,
        "usaspending-awards",
        request,
        lambda n: _award_row(server, n),
        lambda series: series.rows,
    )


def usaspending_transactions_search(server: ReplayServer, request: Request) -> Reply:
    """``POST /api/v2/search/spending_by_transaction/``: one row per transaction."""

    def row(n: int) -> dict[str, Any]:
        award = _award_row(server, n // TRANSACTIONS_PER_AWARD)
        mod = n % TRANSACTIONS_PER_AWARD
        return {
            **award,
            "internal_id": n,
            "Mod": str(mod),
            "Action Date": award["Start Date"],
            "Transaction Amount": award["Award Amount"] / TRANSACTIONS_PER_AWARD,
            "Transaction Description": award["Description"],
            "Action Type": None,
            "Award Type": award["Contract Award Type"],
        }

    return _usaspending_page(
        server, "usaspending-transactions", request, row, lambda series: series.rows
    )


def _award_number(award_id: str) -> int:
    found = re.search(r"B(\d{12})_", award_id)
    return int(found.group(1)) if found else 0


def usaspending_detail(server: ReplayServer, request: Request) -> Reply:
    """``GET /api/v2/awards/<generated id>/``: the award's detail."""
    n = _award_number(request.path)
    row = _award_row(server, n)
    agency = {
        "toptier_agency": {"name": row["Awarding Agency"], "code": row["Awarding Agency Code"]},
        "subtier_agency": {
            "name": row["Awarding Sub Agency"],
            "code": row["Awarding Sub Agency Code"],
        },
    }
    return _json({
        "generated_unique_award_id": row["generated_internal_id"], "piid": row["Award ID"],
        "category": "contract", "type": "D", "type_description": "DEFINITIVE CONTRACT",
        "description": row["Description"], "total_obligation": row["Award Amount"],
        "date_signed": row["Start Date"], "awarding_agency": agency, "funding_agency": agency,
        "recipient": {"recipient_name": row["Recipient Name"],
                      "recipient_uei": row["Recipient UEI"]},
        "period_of_performance": {"start_date": row["Start Date"], "end_date": row["End Date"]},
        "latest_transaction_contract_data": {"naics": row["NAICS"]["code"],
                                             "product_or_service_code": row["PSC"]["code"]},
    })  # fmt: skip


def usaspending_award_transactions(server: ReplayServer, request: Request) -> Reply:
    """``POST /api/v2/transactions/``: one award's transactions (base action and mods)."""
    body = request.json()
    award_id = str(body.get("award_id", ""))
    row = _award_row(server, _award_number(award_id))
    agency, piid = row["Awarding Sub Agency Code"], row["Award ID"]
    size, page = _int(body.get("limit"), 100), _int(body.get("page"), 1)
    mods = range((page - 1) * size, min(page * size, TRANSACTIONS_PER_AWARD))
    return _json({
        "results": [{
            "id": f"CONT_TX_{agency}_{agency}_{piid}_{mod}_-NONE-_0", "type": "D",
            "type_description": "DEFINITIVE CONTRACT", "action_date": row["Start Date"],
            "action_type": "C" if mod else None,
            "action_type_description": "FUNDING ONLY ACTION" if mod else None,
            "modification_number": str(mod),
            "description": row["Description"],
            "federal_action_obligation": row["Award Amount"] / TRANSACTIONS_PER_AWARD,
        } for mod in mods],
        "page_metadata": {"page": page, "hasNext": page * size < TRANSACTIONS_PER_AWARD},
    })  # fmt: skip


# -- FPDS -----------------------------------------------------------------------------------


def fpds_feed(server: ReplayServer, request: Request) -> Reply:
    """``GET /ezsearch/FEEDS/ATOM``: ten entries a page, ``start`` for the next."""
    series = server.series_for("fpds", _without(request.query, "start"), 10)
    start = _int(request.query.get("start"), 0)
    entries = []
    for position in range(start, min(start + 10, series.rows)):
        n = _row_number(series, position)
        a = server.action(n)
        agency, company = a["agency"], a["company"]
        entries.append(FPDS_ENTRY.format(
            piid=f"F{a['piid']}{n}", mod=0, vendor=escape(company.name), uei=company.uei,
            parent_uei=company.parent_uei, parent_name=escape(company.parent_name),
            amount=f"{a['amount']:.2f}", date=a["date"].isoformat(), agency=escape(agency.name),
            code=agency.code, dept_code=agency.code[:2] + "00",
            department=escape(agency.department), description=escape(a["description"]),
            psc=a["psc"], naics=a["naics"],
        ))  # fmt: skip
    link = ""
    if start + 10 < series.rows:
        query = urlencode({**request.query, "start": start + 10})
        link = f'<link rel="next" href="{escape(server.url(request.path + "?" + query))}"/>'
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>FPDS-NG search results</title>{link}{''.join(entries)}</feed>"
    )
    return Reply(body.encode(), content_type="application/atom+xml")


# -- SAM.gov --------------------------------------------------------------------------------


def sam_search(server: ReplayServer, request: Request) -> Reply:
    """``GET /opportunities/v2/search``: page ``offset`` of ``limit`` notices.

    The documentation calls ``offset`` a page index; the server takes it as one.
    """
    offset, limit = _int(request.query.get("offset"), 0), _int(request.query.get("limit"), 1000)
    series = server.series_for("sam", _without(request.query, "offset", "api_key"), limit)
    notices = []
    for position in range(offset * limit, min((offset + 1) * limit, series.rows)):
        n = _row_number(series, position)
        a = server.action(n)
        notice_id = f"{n:032x}"
        notices.append({
            "noticeId": notice_id, "title": a["description"].title(),
            "solicitationNumber": f"{a['piid']}S{n}",
            "fullParentPathName": f"{a['agency'].department.upper()}.{a['agency'].name.upper()}",
            "fullParentPathCode": f"{a['agency'].toptier}.{a['agency'].code}",
            "postedDate": a["date"].isoformat(), "type": "Solicitation", "baseType": "Solicitation",
            "naicsCode": a["naics"], "classificationCode": a["psc"], "active": "Yes",
            "award": None,
            "description": server.url(f"/prod/opportunities/v1/noticedesc?noticeid={notice_id}"),
            "uiLink": f"https://sam.gov/opp/{notice_id}/view",
        })  # fmt: skip
    return _json(
        {
            "totalRecords": series.rows,
            "limit": limit,
            "offset": offset,
            "opportunitiesData": notices,
        }
    )


def sam_description(server: ReplayServer, request: Request) -> Reply:
    """``GET /prod/opportunities/v1/noticedesc?noticeid=…``: one notice's description."""
    n = int(request.query.get("noticeid", "0") or "0", 16)
    return _json({"description": f"<p>{escape(server.action(n)['description'])}</p>"})


def sam_contract_awards(server: ReplayServer, request: Request) -> Reply:
    """``GET /contract-awards/v1/search``: page ``offset`` of ``limit`` award records."""
    offset, limit = _int(request.query.get("offset"), 0), _int(request.query.get("limit"), 100)
    series = server.series_for("sam-awards", _without(request.query, "offset", "api_key"), limit)
    awards = []
    for position in range(offset * limit, min((offset + 1) * limit, series.rows)):
        n = _row_number(series, position)
        a = server.action(n)
        agency, company = a["agency"], a["company"]
        awards.append({
            "contractId": {"subtier": {"code": agency.code, "name": agency.name},
                           "piid": f"F{a['piid']}{n}", "modificationNumber": "0",
                           "transactionNumber": "0", "referencedIDVPiid": None},
            "coreData": {"federalOrganization": {"contractingInformation": {
                "contractingDepartment": {"code": agency.toptier, "name": agency.department},
                "contractingSubtier": {"code": agency.code, "name": agency.name}}},
                "productOrServiceInformation": {"productOrService": {"code": a["psc"]},
                                                "principalNaics": [{"code": a["naics"]}]}},
            "awardDetails": {
                "dates": {"dateSigned": a["date"].isoformat()},
                "dollars": {"actionObligation": str(a["amount"])},
                "awardeeData": {"awardeeHeader": {"awardeeName": company.name},
                                "awardeeUEIInformation": {"uniqueEntityId": company.uei}},
                "productOrServiceInformation": {"descriptionOfContractRequirement":
                                                a["description"]},
            },
        })  # fmt: skip
    return _json(
        {
            "totalRecords": str(series.rows),
            "limit": str(limit),
            "offset": str(offset),
            "awardSummary": awards,
        }
    )


# -- Django-REST sources: LDA, DocumentCloud, MuckRock --------------------------------------


def _drf_page(
    server: ReplayServer, request: Request, kind: str, paging: str, size_param: str,
    max_size: int, item: Callable[[int, dict], dict[str, Any]],
) -> Reply:  # fmt: skip
    """A ``{count, next, previous, results}`` page; ``next`` names this server."""
    size = min(_int(request.query.get(size_param), max_size), max_size)
    series = server.series_for(kind, _without(request.query, paging), size)
    if paging == "cursor":
        start = _int(request.query.get("cursor"), 0)
    else:
        start = (_int(request.query.get("page"), 1) - 1) * size
    end = min(start + size, series.rows)
    results = [
        item(n, server.action(n)) for n in (_row_number(series, p) for p in range(start, end))
    ]
    following = None
    if end < series.rows:
        value = end if paging == "cursor" else start // size + 2
        following = server.url(f"{request.path}?{urlencode({**request.query, paging: value})}")
    return _json({"count": series.rows, "next": following, "previous": None, "results": results})


def _filing(n: int, a: dict) -> dict[str, Any]:
    company, agency = a["company"], a["agency"]
    uuid = f"{n:08x}-0000-4000-8000-{n:012x}"
    return {
        "url": f"https://lda.gov/api/v1/filings/{uuid}/", "filing_uuid": uuid,
        "filing_type": "Q2", "filing_type_display": "2nd Quarter - Report",
        "filing_year": a["date"].year, "filing_period": "second_quarter",
        "filing_document_url": f"https://lda.gov/filings/public/filing/{uuid}/print/",
        "income": f"{a['amount'] % 500_000:.2f}", "expenses": None,
        "dt_posted": f"{a['date'].isoformat()}T10:00:00-04:00", "termination_date": None,
        "registrant": {"id": 400_000_000 + n % 99_991, "name": f"{company.name} ADVOCATES"},
        "client": {"id": 200_000 + n % 999_983, "name": company.name,
                   "general_description": "Technology"},
        "lobbying_activities": [{
            "general_issue_code": "HOM", "general_issue_code_display": "Homeland Security",
            "description": a["description"],
            "lobbyists": [{"lobbyist": {"id": 70_000 + n % 900, "first_name": "Morgan",
                                        "last_name": "Hale"}}],
            "government_entities": [{"id": 10 + n % 40, "name": agency.name}],
        }],
    }  # fmt: skip


def _document(n: int, a: dict) -> dict[str, Any]:
    slug = re.sub(r"[^a-z0-9]+", "-", a["description"].lower()).strip("-")
    return {
        "id": str(n + 1), "organization": 2201, "access": "public", "status": "success",
        "title": a["description"].capitalize(), "slug": slug,
        "created_at": f"{a['date'].isoformat()}T12:00:00.000Z", "page_count": 4,
        "source": "Public records request",
        "highlights": {"page_no_1": [f"<em>{escape(a['description'].lower())}</em>"]},
        "canonical_url": f"https://www.documentcloud.org/documents/{n + 1}-{slug}",
    }  # fmt: skip


def _foia_request(n: int, a: dict) -> dict[str, Any]:
    return {
        "id": n + 1, "title": f"{a['description'].capitalize()} records",
        "slug": f"request-{n + 1}", "status": "done", "agency": 1000 + n % 3000,
        "embargo_status": "public", "requested_docs": f"All records about {a['description']}.",
        "datetime_submitted": f"{a['date'].isoformat()}T10:00:00-04:00",
        "datetime_done": None, "tracking_id": "", "price": "0.00",
    }  # fmt: skip


def lda_filings(server: ReplayServer, request: Request) -> Reply:
    """``GET /api/v1/filings/``: 25 filings a page, ``page`` for the next."""
    return _drf_page(server, request, "lda", "page", "page_size", 25, _filing)


def documentcloud_search(server: ReplayServer, request: Request) -> Reply:
    """``GET /api/documents/search/``: 25 documents a page (anonymous), cursor paging."""
    return _drf_page(server, request, "documentcloud", "cursor", "per_page", 25, _document)


def muckrock_requests(server: ReplayServer, request: Request) -> Reply:
    """``GET /api_v2/requests/``: ``page_size`` requests a page, ``page`` for the next."""
    return _drf_page(server, request, "muckrock", "page", "page_size", 100, _foia_request)


def muckrock_token(server: ReplayServer, request: Request) -> Reply:
    """``POST /accounts/api/token/`` (or ``refresh/``): MuckRock's account service's JWTs."""
    return _json({"access": "bench-access", "refresh": "bench-refresh"})


# -- Legistar -------------------------------------------------------------------------------


def _legistar_window(condition: str) -> tuple[dt.date, dt.date]:
    """The first ``ge``/``lt`` date pair of an OData ``$filter`` (the scraper's window)."""
    days = re.findall(r"datetime'(\d{4}-\d{2}-\d{2})", condition)
    start = dt.date.fromisoformat(days[0]) if days else dt.date(2024, 1, 1)
    end = dt.date.fromisoformat(days[1]) if len(days) > 1 else start + dt.timedelta(days=365)
    return start, max(end, start + dt.timedelta(days=1))


def _legistar_list(
    server: ReplayServer, request: Request, kind: str
) -> tuple[Series, str, range, tuple[dt.date, dt.date]]:
    """A list request's series (its client and filter), client, rows of this page and window."""
    query = request.query
    top = max(1, min(_int(query.get("$top"), LEGISTAR_PAGE), LEGISTAR_PAGE))
    signature = {"path": request.path.lower(), **_without(query, "$skip", "$top", "token")}
    series = server.series_for(kind, signature, top)
    skip = max(0, _int(query.get("$skip"), 0))
    client = request.path.split("/")[2].lower()
    return series, client, range(skip, skip + top), _legistar_window(query.get("$filter", ""))


def _guid(n: int) -> str:
    return f"{n % 16**8:08X}-5EB1-4000-8000-{n % 16**12:012X}"


def _row_version(n: int) -> str:
    return base64.b64encode(n.to_bytes(8, "big")).decode()


def _stamp(day: dt.date, n: int) -> str:
    return f"{day.isoformat()}T{9 + n % 9:02d}:{n % 60:02d}:{n * 7 % 60:02d}.{n % 1000:03d}"


def _midnight(day: dt.date | None) -> str | None:
    return f"{day.isoformat()}T00:00:00" if day else None


def _legistar_matter(server: ReplayServer, client: str, matter_id: int) -> dict[str, Any]:
    """One matter row: a resolution to contract with a generated company for a generated
    purchase (naming the sweep word it was listed for, if any); two in three are adopted."""
    term = server.term(matter_id)
    a = server.action(matter_id)
    modified = server.day("matter", matter_id)
    adopted = matter_id % 3 != 0
    name, form = a["company"].name.rsplit(", ", 1)  # as clerks write it: "Atlas Group, Inc."
    form = form.capitalize() if form.startswith(("INC", "CORP")) else form
    title = (
        f"Resolution Authorizing An Agreement With {name.title()}, {form} For "
        f"{term + ': ' if term else ''}{a['description'].title()} "
        f"In An Amount Not To Exceed ${a['amount']:,.2f}"
    )
    return {
        "MatterId": matter_id, "MatterGuid": _guid(matter_id),
        "MatterLastModifiedUtc": _stamp(modified, matter_id),
        "MatterRowVersion": _row_version(matter_id),
        "MatterFile": f"{modified.year % 100:02d}-{matter_id % 10_000:04d}", "MatterName": None,
        "MatterTitle": title, "MatterTypeId": 17, "MatterTypeName": "City Resolution",
        "MatterStatusId": 9 if adopted else 4,
        "MatterStatusName": "Adopted" if adopted else "In Committee",
        "MatterBodyId": 11 if adopted else 12,
        "MatterBodyName": "City Council" if adopted else "Public Safety Committee",
        "MatterIntroDate": _midnight(modified - dt.timedelta(days=28)),
        "MatterAgendaDate": _midnight(modified - dt.timedelta(days=14)),
        "MatterPassedDate": _midnight(modified - dt.timedelta(days=1)) if adopted else None,
        "MatterEnactmentDate": None, "MatterEnactmentNumber": None,
        "MatterRequester": "Police Department", "MatterNotes": None, "MatterVersion": "1",
        "MatterCost": None,
        **{f"MatterText{i}": None for i in range(1, 6)},
        "MatterDate1": None, "MatterDate2": None,
        **{f"MatterEXText{i}": None for i in range(1, 7)},
        "MatterAgiloftId": 0, "MatterReference": None, "MatterRestrictViewViaWeb": False,
        "MatterReports": [],
    }  # fmt: skip


def _matter_id(request: Request) -> int:
    return _int(request.path.split("/")[4], 0)


SWEPT_TITLE = re.compile(r"substringof\('((?:[^']|'')*)', MatterTitle\)")


def legistar_matters(server: ReplayServer, request: Request) -> Reply:
    """``GET /v1/{client}/matters?$filter=…&$orderby=MatterId&$skip=n``: the title sweep, a
    bare array of at most 1,000 matters (fewer with ``$top``) modified in the window."""
    series, client, page, (start, end) = _legistar_list(server, request, "legistar-matters")
    span = (end - start).days
    terms = [t.replace("''", "'") for t in SWEPT_TITLE.findall(request.query.get("$filter", ""))]
    matters = []
    for position in range(page.start, min(page.stop, series.rows)):
        matter_id = _row_number(series, position) + 1
        server.day("matter", matter_id, start + dt.timedelta(days=matter_id * 37 % span))
        if terms:
            server.term(matter_id, terms[matter_id % len(terms)])
        matters.append(_legistar_matter(server, client, matter_id))
    return _json(matters)


def legistar_matter(server: ReplayServer, request: Request) -> Reply:
    """``GET /v1/{client}/matters/{id}``: one matter, a bare object."""
    return _json(_legistar_matter(server, request.path.split("/")[2].lower(), _matter_id(request)))


def legistar_histories(server: ReplayServer, request: Request) -> Reply:
    """``GET /v1/{client}/matters/{id}/histories``: referred, heard in committee, and (for an
    adopted matter) adopted by the council."""
    matter_id = _matter_id(request)
    modified = server.day("matter", matter_id)
    steps = [(28, "Referred", None, "City Council"),
             (14, "Approved the Recommendation of Staff, and Forward", "Pass",
              "Public Safety Committee")]  # fmt: skip
    if matter_id % 3:
        steps.append((1, "Adopted", "Pass", "City Council"))
    rows = []
    for number, (days, action, flag, body) in enumerate(steps):
        history_id = matter_id * 4 + number
        rows.append({
            "MatterHistoryId": history_id, "MatterHistoryGuid": _guid(history_id),
            "MatterHistoryLastModifiedUtc": _stamp(modified, history_id),
            "MatterHistoryRowVersion": _row_version(history_id),
            "MatterHistoryEventId": None, "MatterHistoryAgendaSequence": number + 1,
            "MatterHistoryMinutesSequence": None, "MatterHistoryAgendaNumber": None,
            "MatterHistoryVideo": None, "MatterHistoryVideoIndex": None,
            "MatterHistoryVersion": "1", "MatterHistoryAgendaNote": None,
            "MatterHistoryMinutesNote": None,
            "MatterHistoryActionDate": _midnight(modified - dt.timedelta(days=days)),
            "MatterHistoryActionId": 20 + number, "MatterHistoryActionName": action,
            "MatterHistoryActionText": None, "MatterHistoryActionBodyId": 11 + number % 2,
            "MatterHistoryActionBodyName": body, "MatterHistoryPassedFlag": 1 if flag else None,
            "MatterHistoryPassedFlagName": flag, "MatterHistoryRollCallFlag": 0,
            "MatterHistoryFlagExtra": 0, "MatterHistoryTally": "4:0" if flag else None,
            "MatterHistoryAccelaRecordId": None, "MatterHistoryConsent": 0,
            "MatterHistoryMoverId": None, "MatterHistoryMoverName": None,
            "MatterHistorySeconderId": None, "MatterHistorySeconderName": None,
            "MatterHistoryMatterStatusId": 9 if action == "Adopted" else 4,
        })  # fmt: skip
    return _json(rows)


def _legistar_attachment(client: str, matter_id: int, number: int, day: dt.date) -> dict:
    attachment_id = matter_id * 2 + number
    name = "Staff Report" if number == 0 else "Resolution"
    return {
        "MatterAttachmentId": attachment_id, "MatterAttachmentGuid": _guid(attachment_id),
        "MatterAttachmentLastModifiedUtc": _stamp(day, attachment_id),
        "MatterAttachmentRowVersion": _row_version(attachment_id),
        "MatterAttachmentName": name,
        "MatterAttachmentHyperlink":
            f"https://{client}.legistar1.com/{client}/attachments/{_guid(attachment_id)}.pdf",
        "MatterAttachmentFileName": f"{_guid(attachment_id)}.pdf",
        "MatterAttachmentMatterVersion": "1", "MatterAttachmentIsHyperlink": False,
        "MatterAttachmentBinary": None, "MatterAttachmentIsSupportingDocument": False,
        "MatterAttachmentShowOnInternetPage": True, "MatterAttachmentIsMinuteOrder": False,
        "MatterAttachmentIsBoardLetter": False, "MatterAttachmentAgiloftId": 0,
        "MatterAttachmentDescription": None, "MatterAttachmentPrintWithReports": True,
    }  # fmt: skip


def legistar_attachments(server: ReplayServer, request: Request) -> Reply:
    """``GET /v1/{client}/matters/{id}/attachments``: a staff report and the resolution."""
    matter_id, client = _matter_id(request), request.path.split("/")[2].lower()
    day = server.day("matter", matter_id)
    rows = [_legistar_attachment(client, matter_id, n, day) | {"MatterAttachmentSort": n}
            for n in range(2)]  # fmt: skip
    return _json(rows)


def legistar_events(server: ReplayServer, request: Request) -> Reply:
    """``GET /v1/{client}/events?$filter=…&$orderby=EventId&$skip=n``: the committee's
    meetings in the window, ``COMMITTEE_MEETINGS_PER_YEAR`` of them a year, rounded
    (``EventItems`` is always empty in a list)."""
    series, client, page, (start, end) = _legistar_list(server, request, "legistar-events")
    step = 365.25 / COMMITTEE_MEETINGS_PER_YEAR
    total = round((end - start).days / step)
    events = []
    for position in range(page.start, min(page.stop, total)):
        event_id = _row_number(series, position) + 1
        held = server.day("event", event_id, start + dt.timedelta(days=int(position * step)))
        events.append({
            "EventId": event_id, "EventGuid": _guid(event_id),
            "EventLastModifiedUtc": _stamp(held + dt.timedelta(days=1), event_id),
            "EventRowVersion": _row_version(event_id), "EventBodyId": 12,
            "EventBodyName": "Public Safety Committee", "EventDate": _midnight(held),
            "EventTime": "5:30 PM", "EventVideoStatus": "Public", "EventAgendaStatusId": 2,
            "EventAgendaStatusName": "Final", "EventMinutesStatusId": 2,
            "EventMinutesStatusName": "Final", "EventLocation": "Council Chamber",
            "EventAgendaFile": f"https://{client}.legistar1.com/{client}/meetings/{held.year}/"
                               f"{held.month}/{event_id}_A_Public_Safety_Committee_Agenda.pdf",
            "EventMinutesFile": None, "EventAgendaLastPublishedUTC": _stamp(held, event_id),
            "EventMinutesLastPublishedUTC": None, "EventComment": None, "EventVideoPath": None,
            "EventInSiteURL": f"https://{client}.legistar.com/MeetingDetail.aspx?LEGID="
                              f"{event_id}&GID=100&G={_guid(event_id)}",
            "EventItems": [],
        })  # fmt: skip
    return _json(events)


def legistar_event_items(server: ReplayServer, request: Request) -> Reply:
    """``GET /v1/{client}/events/{id}/eventitems``: the agenda, ``AGENDA_ITEMS`` items of which
    ``AGENDA_MATTERS`` take up a matter (with its attachments when ``Attachments=1``)."""
    client, event_id = request.path.split("/")[2].lower(), _int(request.path.split("/")[4], 0)
    held = server.day("event", event_id)
    with_files = request.query.get("Attachments") == "1"
    items = []
    for sequence in range(AGENDA_ITEMS):
        item_id = event_id * 100 + sequence
        matter_id = None
        if sequence % 2 and sequence // 2 < AGENDA_MATTERS:
            matter_id = 10**9 + item_id
            server.day("matter", matter_id, held + dt.timedelta(days=1))
        matter = _legistar_matter(server, client, matter_id) if matter_id else {}
        files = [_legistar_attachment(client, matter_id, n, held)
                 for n in range(2 if matter_id and with_files else 0)]  # fmt: skip
        items.append({
            "EventItemId": item_id, "EventItemGuid": _guid(item_id),
            "EventItemLastModifiedUtc": _stamp(held + dt.timedelta(days=1), item_id),
            "EventItemRowVersion": _row_version(item_id), "EventItemEventId": event_id,
            "EventItemAgendaSequence": sequence + 1, "EventItemMinutesSequence": None,
            "EventItemAgendaNumber": str(sequence + 1) if matter_id else None,
            "EventItemVideo": None, "EventItemVideoIndex": None, "EventItemVersion": None,
            "EventItemAgendaNote": None, "EventItemMinutesNote": None,
            "EventItemActionId": None, "EventItemActionName": None, "EventItemActionText": None,
            "EventItemPassedFlag": None, "EventItemPassedFlagName": None,
            "EventItemRollCallFlag": 0, "EventItemFlagExtra": 0,
            "EventItemTitle": matter.get("MatterTitle") or
                              ("Roll Call", "Committee Membership", "Open Forum")[sequence % 3],
            "EventItemTally": None, "EventItemAccelaRecordId": None, "EventItemConsent": 0,
            "EventItemMoverId": None, "EventItemMover": None, "EventItemSeconderId": None,
            "EventItemSeconder": None, "EventItemMatterId": matter_id,
            "EventItemMatterGuid": matter.get("MatterGuid"),
            "EventItemMatterFile": matter.get("MatterFile"), "EventItemMatterName": None,
            "EventItemMatterType": matter.get("MatterTypeName"),
            "EventItemMatterStatus": matter.get("MatterStatusName"),
            "EventItemMatterAttachments": files,
        })  # fmt: skip
    return _json(items)


# (method, path pattern, kind counted, handler). The base URLs in ``BASE_PATHS`` point each
# source here; a source calling a new endpoint needs a row here and, if new, a handler.
ROUTES: list[tuple[str, str, str, Handler]] = [
    ("POST", r"/api/v2/search/spending_by_award/?", "usaspending-awards", usaspending_awards),
    ("POST", r"/api/v2/search/spending_by_transaction/?", "usaspending-transactions",
     usaspending_transactions_search),
    ("GET", r"/api/v2/awards/[^/]+/?", "usaspending-detail", usaspending_detail),
    ("POST", r"/api/v2/transactions/?", "usaspending-award-transactions",
     usaspending_award_transactions),
    ("GET", r"/ezsearch/FEEDS/ATOM", "fpds", fpds_feed),
    ("GET", r"/opportunities/v2/search", "sam", sam_search),
    ("GET", r"/prod/opportunities/v1/noticedesc", "sam-description", sam_description),
    ("GET", r"/contract-awards/v1/search", "sam-awards", sam_contract_awards),
    ("GET", r"/api/v1/filings/", "lda", lda_filings),
    ("GET", r"/api/documents/search/", "documentcloud", documentcloud_search),
    ("GET", r"/api_v2/requests/", "muckrock", muckrock_requests),
    ("POST", r"/accounts/api/(token|refresh)/", "muckrock-token", muckrock_token),
    ("GET", r"(?i)/v1/[^/]+/matters/?", "legistar-matters", legistar_matters),
    ("GET", r"(?i)/v1/[^/]+/matters/\d+/?", "legistar-matter", legistar_matter),
    ("GET", r"(?i)/v1/[^/]+/matters/\d+/histories/?", "legistar-histories", legistar_histories),
    ("GET", r"(?i)/v1/[^/]+/matters/\d+/attachments/?", "legistar-attachments",
     legistar_attachments),
    ("GET", r"(?i)/v1/[^/]+/events/?", "legistar-events", legistar_events),
    ("GET", r"(?i)/v1/[^/]+/events/\d+/eventitems/?", "legistar-eventitems",
     legistar_event_items),
]  # fmt: skip
# Where each source's ``base_url`` points on this server (``SOURCE_URLS``).
BASE_PATHS = {
    "usaspending": "",
    "fpds": "/ezsearch/FEEDS/ATOM",
    "sam": "/opportunities/v2/search",
    "sam_awards": "/contract-awards/v1/search",
    "lda": "/api/v1/",
    "documentcloud": "/api/",
    "muckrock": "/api_v2/",
    "muckrock_auth": "/accounts/api/",  # its auth_url
    "legistar": "/v1/",  # each council's requests go to /v1/{client}/…
}
