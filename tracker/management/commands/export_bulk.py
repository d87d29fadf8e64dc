"""``manage.py export_bulk``: regenerate the bulk download files (atomic; safe to rerun)."""

from django.core.management.base import BaseCommand

from tracker.exports import bulk_exports_write


class Command(BaseCommand):
    help = "Write the gzip CSV and JSON Lines bulk downloads of the whole database."

    def handle(self, *args, **options) -> None:
        for file in bulk_exports_write():
            self.stdout.write(f"wrote {file.name} ({file.size} bytes)")
