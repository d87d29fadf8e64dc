"""``manage.py retag [--dry-run]``: re-apply the tagging rules to every event."""

from django.core.management.base import BaseCommand

from tracker.services.retag import events_retag


class Command(BaseCommand):
    help = (
        "Re-apply technology tagging rules to all events (curators' tags and rejections are "
        "kept); --dry-run shows what would change and writes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="write nothing")
        parser.add_argument("--examples", type=int, default=20, help="changes to list")

    def handle(self, *args, **options) -> None:
        result = events_retag(dry_run=options["dry_run"], examples=options["examples"])
        for line in result.examples:
            self.stdout.write(line)
        verb = "would change" if options["dry_run"] else "retagged"
        self.stdout.write(
            f"{verb}: added={result.added} removed={result.removed} "
            f"evidence_updated={result.updated}"
        )
