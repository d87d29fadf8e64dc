"""Run one source: fetch (or replay) pages, parse them, import the records, record the run.

Every run writes a ``ScrapeRun`` with its counts and errors. A bad page or record is logged
with source, URL and reason and counted; the run goes on. A run that could not work at all
(network down, source unavailable) ends ``failed`` with a one-line message.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from scrapers.base import (
    Page,
    Query,
    SourceNotConfigured,
    SourceUnavailable,
    replay_pages,
    save_page,
)
from tracker.models import NewsFeed, ScrapeRun, TaggingRule, Vendor
from tracker.services.importer import ImportCounts, Importer
from tracker.services.pipeline import parsed_pages

log = logging.getLogger(__name__)

SOURCES = ("usaspending", "fpds", "sam", "lda", "muckrock", "documentcloud", "news", "atlas")
# Seconds between requests to one host, from each source's published limits.
MIN_INTERVAL = {"lda": 4.0, "documentcloud": 4.0, "news": 2.0}
MAX_DRIFT_KEPT = 50


class UnknownSource(ValueError):
    pass


def source_module(name: str) -> ModuleType:
    """The ``scrapers`` module for a source name."""
    if name not in SOURCES:
        raise UnknownSource(f"unknown source {name!r}; choose from {', '.join(SOURCES)}")
    return importlib.import_module(f"scrapers.{name}")


def source_query(source: str, *, since: dt.date | None, until: dt.date | None) -> Query:
    """What to ask a source for, from the taxonomy's search terms and codes in the database."""
    rules = TaggingRule.objects.filter(active=True)
    keywords = tuple(rules.filter(kind="keyword", search_term=True).values_list("value", flat=True))
    keys = {"sam": settings.SAM_API_KEY, "lda": settings.LDA_API_KEY}
    return Query(
        since=since,
        until=until,
        keywords=keywords,
        psc_codes=tuple(rules.filter(kind="psc").values_list("value", flat=True)),
        naics_codes=tuple(rules.filter(kind="naics").values_list("value", flat=True)),
        vendor_names=tuple(
            Vendor.objects.filter(needs_review=False).values_list("name", flat=True)
        ),
        feeds=tuple(NewsFeed.objects.filter(active=True).values_list("url", flat=True)),
        api_key=keys.get(source, ""),
        max_requests=settings.SAM_DAILY_QUOTA if source == "sam" else None,
    )


def http_client(source: str):  # -> scrapers.http.HttpClient
    """The shared client configured with this source's politeness settings."""
    from scrapers.http import HttpClient

    interval = MIN_INTERVAL.get(source, 1.0)
    if source == "lda" and settings.LDA_API_KEY:
        interval = 0.5  # 120 requests a minute with a key
    if settings.SCRAPER_MIN_INTERVAL is not None:
        interval = settings.SCRAPER_MIN_INTERVAL
    return HttpClient(
        backoff_base=settings.SCRAPER_BACKOFF_BASE,
        user_agent=f"Spyglass/0.1 (+{settings.SPYGLASS_CONTACT_URL}; public-interest research)",
        min_interval=interval,
        respect_robots=source == "news",
        trusted_hosts=settings.SCRAPER_TRUSTED_HOSTS,
    )


def _endpoint_override(module: ModuleType, source: str) -> dict[str, str]:
    """``SOURCE_URLS`` points a source at another host (a mirror, or a local test server)."""
    url = settings.SOURCE_URLS.get(source)
    if not url:
        return {}
    parameters = inspect.signature(module.fetch).parameters
    return {"base_url" if "base_url" in parameters else "url": url}


