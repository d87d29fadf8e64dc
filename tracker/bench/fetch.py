"""The fetch stage: HTTP requests per imported event for each source, and the backfill they imply.

Measured: each source's real ``scrape_run`` over a sample span, pointed (``SOURCE_URLS``) at a
local server (``tracker.bench.replay``) that serves generated pages in the source's real
format and paging, with no interval between requests. The server counts the requests; the
database counts the events imported. requests/event = the one divided by the other.

Projected: the backfill from ``BACKFILL_START`` to today of a default run. The planning client
(``tracker.services.plan``) lists the first request of every series the backfill makes (each
filter in each date window) without sending them. Each series then pages through its share of
the rows the source returns in those years, at the page size the sample run used; every row
listed also costs the other requests the sample measured per row (award details and
histories, notice descriptions; for legistar each matter's histories and attachments, and the
committee meetings, agendas and agenda matters of the sample's year in proportion to its
matters). Projected hours = projected requests / the published rate.

The volumes (rows a year the default sweeps return) are estimates, stated below with where they
come from; the rates are the services' published limits, or our polite interval where none is
published. The sample gives each series the backfill's rows per series, capped so that it
imports ``events`` rows at most; where the cap binds, the sample's own requests/event pays
relatively more first pages than the backfill does (the projection pages at the backfill's
density either way).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

from django.db.models import Count
from django.test import override_settings

from tracker.bench.replay import BASE_PATHS, TRANSACTIONS_PER_AWARD, ReplayServer
from tracker.bench.report import Row
from tracker.models import Council, Event
from tracker.services.backfill import backfill_windows
from tracker.services.plan import scrape_plan
from tracker.services.scraping import SOURCES, scrape_run
from tracker.services.starter import STARTER_DIR, starter_data_load

BACKFILL_START = dt.date(2008, 1, 1)
TARGET_HOURS = 24.0  # issue 17: a backfill within a day (report.py holds the row targets)
POLITE_PER_HOUR = 3600.0  # one request a second: our interval where no limit is published

# Contract transactions the USAspending, FPDS and SAM contract-award sweeps (keywords, PSC
# codes, tracked vendors, buying units) return a year. Estimate: about 1.5% of the ~6.5
# million contract actions FPDS records a year; to be replaced by the APIs' own counts for
# the default filters (USAspending's spending_by_transaction_count).
CONTRACT_TRANSACTIONS_PER_YEAR = 100_000
# Notices SAM.gov posts a year, all of which the one unfiltered search per window returns:
# ~280 a day (9,334 notices posted 2026-01-01..02-02, the sample recorded for scrapers/sam.py).
SAM_NOTICES_PER_YEAR = 280 * 365
# LDA filings a year (LD-1 and LD-2 with amendments): ~100,000; the keyword and tracked-client
# series return an estimated 3% of them.
LDA_FILINGS_PER_YEAR = 100_000
LDA_SWEPT_SHARE = 0.03
# Public DocumentCloud documents a year matching a search keyword: an estimate.
DOCUMENTCLOUD_DOCUMENTS_PER_YEAR = 2_000
# MuckRock requests a year whose titles match a search keyword: an estimate.
MUCKROCK_REQUESTS_PER_YEAR = 1_500
# Matters a year one council's Legistar title sweep returns: an estimate. A council files on
# the order of 1,500 matters a year (Oakland's file numbers had reached 18-1634 by its Public
# Safety Committee of 2019-04-23); substringof matches a term inside words ("Ring" in
# "Hearing", "Aware" in "Awareness"), and 3 of the 50 real matter titles in
# ../shared/fixtures/legistar/ match one, none about surveillance: about 6%. Committee
# meetings and agendas are the replay's (COMMITTEE_MEETINGS_PER_YEAR, AGENDA_MATTERS).
LEGISTAR_MATTERS_PER_COUNCIL_YEAR = 90
# The starter councils (tracker/starter/councils.json), each swept.
STARTER_COUNCILS = len(json.loads((STARTER_DIR / "councils.json").read_text("utf-8"))["councils"])


@dataclass(frozen=True)
class Rate:
    label: str  # "" for the default, else a suffix of the row's stage name
    per_hour: float
    source: str


@dataclass(frozen=True)
class Volume:
    """What a source's default sweeps return and how fast the service lets us ask."""

    rows_per_year: float  # rows of the main listing its series return, all series together
    sample_days: int  # span of the measured run (whole windows of the source's series)
    rates: tuple[Rate, ...]  # the first is the default installation's
    kinds: dict[str, float]  # replay listing kinds → listing rows per row of rows_per_year
    contract: bool = False  # the requests-per-contract-event target applies


