"""``manage.py bench``: our throughput and latencies against hand-written baselines, as a table."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tracker.bench import runner
from tracker.bench.fetch import VOLUMES
from tracker.bench.report import STAGES, json_lines, table

DATABASES = ("sqlite", "postgresql")


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


FETCH_SOURCES = tuple(VOLUMES)


class Command(BaseCommand):
    help = "Benchmark ingest, pages, search, export, alerts and tagging against hand-written code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=1_000_000, help="dataset size")
        parser.add_argument("--db", choices=(*DATABASES, "all"), default="sqlite")
        parser.add_argument("--only", action="append", choices=STAGES, metavar="STAGE",
                            help=f"run only this stage (repeatable): {', '.join(STAGES)}")
        parser.add_argument("--ingest-events", type=int, default=None,
                            help="events per ingest source (default: --events, at most 100,000)")
        parser.add_argument("--tagging-records", type=int, default=200_000,
                            help="award records the tagging stage tags")
        parser.add_argument("--fetch-events", type=int, default=5_000,
                            help="events at most in each source's fetch sample run")
        parser.add_argument("--fetch-source", action="append", choices=FETCH_SOURCES,
                            metavar="SOURCE", help="fetch only this source (repeatable): "
                            f"{', '.join(FETCH_SOURCES)}")
        parser.add_argument("--repeat", type=int, default=50, help="requests per latency stage")
        parser.add_argument("--fresh", action="store_true", help="rebuild the dataset")
        parser.add_argument("--json", action="store_true", help="print JSON lines")
        parser.add_argument("--child", action="store_true", help="(internal) run in this process")

    def handle(self, *args, **options) -> None:
        stages = options["only"] or list(STAGES)
        events = options["events"]
        ingest_events = options["ingest_events"] or min(events, 100_000)
        if options["child"]:
            rows = runner.child_rows(
                options["db"], stages=stages, events=events, ingest_events=ingest_events,
                tagging_records=options["tagging_records"], repeat=options["repeat"],
                fetch_events=options["fetch_events"], progress=progress,
                fetch_sources=options["fetch_source"],
            )
            self.stdout.write(json_lines(rows), ending="")
            return
        passed = ["--events", str(events), "--ingest-events", str(ingest_events),
                  "--tagging-records", str(options["tagging_records"]),
                  "--repeat", str(options["repeat"]),
                  "--fetch-events", str(options["fetch_events"])]
        passed += [f"--fetch-source={source}" for source in options["fetch_source"] or ()]
        rows = []
        for db in DATABASES if options["db"] == "all" else (options["db"],):
            for stage in runner.OWN_DATABASE:
                if stage in stages:
                    url = runner.database_url(db, f"bench-{stage}")
                    self._prepare(db, url, fresh=True)
                    rows += runner.run_child(db, url=url, stages=[stage], options=passed,
                                             progress=progress)
            reading = [stage for stage in stages if stage not in runner.OWN_DATABASE]
            if reading:
                url = runner.database_url(db, f"bench-{events}")
                self._prepare(db, url, fresh=options["fresh"])
                rows += runner.run_child(db, url=url, stages=reading, options=passed,
                                         progress=progress)
        self.stdout.write(json_lines(rows) if options["json"] else table(rows) + "\n", ending="")

    @staticmethod
    def _prepare(db: str, url: str, *, fresh: bool) -> None:
        if db == "postgresql":
            runner.ensure_postgres(url, recreate=fresh)
            return
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
