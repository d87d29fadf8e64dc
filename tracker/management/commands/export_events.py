"""``manage.py export_events``: the timeline's events as CSV or JSON Lines, to a file or stdout."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from tracker.exports import FORMATS, export_rows
from tracker.selectors import BadFilter, event_search, parse_filters


class Command(BaseCommand):
    help = "Export the events matching the timeline filters (same meaning as the web page)."

    def add_arguments(self, parser: CommandParser) -> None:
        for name in ("agency", "vendor", "technology"):
            parser.add_argument(f"--{name}", metavar="SLUG", default="", help=f"{name} slug")
        parser.add_argument("--kind", action="append", default=[], help="event kind (repeatable)")
        parser.add_argument("--since", metavar="DATE", default="", help="YYYY-MM-DD")
        parser.add_argument("--until", metavar="DATE", default="", help="YYYY-MM-DD")
        parser.add_argument("--q", metavar="TEXT", default="", help="words to search for")
        parser.add_argument("--order", default="", help="newest (default), oldest or amount")
        parser.add_argument(
            "--all",
            action="store_true",
            help="also events with no technology tagged (as all=1 on the web)",
        )
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("-o", "--output", required=True, metavar="FILE", help="'-' for stdout")

    def handle(self, *args, **options) -> None:
        params = {
            name: options[name]
            for name in ("agency", "vendor", "technology", "since", "until", "q", "order")
        }
        params["all"] = "1" if options["all"] else ""
        try:
            filters = parse_filters({**params, "kind": options["kind"]})
        except BadFilter as error:
            raise CommandError(str(error)) from error
        bar = None
        if self.stderr.isatty():
            bar = tqdm(total=event_search(filters).count(), unit="rows", file=sys.stderr)
        chunks = export_rows(filters, fmt=options["format"], progress=bar and bar.update)
        if options["output"] == "-":
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
        else:
            write_atomically(Path(options["output"]), chunks)
        if bar is not None:
            bar.close()


def write_atomically(path: Path, chunks: Iterable[str]) -> None:
    """Write text ``chunks`` to a temp file beside ``path`` and rename it over ``path``."""
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed after closing
            "w",
            encoding="utf-8",
            newline="",
            dir=path.parent or ".",
            prefix=f".{path.name}.",
            delete=False,
        )
    except OSError as error:
        raise CommandError(f"Cannot write {path}: {error.strerror}.") from error
    try:
        with handle:
            handle.writelines(chunks)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