SAM_RATES = (
    Rate("", 10 / 24, "SAM.gov: 10 requests a day for a key without a role (open.gsa.gov)"),
    Rate("role", 1000 / 24, "SAM.gov: 1,000 requests a day for a key with a role"),
)
POLITE = Rate("", POLITE_PER_HOUR, "none published: our polite interval of 1 request/s")
VOLUMES: dict[str, Volume] = {
    "usaspending": Volume(
        CONTRACT_TRANSACTIONS_PER_YEAR, 30, (POLITE,),
        # The award search returns one row per award; the transaction search one per action.
        {"usaspending-awards": 1 / TRANSACTIONS_PER_AWARD, "usaspending-transactions": 1.0},
        contract=True,
    ),
    "fpds": Volume(CONTRACT_TRANSACTIONS_PER_YEAR, 7, (POLITE,), {"fpds": 1.0}, contract=True),
    "sam": Volume(SAM_NOTICES_PER_YEAR, 365, SAM_RATES, {"sam": 1.0}),
    "sam_awards": Volume(
        CONTRACT_TRANSACTIONS_PER_YEAR, 365, SAM_RATES, {"sam-awards": 1.0}, contract=True
    ),
    "lda": Volume(
        LDA_FILINGS_PER_YEAR * LDA_SWEPT_SHARE, 365,
        (Rate("", 15 * 60, "LDA API: 15 requests/min anonymous"),
         Rate("key", 120 * 60, "LDA API: 120 requests/min with an API key")),
        {"lda": 1.0},
    ),
    "documentcloud": Volume(
        DOCUMENTCLOUD_DOCUMENTS_PER_YEAR, 365,
        (Rate("", 15 * 60, "DocumentCloud: 15 searches/min"),), {"documentcloud": 1.0},
    ),
    "muckrock": Volume(
        MUCKROCK_REQUESTS_PER_YEAR, 365,
        (Rate("", 15 * 60, "MuckRock: 15 requests/min to requests/ (its Python client)"),),
        {"muckrock": 1.0},
    ),
    "legistar": Volume(
        LEGISTAR_MATTERS_PER_COUNCIL_YEAR * STARTER_COUNCILS, 365, (POLITE,),
        {"legistar-matters": 1.0},
    ),
}  # fmt: skip
SAMPLE_START = dt.date(2024, 1, 1)
DUMMY_KEY = "bench-dummy-key"


@dataclass
class Measured:
    """One source's sample run against the local server."""

    source: str
    status: str
    message: str
    requests: int  # the server's count, every route
    planned: int  # first requests of the sample's series (the plan)
    events: int  # events with a record from this source that the run added
    kind: str = ""  # the listing the series paged through ("" when no series was served)
    listing_requests: int = 0
    rows: int = 0  # rows the listing served
    page_size: int = 0  # rows a full listing page held
    routes: dict[str, int] = field(default_factory=dict)

    @property
    def requests_per_event(self) -> float | None:
        return self.requests / self.events if self.events else None

    @property
    def other_per_row(self) -> float:
        """Requests besides the listing's pages, per row listed (award details, descriptions)."""
        return (self.requests - self.listing_requests) / self.rows if self.rows else 0.0


