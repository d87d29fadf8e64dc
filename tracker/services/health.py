"""Source health, computed from ``ScrapeRun`` history: too few records, a changed shape, stale.

``source_health_check(source)`` is pure (reads runs, writes nothing) and is what the about page
and the admin show. ``source_health_notify`` tells the admins once per new flag — one log line
and one email when a flag appears, nothing on later runs while it stays, and a note when it
clears — keeping what it already said in the cache.
"""

from __future__ import annotations

import datetime as dt
import logging
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.mail import mail_admins
from django.db.models import F, Max, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from tracker.models import ScrapeRun

log = logging.getLogger(__name__)

HISTORY = 10  # successful runs that make "usual"
MIN_HISTORY = 3  # fewer than this and nothing is usual yet
FEW_RECORDS_RATIO = 0.2  # a run with under a fifth of the usual records is flagged
MIN_USUAL_RECORDS = 20  # sources that usually return a handful are too noisy to judge
DONE = (ScrapeRun.Status.SUCCEEDED, ScrapeRun.Status.PARTIAL)
FINISHED = (*DONE, ScrapeRun.Status.FAILED)
STATE_KEY = "source-health:{source}:{kind}"


@dataclass(frozen=True)
class Flag:
    """One reason to look at a source: ``kind`` is few-records, shape-changed or stale."""

    source: str
    kind: str
    message: str


def schedule_interval() -> dt.timedelta:
    """How often the sources are meant to run (the daily beat schedule by default)."""
    return dt.timedelta(hours=getattr(settings, "SCRAPE_INTERVAL_HOURS", 24))


def _records(run: ScrapeRun) -> int:
    return run.inserted + run.updated + run.unchanged + run.skipped


def _flags(
    source: str, runs: list[ScrapeRun], last_success: dt.datetime | None, now: dt.datetime
) -> list[Flag]:
    """The flags for one source from its latest finished runs (newest first)."""
    flags: list[Flag] = []
    if not runs:
        return flags
    latest, earlier = runs[0], runs[1:]
    usual = [_records(run) for run in earlier if run.status in DONE][:HISTORY]
    if latest.status in DONE and len(usual) >= MIN_HISTORY:
        median = statistics.median(usual)
        got = _records(latest)
        if median >= MIN_USUAL_RECORDS and got < median * FEW_RECORDS_RATIO:
            flags.append(
                Flag(
                    source,
                    "few-records",
                    f"{source}: the last run returned {got} records; usually {median:g}",
                )
            )
    if latest.drift:
        since = _leading(runs)[-1]
        flags.append(
            Flag(
                source,
                "shape-changed",
                f"{source}: responses changed shape since {since.started_at:%Y-%m-%d}: "
                f"{'; '.join(latest.drift[:3])}",
            )
        )
    limit = 2 * schedule_interval()
    if last_success is None or now - last_success > limit:
        when = f"since {last_success:%Y-%m-%d %H:%M} UTC" if last_success else "ever"
        flags.append(
            Flag(
                source,
                "stale",
                f"{source}: no successful run {when} (expected every "
                f"{schedule_interval() / dt.timedelta(hours=1):g} h)",
            )
        )
    return flags


def _leading(runs: list[ScrapeRun]) -> list[ScrapeRun]:
    """The newest runs up to the first one without drift."""
    leading = []
    for run in runs:
        if not run.drift:
            break
        leading.append(run)
    return leading


def sources_health(
    sources: Iterable[str] | None = None, *, now: dt.datetime | None = None
) -> dict[str, list[Flag]]:
    """Flags per source (two queries for all sources); sources never run are not judged."""
    now = now or timezone.now()
    sources = list(sources if sources is not None else settings.SCRAPE_SOURCES)
    ranked = (
        ScrapeRun.objects.filter(source__in=sources, status__in=FINISHED)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("source")], order_by=F("started_at").desc())
        )
        .filter(rank__lte=HISTORY + 1)
        .defer("errors", "parameters")
        .order_by("source", "-started_at")
    )
    runs: dict[str, list[ScrapeRun]] = {source: [] for source in sources}
    for run in ranked:
        runs[run.source].append(run)
    last_success = dict(
        ScrapeRun.objects.filter(source__in=sources, status__in=DONE)
        .values("source")
        .annotate(last=Max(Coalesce("finished_at", "started_at")))
        .values_list("source", "last")
    )
    return {
        source: _flags(source, runs[source], last_success.get(source), now)
        for source in sources
        if runs[source]
    }


def source_health_check(source: str, *, now: dt.datetime | None = None) -> list[Flag]:
    """The health flags of one source right now (empty when healthy or never run)."""
    return sources_health([source], now=now).get(source, [])


def source_health_notify(source: str, *, now: dt.datetime | None = None) -> list[Flag]:
    """Tell the admins about flags that are new since the last check; return those new flags.

    Idempotent: a flag already reported is not reported again until it has cleared.
    """
    flags = source_health_check(source, now=now)
    raised = {flag.kind: flag for flag in flags}
    new = []
    for kind in ("few-records", "shape-changed", "stale"):
        key = STATE_KEY.format(source=source, kind=kind)
        if kind in raised and cache.add(key, raised[kind].message, timeout=None):
            new.append(raised[kind])
        elif kind not in raised and cache.get(key) is not None:
            cache.delete(key)
            log.info("source health: %s %s cleared", source, kind)
    for flag in new:
        log.warning("source health: %s", flag.message)
        mail_admins(f"Source health: {flag.source} {flag.kind}", flag.message, fail_silently=True)
    return new
