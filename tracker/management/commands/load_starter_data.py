"""``manage.py load_starter_data``: load the shipped taxonomy, agencies, vendors and story."""

from django.core.management.base import BaseCommand

from tracker.services.starter import starter_data_load


class Command(BaseCommand):
    help = "Load the starter data (idempotent: running it twice changes nothing)."

    def handle(self, *args, **options) -> None:
        counts = starter_data_load()
        self.stdout.write(f"starter data loaded: created {counts}")
