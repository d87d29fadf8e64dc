"""The sources table on the About page: each source's latest run, and a running run's progress."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tracker.models import ScrapeRun
from tracker.services import scraping

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def cell(html: str, label: str) -> str:
    """The "Latest run" cell of the row whose source has this label."""
    row = html[html.index(f">{label}</a>") :]
    start = row.index('<td class="latest-run">')
    return row[start : row.index("</td>", start)]


def test_each_sources_latest_run_is_shown(client):
    ScrapeRun.objects.create(
        source="usaspending", status="succeeded", finished_at=timezone.now(),
        pages=40, inserted=1200, updated=3, failed=0,
    )  # fmt: skip
    ScrapeRun.objects.create(
        source="fpds", status="succeeded", finished_at=timezone.now() - dt.timedelta(days=1)
    )
    ScrapeRun.objects.create(
        source="fpds", status="failed", finished_at=timezone.now(), pages=2,
        message="fpds unavailable: connection refused",
    )  # fmt: skip
    ScrapeRun.objects.create(
        source="sam", status="skipped", finished_at=timezone.now(),
        message="sam is not configured: set SAM_API_KEY",
    )  # fmt: skip
    running = ScrapeRun.objects.create(
        source="lda", status="running", pages=12, inserted=30, updated=4, failed=1
    )
    html = text(client.get("/about/"))
    usaspending = cell(html, "USAspending")
    assert "Latest run: succeeded" in usaspending
    assert "40 pages, 1,200 inserted, 3 updated" in usaspending and "failed" not in usaspending
    fpds = cell(html, "FPDS")
    assert "Latest run: failed" in fpds and "(fpds unavailable: connection refused)" in fpds
    sam = cell(html, "SAM.gov")
    assert "Latest run: skipped" in sam and "inserted" not in sam and "SAM_API_KEY" in sam
    lda = cell(html, "Senate Lobbying Disclosure")
    assert "<strong>running</strong> since" in lda
    assert f'datetime="{running.started_at.isoformat()}' in lda
    assert "12 pages so far, 30 inserted, 4 updated, 1 failed" in lda
    assert "Latest run: none yet" in cell(html, "MuckRock")


def test_the_lda_source_links_to_lda_gov(client):
    html = text(client.get("/about/"))
    assert '<a href="https://lda.gov/">Senate Lobbying Disclosure</a>' in html
    assert "lda.senate.gov" not in html


def test_the_number_of_queries_does_not_grow_with_runs(client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            text(client.get("/about/"))
        return len(captured)

    ScrapeRun.objects.create(source="usaspending", status="succeeded")
    few = queries()
    for source in ("fpds", "sam", "lda", "muckrock", "news", "atlas"):
        for status in ("succeeded", "failed", "running"):
            ScrapeRun.objects.create(source=source, status=status)
    assert queries() == few


def test_a_running_run_shows_its_pages_on_the_page_as_it_goes(
    client, starter, own_fixtures, monkeypatch
):
    """scrape_run saves its progress every few seconds; here every page seems to take ten."""
    now = [timezone.now()]

    class SlowClock:
        @staticmethod
        def now() -> dt.datetime:
            now[0] += dt.timedelta(seconds=10)
            return now[0]

    monkeypatch.setattr(scraping, "timezone", SlowClock)
    seen = []

    def look(run: ScrapeRun, counts) -> None:
        seen.append((run.pages, counts.inserted, cell(text(client.get("/about/")), "USAspending")))

    run = scraping.scrape_run(
        source="usaspending", replay=[own_fixtures / "usaspending"], progress=look
    )
    assert run.status == "succeeded" and len(seen) > 2
    for pages, inserted, shown in seen:
        assert "<strong>running</strong>" in shown
        assert f"{pages} page{'s' if pages != 1 else ''} so far, {inserted:,} inserted" in shown
    assert "Latest run: succeeded" in cell(text(client.get("/about/")), "USAspending")


def test_the_page_says_what_the_sources_search_for(client, starter):
    page = text(client.get("/about/"))
    assert "What the sources search for" in page
    assert re.search(r"<li>keywords: [1-9]\d* \(", page)
    assert "vendor names at the buying units:" in page and "Amazon Web Services" in page
    assert "SAM.gov contract awards" in page
