"""Backfill a source over a long date range in windows, resumably, and run every source once.

A backfill is a list of date windows, each one ``scrape_source`` task. Which windows are done
is read from the ``ScrapeRun`` rows (runs are data), so a backfill killed half-way is resumed
by running the same command again: it skips the windows a finished run already covered.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from celery import Celery
from django.conf import settings
from django.utils import timezone

from tracker.models import ScrapeRun
from tracker.services.scraping import SOURCES, date_windows, scrape_run

Window = tuple[dt.date, dt.date]

# Days per window when --window-days is not given. A window is the unit of work that is lost
# to a crash and redone on a rerun, so it is as long as one run may take in comfort:
#   usaspending: a month of the swept actions stays well inside the search's 50,000-row window;
#   fpds: the ATOM feed gives 10 entries a page, so a week is already hundreds of pages;
#   sam: the API accepts at most one year a request and a public key has 10 requests a day;
#   sam_awards: a month of the swept actions is a few pages, far below the 400,000-record cap;
#   lda: filings are asked for by filing year, so a window of a year asks each year once;
#   documentcloud: documents are few; three months a window;
#   legistar: matters are swept by their modification date; a council's year is a few pages.
# muckrock, news and atlas do not filter by date (they read whole lists or feeds), so their
# range is one window: splitting it would fetch the same pages once per window.
WINDOW_DAYS: dict[str, int | None] = {
    "usaspending": 30,
    "fpds": 7,
    "sam": 365,
    "sam_awards": 30,
    "lda": 365,
    "documentcloud": 90,
    "muckrock": None,
    "news": None,
    "atlas": None,
    "legistar": 365,
}
FINISHED = (ScrapeRun.Status.SUCCEEDED, ScrapeRun.Status.PARTIAL)

log = logging.getLogger(__name__)


@dataclass
class WindowResult:
    """How one window ended: the run's status and counts (``run`` is None if no run was made)."""

    window: Window
    status: str
    run: ScrapeRun | None = None


@dataclass
class BackfillResult:
    """Every window's outcome and the running totals the progress line prints."""

    windows: list[Window]
    already_done: list[Window]
    results: list[WindowResult] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(r.run, name) for r in self.results if r.run)

    @property
    def failed(self) -> list[WindowResult]:
        return [r for r in self.results if r.status not in FINISHED]

    @property
    def counts(self) -> str:
        return " ".join(
            f"{name}={self.total(name)}"
            for name in ("inserted", "updated", "unchanged", "skipped", "failed")
        )


