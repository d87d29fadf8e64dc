"""``manage.py refresh_export_cells``: store the CSV export's link cells of events without them.

After upgrading to migration 0008, or restoring a database, this fills every row at once
(the hourly ``export_cells_fill`` task would too); exports are correct meanwhile, only slower.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from tracker.exports import refresh_export_cells
from tracker.models import Event


class Command(BaseCommand):
    help = "Store the CSV export's link cells of every event without them (--all: recompute all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", help="recompute every event's cells, not only missing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bar = None
        if self.stderr.isatty():
            bar = tqdm(total=Event.objects.count(), unit="events", file=sys.stderr)
        ids = Event.objects.values_list("id", flat=True).iterator() if options["all"] else None
        written = refresh_export_cells(ids, progress=bar and bar.update)
        if bar is not None:
            bar.close()
        self.stdout.write(f"Export cells stored for {written:,} events.")
