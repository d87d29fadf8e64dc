"""``manage.py propose_organisations``: propose the unknown organisations named in the news
items and documents already imported."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tracker.services.importer import TEXT_MINED
from tracker.services.organisations import events_propose


class Command(BaseCommand):
    help = "Scan stored news and FOIA text for organisations no vendor or agency matches."

    def handle(self, *args: Any, **options: Any) -> None:
        touched = events_propose(TEXT_MINED)
        self.stdout.write(f"{touched:,} open organisation proposal(s) added to or updated.")
