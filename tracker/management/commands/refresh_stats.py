"""``manage.py refresh_stats``: rebuild the denormalised entity statistics from the events."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tracker.stats import refresh_stats


class Command(BaseCommand):
    help = "Rebuild per-entity yearly totals, event counts and top counterparties."

    def handle(self, *args: Any, **options: Any) -> None:
        entities = refresh_stats()
        self.stdout.write(f"Statistics refreshed for {entities:,} entities.")
