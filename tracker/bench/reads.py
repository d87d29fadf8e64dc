"""Read-side stages: timeline page, free-text search and entity page, each against raw SQL.

Our figures are server times of the real views (Django's test client, no network) or of
``event_search`` itself; the baselines are hand-written SQL fetching the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.test import Client

from tracker.bench.loader import Loaded
from tracker.bench.report import Row, percentile, timed
from tracker.fulltext import PG_SEARCH, SQLITE_SEARCH, fts5_query, query_terms, tsquery
from tracker.models import Agency, Technology
from tracker.selectors import EventFilters, event_count, event_search
from tracker.views.timeline import COUNT_CAP

PAGE_TECHNOLOGY = "biometrics"
SINCE, UNTIL = "2012-01-01", "2022-12-31"
SEARCHES = ("recognition", "license plate", "memo17", "keystone program", "rekog", "zeppelin")
COLUMNS = "e.id, e.kind, e.date, e.date_precision, e.title, e.amount, e.currency, e.review_state"
NAMES = {
    "agency": ("tracker_eventagency", "tracker_agency"),
    "vendor": ("tracker_eventvendor", "tracker_vendor"),
    "technology": ("tracker_eventtechnology", "tracker_technology"),
}


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _names(ids: list[int]) -> None:
    """The hand-written way to show a page of rows: one name query per link table."""
    if not ids:
        return
    marks = ", ".join(["%s"] * len(ids))
    for name, (link, table) in NAMES.items():
        _fetch(
            f"SELECT l.event_id, t.name, t.slug FROM {link} l JOIN {table} t "  # noqa: S608
            f"ON t.id = l.{name}_id WHERE l.event_id IN ({marks})",
            ids,
        )
    sql = f"SELECT event_id, source FROM tracker_sourcerecord WHERE event_id IN ({marks})"  # noqa: S608
    _fetch(sql, ids)


def _subtree_where(agency_path: str, technology_path: str | None) -> tuple[str, list[Any]]:
    where = (
        "EXISTS (SELECT 1 FROM tracker_eventagency ea WHERE ea.event_id = e.id AND ea.agency_id"
        " IN (SELECT id FROM tracker_agency WHERE path LIKE %s))"
    )
    params: list[Any] = [agency_path + "%"]
    if technology_path:
        where += (
            " AND EXISTS (SELECT 1 FROM tracker_eventtechnology et WHERE et.event_id = e.id AND"
            " et.technology_id IN (SELECT id FROM tracker_technology WHERE path LIKE %s))"
        )
        params.append(technology_path + "%")
    return where, params


def _raw_page(where: str, params: list[Any]) -> Callable[[], None]:
    def run() -> None:
        rows = _fetch(
            f"SELECT {COLUMNS} FROM tracker_event e WHERE {where} "  # noqa: S608
            "ORDER BY e.date DESC, e.id DESC LIMIT 50",
            params,
        )
        _names([row[0] for row in rows])

    return run


def _raw_count(where: str, params: list[Any]) -> Callable[[], None]:
    return lambda: _fetch(f"SELECT count(*) FROM tracker_event e WHERE {where}", params)  # noqa: S608


def _client_get(client: Client, url: str) -> Callable[[], None]:
    def run() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")

    return run


def page_stage(loaded: Loaded, db: str, repeat: int) -> list[Row]:
    """Timeline page with an agency, a technology and a date range; and its count."""
    client = Client()
    url = (
        f"/events/?agency={loaded.big_agency}&technology={PAGE_TECHNOLOGY}"
        f"&since={SINCE}&until={UNTIL}"
    )
    ours = timed(_client_get(client, url), repeat)
    agency_path = Agency.objects.get(slug=loaded.big_agency).path
    technology_path = Technology.objects.get(slug=PAGE_TECHNOLOGY).path
    where, params = _subtree_where(agency_path, technology_path)
    where += " AND e.date >= %s AND e.date <= %s"
    params += [SINCE, UNTIL]
    baseline = timed(_raw_page(where, params), repeat)
    filters = EventFilters.from_params(
        {"agency": loaded.big_agency, "technology": PAGE_TECHNOLOGY, "since": SINCE,
         "until": UNTIL}
    )
    counts = timed(lambda: event_count(filters), max(5, repeat // 5))
    raw_counts = timed(_raw_count(where, params), max(5, repeat // 5))
    extra = {"url": url, "matching": event_count(filters)}
    return [
        Row("page-p50", db, percentile(ours, 0.5), percentile(baseline, 0.5), extra=extra),
        Row("page-p95", db, percentile(ours, 0.95), percentile(baseline, 0.95), extra=extra),
        Row("page-count", db, percentile(counts, 0.5), percentile(raw_counts, 0.5), extra=extra),
    ]


def _raw_search(q: str) -> Callable[[], None]:
    terms = query_terms(q)
    if connection.vendor == "postgresql":
        inner, params = PG_SEARCH, [tsquery(terms)]
    else:
        inner, params = SQLITE_SEARCH, [fts5_query(terms)]
    where = f"e.id IN ({inner})"

    def run() -> None:
        _raw_page(where, params)()
        _fetch(
            f"SELECT count(*) FROM (SELECT 1 FROM tracker_event e WHERE {where}"  # noqa: S608
            f" LIMIT {COUNT_CAP + 1}) x",
            params,
        )

    return run


def search_stage(loaded: Loaded, db: str, repeat: int) -> list[Row]:
    """The timeline searched for words: its first page with the count the page shows.

    Our figure is the search page's server time (``/events/?q=…``); the baseline is the raw
    SQL for the same 50 rows, their link names and the count capped as the page caps it.
    """
    client = Client()
    ours: list[float] = []
    baseline: list[float] = []
    each = max(3, repeat // len(SEARCHES))
    for q in SEARCHES:
        ours += timed(_client_get(client, f"/events/?{urlencode({'q': q})}"), each)
        baseline += timed(_raw_search(q), each)
    hits = {q: event_count(EventFilters(q=q)) for q in SEARCHES}
    return [Row("search-p95", db, percentile(ours, 0.95), percentile(baseline, 0.95),
                extra={"queries": hits, "count_cap": COUNT_CAP})]


def _raw_entity(path: str) -> Callable[[], None]:
    where, params = _subtree_where(path, None)

    def run() -> None:
        _raw_page(where, params)()
        _raw_count(where, params)()
        _fetch(
            "SELECT substr(CAST(e.date AS TEXT), 1, 4) AS year, count(*), sum(CASE WHEN e.kind"  # noqa: S608
            " IN ('award', 'modification') THEN e.amount END) FROM tracker_event e"
            f" WHERE {where} GROUP BY 1",
            params,
        )
        _fetch(
            "SELECT v.slug, v.name, count(DISTINCT ev.event_id) AS n FROM tracker_eventvendor ev"  # noqa: S608
            " JOIN tracker_vendor v ON v.id = ev.vendor_id WHERE ev.event_id IN (SELECT e.id FROM"
            f" tracker_event e WHERE {where}) GROUP BY v.slug, v.name ORDER BY n DESC LIMIT 10",
            params,
        )

    return run


def entity_stage(loaded: Loaded, db: str, repeat: int) -> list[Row]:
    """The page of the agency with the most events (its timeline, totals, top vendors)."""
    agency = Agency.objects.get(slug=loaded.big_agency)
    ours = timed(_client_get(Client(), agency.get_absolute_url()), repeat)
    baseline = timed(_raw_entity(agency.path), repeat)
    events = event_search(EventFilters(agency=agency.slug)).count()
    return [Row("entity-p95", db, percentile(ours, 0.95), percentile(baseline, 0.95),
                extra={"agency": agency.slug, "agency_events": events})]