@dataclass
class Projection:
    """The backfill of one source: its series, their pages, and the requests rows add."""

    source: str
    series: int  # first requests of the backfill's series (planned, or scaled)
    series_how: str
    rows_per_year: float
    years: float
    requests: float = 0.0
    events: float = 0.0

    def hours(self, rate: Rate) -> float:
        return self.requests / rate.per_hour

    @property
    def rows_per_series(self) -> float:
        return self.rows_per_year * self.years / max(self.series, 1)

    def complete(self, measured: Measured) -> Projection:
        """Requests: every series' pages at the backfill's rows per series (spread evenly),
        plus the other requests per row the sample measured; events as the sample made them."""
        share = VOLUMES[self.source].kinds.get(measured.kind, 1.0)
        rows = self.rows_per_year * self.years * share
        pages = max(1, math.ceil(self.rows_per_series * share / max(measured.page_size, 1)))
        self.requests = self.series * pages + measured.other_per_row * rows
        self.events = rows * measured.events / measured.rows if measured.rows else 0.0
        return self


@contextmanager
def bench_settings(server: ReplayServer) -> Iterator[None]:
    """Settings pointing every source at ``server``: loopback trusted, no interval, dummy keys
    (a council's token variable too, when not set, so that a council needing one is read)."""
    tokens = Council.objects.filter(active=True).exclude(token="").values_list("token", flat=True)
    with (
        override_settings(
            SOURCE_URLS={source: server.url(path) for source, path in BASE_PATHS.items()},
            SCRAPER_TRUSTED_HOSTS=[server.host],
            SCRAPER_MIN_INTERVAL=0.0,
            SCRAPER_REDIS_URL="",
            SAM_API_KEY=DUMMY_KEY,
            SAM_DAILY_QUOTA=10**9,
            MUCKROCK_USERNAME="bench",
            MUCKROCK_PASSWORD=DUMMY_KEY,
        ),
        mock.patch.dict(
            os.environ, {name: DUMMY_KEY for name in tokens if not os.environ.get(name)}
        ),
    ):
        yield


def planned_requests(source: str, since: dt.date, until: dt.date) -> int:
    """The first requests of the series a run over [since, until] makes (nothing is sent)."""
    plan = scrape_plan(source=source, since=since, until=until)
    if plan.skipped:
        raise RuntimeError(f"{source}: the plan was skipped: {plan.skipped}")
    return len(plan.requests)


def measure_source(
    source: str, server: ReplayServer, *, events: int, rows_per_series: float
) -> Measured:
    """Run ``source`` over its sample span against ``server`` (inside ``bench_settings``),
    each series given ``rows_per_series`` rows, ``events`` rows at most in all."""
    volume = VOLUMES[source]
    until = SAMPLE_START + dt.timedelta(days=volume.sample_days - 1)
    planned = planned_requests(source, SAMPLE_START, until)
    per_series = min(rows_per_series, events / max(planned, 1))
    server.reset({kind: per_series * share for kind, share in volume.kinds.items()})
    before = _events(source)
    run = scrape_run(source=source, since=SAMPLE_START, until=until)
    measured = Measured(
        source=source,
        status=run.status,
        message=run.message,
        requests=sum(server.requests.values()),
        planned=planned,
        events=_events(source) - before,
        routes=dict(server.requests),
    )
    listed = [kind for kind in volume.kinds if server.requests[kind]]
    if listed:
        measured.kind = max(listed, key=lambda kind: server.requests[kind])
        measured.listing_requests = server.requests[measured.kind]
        measured.page_size = server.page_sizes[measured.kind]
        measured.rows = sum(
            series.rows for (kind, _), series in server.series.items() if kind == measured.kind
        )
    return measured


