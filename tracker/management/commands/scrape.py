"""``manage.py scrape SOURCE [--since] [--until] [--replay PATH ...] [--save-raw DIR] [--plan]``."""

from __future__ import annotations

import datetime as dt
import os
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.models import ScrapeRun
from tracker.services.plan import scrape_plan
from tracker.services.scraping import SOURCES, scrape_run


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (use YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Fetch (or replay) one source and import it; prints inserted=N updated=N … at the end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", choices=SOURCES)
        parser.add_argument("--since", type=str, help="YYYY-MM-DD")
        parser.add_argument("--until", type=str, help="YYYY-MM-DD")
        parser.add_argument(
            "--replay",
            nargs="+",
            default=[],
            metavar="PATH",
            help="files or folders of raw response bodies instead of the network",
        )
        parser.add_argument(
            "--save-raw", metavar="DIR", help="write fetched pages here, replayable"
        )
        parser.add_argument(
            "--plan",
            action="store_true",
            help="print the requests a run would send and their count; send none",
        )

    def handle(
        self,
        *args,
        source: str,
        since: str | None,
        until: str | None,
        replay: list[str],
        save_raw: str | None,
        plan: bool = False,
        **options,
    ) -> None:
        since_date = iso_date(since) if since else None
        until_date = iso_date(until) if until else None
        if since_date and until_date and until_date < since_date:
            raise CommandError("--until is before --since")
        if plan:
            if replay or save_raw:
                raise CommandError("--plan sends nothing, so it takes no --replay or --save-raw")
            self.stdout.write(
                "\n".join(scrape_plan(source=source, since=since_date, until=until_date).lines())
            )
            return
        missing = [path for path in replay if not os.path.exists(path)]
        if missing:
            raise CommandError(f"--replay path not found: {missing[0]}")
        bar = self._progress_bar(source)
        try:
            run = scrape_run(
                source=source,
                since=since_date,
                until=until_date,
                replay=replay,
                save_raw=save_raw,
                progress=bar.update if bar else None,
            )
        finally:
            if bar:
                bar.close()
        for error in run.errors[:20]:
            self.stderr.write(f"  {error}")
        if run.drift:
            self.stderr.write(f"  schema drift: {'; '.join(run.drift[:5])}")
        if run.message:
            self.stderr.write(f"{source}: {run.message}")
        self.stdout.write(run.summary)
        if run.status == ScrapeRun.Status.FAILED:
            raise CommandError(f"{source} run failed: {run.message}")

    def _progress_bar(self, source: str):
        if not sys.stderr.isatty():
            return None
        return _Progress(source)


class _Progress:
    """A tqdm bar over pages, with the running counts."""

    def __init__(self, source: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(desc=source, unit="page", file=sys.stderr)

    def update(self, run, counts) -> None:
        self.bar.update(run.pages - self.bar.n)
        self.bar.set_postfix_str(counts.summary, refresh=False)

    def close(self) -> None:
        self.bar.close()