def backfill_windows(
    *, source: str, since: dt.date, until: dt.date, window_days: int | None = None
) -> list[Window]:
    """Split since..until into the source's windows (``window_days`` overrides the default)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
    if until < since:
        raise ValueError("until is before since")
    if window_days is not None and window_days < 1:
        raise ValueError("a window is at least one day")
    days = window_days or WINDOW_DAYS[source]
    if days is None:
        return [(since, until)]
    return date_windows(since, until, days)


def backfill_done(*, source: str, windows: Sequence[Window]) -> list[Window]:
    """The windows a succeeded or partial run of this source already covered.

    A run covers a window when its own since..until contains it, so a rerun with another
    ``--window-days``, or after the daily scrape went over the same days, does not fetch them
    again. Partial runs count as done: their failed records are listed on the run, and the
    rerun would fail on them again. Replays and open-ended runs cover nothing.
    """
    covered: list[Window] = []
    for parameters in ScrapeRun.objects.filter(source=source, status__in=FINISHED).values_list(
        "parameters", flat=True
    ):
        if parameters.get("replay") or not parameters.get("since") or not parameters.get("until"):
            continue
        covered.append(
            (dt.date.fromisoformat(parameters["since"]), dt.date.fromisoformat(parameters["until"]))
        )
    return [w for w in windows if any(s <= w[0] and w[1] <= u for s, u in covered)]


def backfill_run(
    *,
    source: str,
    windows: Sequence[Window],
    workers: int = 1,
    broker: Celery | None = None,
    queue: str | None = None,
    on_window: Callable[[WindowResult, BackfillResult], None] | None = None,
    poll_seconds: float = 1.0,
) -> BackfillResult:
    """Run the windows not done yet, one ``scrape_source`` task each, and return the outcomes.

    Without a ``broker`` the tasks run here, one after another. With one, at most ``workers``
    tasks are queued at a time (on ``queue``, or the default) and the next is queued as soon
    as one ends; each window's outcome is read from its newest ``ScrapeRun``.
    """
    done = backfill_done(source=source, windows=windows)
    result = BackfillResult(windows=list(windows), already_done=done)
    todo = [w for w in windows if w not in done]

    def record(window: Window, baseline: int) -> None:
        run = _window_run(source, window, after=baseline)
        outcome = WindowResult(window, run.status if run else ScrapeRun.Status.FAILED, run)
        result.results.append(outcome)
        if on_window:
            on_window(outcome, result)

    if broker is None:
        for window in todo:
            baseline = _last_run_id()
            try:
                _run_here(source, window)
            except Exception:  # the run row already says "crashed: …"; go on with the next window
                log.exception("%s %s..%s crashed", source, *window)
            record(window, baseline)
        return result

    pending = list(todo)
    in_flight: dict[str, tuple[Window, int]] = {}
    while pending or in_flight:
        while pending and len(in_flight) < max(1, workers):
            window = pending.pop(0)
            baseline = _last_run_id()
            sent = broker.send_task(
                "tracker.tasks.scrape_source",
                args=[source, window[0].isoformat(), window[1].isoformat()],
                queue=queue,
            )
            in_flight[sent.id] = (window, baseline)
        for task_id in [t for t in in_flight if broker.AsyncResult(t).ready()]:
            window, baseline = in_flight.pop(task_id)
            broker.AsyncResult(task_id).forget()
            record(window, baseline)
        if in_flight:
            time.sleep(poll_seconds)
    return result


def _run_here(source: str, window: Window) -> None:
    from tracker.tasks import scrape_source

    scrape_source.apply(args=[source, window[0].isoformat(), window[1].isoformat()])


def _last_run_id() -> int:
    return ScrapeRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _window_run(source: str, window: Window, *, after: int) -> ScrapeRun | None:
    """The newest run of exactly this window made since ``after`` (a retry makes several)."""
    return (
        ScrapeRun.objects.filter(
            source=source,
            pk__gt=after,
            parameters__since=window[0].isoformat(),
            parameters__until=window[1].isoformat(),
        )
        .defer("errors", "drift")
        .order_by("-pk")
        .first()
    )


def broker_app() -> Celery | None:
    """The Celery app when a broker is configured, else None (tasks then run in-process)."""
    if not settings.CELERY_BROKER_URL:
        return None
    from tracker.celery import app

    return app


@dataclass
class SourceOutcome:
    """One source's run in ``scrape_all`` (``run`` is None when no run could even start)."""

    source: str
    status: str
    run: ScrapeRun | None
    message: str


def scrape_all_run(
    *,
    since: dt.date,
    until: dt.date,
    sources: Sequence[str] | None = None,
    on_source: Callable[[SourceOutcome], None] | None = None,
) -> list[SourceOutcome]:
    """Run each source once over since..until, in turn; a crash in one does not stop the rest."""
    outcomes = []
    for source in settings.SCRAPE_SOURCES if sources is None else sources:
        baseline = _last_run_id()
        try:
            run = scrape_run(source=source, since=since, until=until)
        except (KeyboardInterrupt, SystemExit):
            _mark_interrupted(source, after=baseline)
            raise
        except Exception as exc:  # scrape_run recorded a crash on its run before re-raising
            log.exception("%s crashed", source)
            run = ScrapeRun.objects.filter(source=source, pk__gt=baseline).order_by("-pk").first()
            message = run.message if run else f"{type(exc).__name__}: {exc}"
            outcome = SourceOutcome(source, ScrapeRun.Status.FAILED, run, message)
        else:
            outcome = SourceOutcome(source, run.status, run, run.message)
        outcomes.append(outcome)
        if on_source:
            on_source(outcome)
    return outcomes


def _mark_interrupted(source: str, *, after: int) -> None:
    """Close the run this process was making when it was stopped (Ctrl-C, SIGTERM).

    ``scrape_run`` only closes runs a killed process left behind once they are older than the
    task time limit, and until then the sources page would show this one as running.
    """
    ScrapeRun.objects.filter(source=source, pk__gt=after, status=ScrapeRun.Status.RUNNING).update(
        status=ScrapeRun.Status.FAILED,
        finished_at=timezone.now(),
        message="interrupted: the process was stopped before the run finished",
    )


def scrape_all_failed(outcomes: Sequence[SourceOutcome]) -> list[SourceOutcome]:
    """The sources whose run failed; a skipped source (not configured) is not a failure."""
    return [o for o in outcomes if o.status == ScrapeRun.Status.FAILED]