def project(source: str, *, today: dt.date) -> Projection:
    """The backfill's series (its windows times the plan of one window) and rows a year.

    ``backfill`` runs one scrape per window, so every window asks its series again.
    """
    volume = VOLUMES[source]
    years = ((today - BACKFILL_START).days + 1) / 365.25
    windows = backfill_windows(source=source, since=BACKFILL_START, until=today)
    start, end = windows[0]
    series = len(windows) * planned_requests(source, start, end)
    how = f"{len(windows)} window(s) times the plan of one"
    return Projection(source, series, how, volume.rows_per_year, years)


def fetch_stage(
    events: int,
    db: str,
    progress: Callable[[str], object],
    *,
    sources: Sequence[str] | None = None,
    today: dt.date | None = None,
) -> list[Row]:
    """Requests per imported event for each source (sample runs against the local server) and
    the projected backfill from 2008 at each published rate; ``events`` caps each sample."""
    starter_data_load()
    today = today or dt.datetime.now(dt.UTC).date()
    names = [s for s in (sources or VOLUMES) if s in SOURCES]
    rows: list[Row] = []
    with ReplayServer() as server, bench_settings(server):
        for source in names:
            projection = project(source, today=today)
            progress(
                f"fetch: {source}: {projection.series:,} series in the backfill "
                f"({projection.series_how}); sample run"
            )
            measured = measure_source(
                source, server, events=events, rows_per_series=projection.rows_per_series
            )
            rows += source_rows(measured, projection.complete(measured), db)
            progress(summary(measured, projection))
    return rows


def source_rows(measured: Measured, projection: Projection, db: str) -> list[Row]:
    """``fetch-<source>`` (requests/event of the sample) and one ``backfill-<source>`` row
    per rate (projected hours)."""
    volume = VOLUMES[measured.source]
    note = "" if measured.events else f"no events imported ({measured.status}: {measured.message})"
    details = {
        "requests": measured.requests, "events": measured.events, "rows": measured.rows,
        "planned": measured.planned, "page_size": measured.page_size,
        "routes": measured.routes, "status": measured.status,
    }  # fmt: skip
    rows = [
        Row(
            f"fetch-{measured.source}",
            db,
            measured.requests_per_event,
            None,
            unit="requests/event",
            note=note,
            extra=details,
        )
    ]
    backfill = {
        "since": BACKFILL_START.isoformat(), "series": projection.series,
        "series_how": projection.series_how,
        "rows_per_year": projection.rows_per_year, "years": round(projection.years, 2),
        "events": round(projection.events), "requests": round(projection.requests),
        "requests_per_event": projection.requests / projection.events
        if projection.events else None,
        "contract": volume.contract,
    }  # fmt: skip
    for rate in volume.rates:
        stage = f"backfill-{measured.source}" + (f"-{rate.label}" if rate.label else "")
        rows.append(
            Row(
                stage,
                db,
                projection.hours(rate),
                None,
                unit="hours",
                extra={**backfill, "rate_per_hour": rate.per_hour, "rate": rate.source},
            )
        )
    return rows


def summary(measured: Measured, projection: Projection) -> str:
    """One readable line per source: what the sample cost and what the backfill would."""
    per_event = measured.requests_per_event
    text = (f"fetch: {measured.source}: {measured.requests:,} requests / {measured.events:,} "
            f"events = {per_event:.3f} requests/event" if per_event is not None else
            f"fetch: {measured.source}: {measured.requests:,} requests, no events "
            f"({measured.status}: {measured.message})")  # fmt: skip
    text += f"; backfill {projection.requests:,.0f} requests"
    if projection.events:
        text += f" ({projection.requests / projection.events:.3f}/event)"
    for rate in VOLUMES[measured.source].rates:
        hours = projection.hours(rate)
        span = f"{hours:,.1f} h" if hours < 48 else f"{hours / 24:,.0f} days"
        verdict = "under 24 h" if hours <= TARGET_HOURS else "over 24 h"
        text += f", {span} at {rate.per_hour:,.4g}/h ({verdict})"
    return text


def _events(source: str) -> int:
    """Events with at least one source record from ``source``."""
    return Event.objects.filter(sources__source=source).aggregate(n=Count("id", distinct=True))["n"]
