"""Celery tasks: thin doors onto the scraping services.

Each task takes plain strings, calls one service and is safe to run twice (imports are
idempotent), so ``acks_late`` redelivery after a lost worker only costs a rerun.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from pathlib import Path

from celery import group, shared_task
from django.conf import settings
from django.utils import timezone

from tracker.models import ScrapeRun
from tracker.services.backfill import backfill_windows
from tracker.services.scraping import scrape_run

log = logging.getLogger(__name__)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@shared_task(bind=True, name="tracker.tasks.scrape_source", max_retries=3, acks_late=True)
def scrape_source(
    self,
    source: str,
    since: str | None = None,
    until: str | None = None,
    replay: list[str] | None = None,
) -> str:
    """Run one source over one date window (or replay files); retried with backoff when down."""
    run = scrape_run(source=source, since=_date(since), until=_date(until), replay=replay or ())
    if run.status == ScrapeRun.Status.FAILED and "unavailable" in run.message:
        countdown = min(3600, 60 * 2**self.request.retries) * (0.5 + random.random())
        raise self.retry(countdown=countdown)
    return f"{source} {since}..{until} {run.status} {run.summary}"


def backfill_signatures(
    source: str,
    since: str | None = None,
    until: str | None = None,
    window_days: int | None = None,
    replay: list[str] | None = None,
) -> list:
    """One task signature per window (the source's default size, ``WINDOW_DAYS``), or per file."""
    if replay:
        files = [
            str(p)
            for path in map(Path, replay)
            for p in (sorted(path.rglob("*")) if path.is_dir() else [path])
            if p.is_file() and not p.name.endswith(".meta.json")
        ]
        return [scrape_source.si(source, None, None, [file]) for file in files]
    if not since or not until:
        raise ValueError("a backfill needs since and until (or replay files)")
    windows = backfill_windows(
        source=source,
        since=dt.date.fromisoformat(since),
        until=dt.date.fromisoformat(until),
        window_days=window_days,
    )
    return [scrape_source.si(source, start.isoformat(), end.isoformat()) for start, end in windows]


@shared_task(name="tracker.tasks.scrape_backfill")
def scrape_backfill(
    source: str,
    since: str | None = None,
    until: str | None = None,
    window_days: int | None = None,
    replay: list[str] | None = None,
) -> int:
    """Split a long range into windows and queue one task each; any number of workers share them."""
    signatures = backfill_signatures(source, since, until, window_days, replay)
    group(signatures).apply_async()
    return len(signatures)


@shared_task(name="tracker.tasks.scrape_all_incremental")
def scrape_all_incremental() -> list[str]:
    """The daily schedule: each configured source since its last successful run."""
    today = timezone.localdate()
    queued = []
    for source in settings.SCRAPE_SOURCES:
        last = (
            ScrapeRun.objects.filter(source=source, status__in=["succeeded", "partial"])
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
        since = (last.date() - dt.timedelta(days=1)) if last else today - dt.timedelta(days=7)
        scrape_source.delay(source, since.isoformat(), today.isoformat())
        queued.append(source)
    return queued


@shared_task(name="tracker.tasks.after_import", acks_late=True)
def after_import(event_ids: list[int], vendor_ids: list[int] | None = None) -> int:
    """Follow-up work once an import committed changed events."""
    from tracker.alerts.tasks import alerts_after_import
    from tracker.exports import bulk_exports_write, refresh_export_cells
    from tracker.services.entities import vendors_flag_near_matches
    from tracker.stats import refresh_stats_for_events

    log.info("%d events changed", len(event_ids))
    vendors_flag_near_matches(vendor_ids or [])
    refresh_stats_for_events(event_ids)
    refresh_export_cells(event_ids)
    alerts_after_import(event_ids)
    bulk_exports_write()
    return len(event_ids)


def queue_after_import(sender: object, *, event_ids: list[int], vendor_ids: list[int], **_) -> None:
    """Receiver of ``scraping.events_changed`` (connected in ``TrackerConfig.ready``)."""
    after_import.delay(event_ids, vendor_ids)


@shared_task(name="tracker.tasks.export_cells_fill")
def export_cells_fill() -> int:
    """Store the export cells of every event without them (after renames, edits, merges)."""
    from tracker.exports import refresh_export_cells

    return refresh_export_cells()


@shared_task(name="tracker.tasks.source_health_sweep")
def source_health_sweep() -> int:
    """Tell the admins about new source health flags (a stale source never triggers a run)."""
    from tracker.services.health import source_health_notify

    return sum(len(source_health_notify(source)) for source in settings.SCRAPE_SOURCES)