def scrape_run(
    *,
    source: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
    replay: Sequence[str | Path] = (),
    save_raw: str | Path | None = None,
    progress: Callable[[ScrapeRun, ImportCounts], None] | None = None,
) -> ScrapeRun:
    """Run one source end to end and return its finished ``ScrapeRun``."""
    module = source_module(source)
    parameters = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "replay": [str(p) for p in replay],
    }
    # Runs of this source still "running" after the longest a task may take were killed.
    # (Younger ones may be other windows of a backfill, running on other workers.)
    interrupted = ScrapeRun.objects.filter(
        source=source,
        status=ScrapeRun.Status.RUNNING,
        started_at__lt=timezone.now() - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT),
    )
    interrupted.update(
        status=ScrapeRun.Status.FAILED,
        finished_at=timezone.now(),
        message="interrupted: the process stopped before the run finished",
    )
    run = ScrapeRun.objects.create(source=source, parameters=parameters)
    importer = Importer()
    counts = importer.counts
    parsed_records = 0
    drift: list[str] = []
    try:
        pages: Iterator[Page]
        if replay:
            pages = replay_pages(replay)
        else:
            query = source_query(source, since=since, until=until)
            pages = module.fetch(http_client(source), query, **_endpoint_override(module, source))
        for page, parsed, refused in parsed_pages(module, pages):
            if save_raw:
                save_page(page, save_raw, run.pages)
            run.pages += 1
            if refused is not None:
                counts.failed += 1
                counts.error(f"{source} {page.url}: page skipped: {refused}")
                shape = f"unrecognised page shape: {refused}"
                if _well_formed_json(page.body) and shape not in drift:
                    drift.append(shape)
                continue
            for problem in parsed.problems:
                counts.failed += 1
                counts.error(f"{source} {page.url}: {problem}")
            drift.extend(d for d in parsed.drift if d not in drift)
            parsed_records += len(parsed.records)
            importer.add_many(parsed.records, parsed.hashes)
            if progress:
                progress(run, counts)
        importer.finish()
    except SourceNotConfigured as exc:
        importer.finish()
        _copy_counts(run, counts, drift)
        return _finish(run, ScrapeRun.Status.SKIPPED, str(exc))
    except SourceUnavailable as exc:
        importer.finish()
        _copy_counts(run, counts, drift)
        return _finish(run, ScrapeRun.Status.FAILED, f"{source} unavailable: {exc}")
    except Exception as exc:
        importer.close()  # the batch being written ahead, if any, is written and counted
        _copy_counts(run, counts, drift)
        _finish(run, ScrapeRun.Status.FAILED, f"crashed: {type(exc).__name__}: {exc}")
        raise
    _copy_counts(run, counts, drift)
    if run.pages == 0 or parsed_records == 0:
        status, message = ScrapeRun.Status.FAILED, "no records returned where some were expected"
    elif counts.failed:
        status, message = ScrapeRun.Status.PARTIAL, f"{counts.failed} page(s) or record(s) failed"
    else:
        status, message = ScrapeRun.Status.SUCCEEDED, ""
    run = _finish(run, status, message)
    if counts.event_ids:
        _after_import(sorted(counts.event_ids), sorted(counts.vendor_ids))
    return run


def _well_formed_json(body: bytes) -> bool:
    """Did a page the parser refused still parse as JSON (so its shape, not its syntax, changed)?"""

    def refuse(name: str) -> None:
        raise ValueError(name)

    try:
        json.loads(body, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False
    return True


def _copy_counts(run: ScrapeRun, counts: ImportCounts, drift: list[str]) -> None:
    for name in ("inserted", "updated", "unchanged", "skipped", "failed"):
        setattr(run, name, getattr(counts, name))
    run.errors = counts.errors
    run.drift = drift[:MAX_DRIFT_KEPT]


def _finish(run: ScrapeRun, status: str, message: str) -> ScrapeRun:
    run.status = status
    run.message = message[:500]
    run.finished_at = timezone.now()
    run.save()
    _health_notify(run.source)
    if message:
        log.log(
            logging.INFO if status != ScrapeRun.Status.FAILED else logging.ERROR,
            "%s: %s",
            run.source,
            message,
        )
    return run


def _health_notify(source: str) -> None:
    """Tell the admins once when this source's health flags change; never fails the run."""
    from tracker.services.health import source_health_notify

    try:
        source_health_notify(source)
    except Exception:  # health reporting must not turn a finished run into a crash
        log.exception("%s: source health check failed", source)


def _after_import(event_ids: list[int], vendor_ids: list[int]) -> None:
    """Tell the rest of the system what changed (stats, alerts, downloads, vendor review)."""
    from tracker import tasks

    transaction.on_commit(lambda: tasks.after_import.delay(event_ids, vendor_ids))


def date_windows(since: dt.date, until: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """Split [since, until] into consecutive windows of at most ``days`` days."""
    if until < since:
        raise ValueError("until is before since")
    windows = []
    start = since
    while start <= until:
        end = min(start + dt.timedelta(days=days - 1), until)
        windows.append((start, end))
        start = end + dt.timedelta(days=1)
    return windows
