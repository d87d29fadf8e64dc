"""``manage.py scrape_all [--if-online] [--days N]``: run every configured source once.

Prints a table of sources and outcomes and exits non-zero when any source failed, so cron
and monitoring see it; a skipped source (not configured, e.g. ``sam`` without a key) is not a
failure.
"""

from __future__ import annotations

import datetime as dt
import signal
import socket
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tracker.services.backfill import SourceOutcome, scrape_all_failed, scrape_all_run

PROBE = ("api.usaspending.gov", 443)
COUNTS = ("inserted", "updated", "unchanged", "failed")
COLUMNS = ("source", "status", *COUNTS, "message")


def online(timeout: float = 3.0) -> bool:
    """True when a public source answers a TCP connection."""
    try:
        with socket.create_connection(PROBE, timeout=timeout):
            return True
    except OSError:
        return False


class Command(BaseCommand):
    help = "Scrape every source in SCRAPE_SOURCES over the last N days; non-zero exit on failure."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-online",
            action="store_true",
            help="do nothing (and succeed) when the network is unreachable",
        )
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, if_online: bool, days: int, **options) -> None:
        if if_online and not online():
            self.stdout.write("offline: live scraping skipped (the starter data is loaded)")
            return
        # SIGTERM (``make run`` stopping its background scrape) unwinds like Ctrl-C, so the
        # run being made is marked interrupted instead of showing as running.
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        until = timezone.localdate()
        try:
            outcomes = scrape_all_run(
                since=until - dt.timedelta(days=days),
                until=until,
                on_source=lambda o: self.stderr.write(
                    f"{o.source}: {o.status} {o.message}".rstrip()
                ),
            )
        finally:
            signal.signal(signal.SIGTERM, previous)
        self.stdout.write(outcomes_table(outcomes))
        failed = scrape_all_failed(outcomes)
        if failed:
            names = ", ".join(o.source for o in failed)
            raise CommandError(f"{len(failed)} source(s) failed: {names}")


def _exit_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(128 + signum)


def outcomes_table(outcomes: list[SourceOutcome]) -> str:
    """A plain-text table, one row a source: names left-aligned, counts right-aligned."""
    rows = [COLUMNS] + [
        (
            o.source,
            o.status,
            *(str(getattr(o.run, name, 0)) for name in COUNTS),
            o.message,
        )
        for o in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if name in COUNTS else cell.ljust(width)
            for name, cell, width in zip(COLUMNS, row, widths, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
