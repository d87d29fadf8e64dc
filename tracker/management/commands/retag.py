"""``manage.py retag``: re-apply the tagging rules to every event."""

from django.core.management.base import BaseCommand

from tracker.services.retag import events_retag


class Command(BaseCommand):
    help = "Re-apply technology tagging rules to all events (curators' tags are kept)."

    def handle(self, *args, **options) -> None:
        added, removed = events_retag()
        self.stdout.write(f"retagged: added={added} removed={removed}")
