"""``manage.py scrape_all [--if-online] [--days N]``: run every configured source once."""

from __future__ import annotations

import datetime as dt
import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tracker.services.scraping import scrape_run

PROBE = ("api.usaspending.gov", 443)


def online(timeout: float = 3.0) -> bool:
    """True when a public source answers a TCP connection."""
    try:
        with socket.create_connection(PROBE, timeout=timeout):
            return True
    except OSError:
        return False


class Command(BaseCommand):
    help = "Scrape every source in SCRAPE_SOURCES over the last N days."

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
        until = timezone.localdate()
        since = until - dt.timedelta(days=days)
        for source in settings.SCRAPE_SOURCES:
            run = scrape_run(source=source, since=since, until=until)
            self.stdout.write(f"{source}: {run.status} {run.summary} {run.message}".rstrip())
