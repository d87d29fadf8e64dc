"""``manage.py backfill SOURCE --since D [--until D] [--workers N] [--window-days D]``.

Resumable: run it again after a crash or a kill and it skips the windows already done.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tracker.management.commands.scrape import iso_date
from tracker.services.backfill import (
    BackfillResult,
    WindowResult,
    backfill_done,
    backfill_run,
    backfill_windows,
    broker_app,
)
from tracker.services.scraping import SOURCES


class Command(BaseCommand):
    help = "Scrape one source over a long date range in windows (Celery tasks); resumable."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help=f"one of: {', '.join(SOURCES)}")
        parser.add_argument("--since", required=True, help="YYYY-MM-DD")
        parser.add_argument("--until", help="YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--workers",
            type=int,
            default=4,
            help="windows queued at once when a broker is configured (default 4)",
        )
        parser.add_argument(
            "--window-days", type=int, help="days per window (default: the source's own)"
        )

    def handle(
        self,
        *args,
        source: str,
        since: str,
        until: str | None,
        workers: int,
        window_days: int | None,
        **options,
    ) -> None:
        if source not in SOURCES:
            raise CommandError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        since_date = iso_date(since)
        until_date = iso_date(until) if until else timezone.localdate()
        try:
            windows = backfill_windows(
                source=source, since=since_date, until=until_date, window_days=window_days
            )
        except ValueError as exc:
            raise CommandError(f"{exc} (--since {since_date}, --until {until_date})") from None
        broker = broker_app()
        done = len(backfill_done(source=source, windows=windows))
        how = (
            f"{min(workers, len(windows))} at a time on the broker"
            if broker
            else "in this process, one after another (no broker: --workers does not apply)"
        )
        self.stderr.write(
            f"{source} {since_date}..{until_date}: {len(windows)} window(s), "
            f"{done} already done; running the rest {how}"
        )
        progress = _Progress(len(windows) - done, self.stderr)
        try:
            result = backfill_run(
                source=source,
                windows=windows,
                workers=workers,
                broker=broker,
                on_window=progress.update,
            )
        finally:
            progress.close()
        failed = result.failed
        self.stdout.write(
            f"{source}: {len(result.windows)} windows, {len(result.already_done)} already done, "
            f"{len(result.results) - len(failed)} finished, {len(failed)} failed; {result.counts}"
        )
        if failed:
            for outcome in failed:
                message = outcome.run.message if outcome.run else "no run was recorded"
                self.stderr.write(f"  {_label(outcome)} failed: {message}")
            raise CommandError(
                f"{len(failed)} window(s) failed; run the same command again to retry them"
            )


def _label(outcome: WindowResult) -> str:
    start, end = outcome.window
    return f"{start.isoformat()}..{end.isoformat()}"


class _Progress:
    """A tqdm bar over windows when stderr is a terminal, else one plain line a window."""

    def __init__(self, total: int, stream) -> None:
        self.total = total
        self.stream = stream
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="window", file=sys.stderr)

    def update(self, outcome: WindowResult, result: BackfillResult) -> None:
        totals = f"inserted={result.total('inserted')} updated={result.total('updated')}"
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(totals)
            return
        self.stream.write(
            f"[{len(result.results)}/{self.total}] {_label(outcome)} {outcome.status}; {totals}"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
