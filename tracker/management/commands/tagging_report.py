"""``manage.py tagging_report --labelled FILE [--json]``: how well the rules tag labelled rows."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker.services.tagging_report import labelled_rows, tagging_report


class Command(BaseCommand):
    help = (
        "Tag hand-labelled award rows with the current rules and print per-label precision "
        "and recall, the misses and the false positives "
        "(e.g. shared/fixtures/tagging/dev_awards.jsonl)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--labelled", required=True, type=Path, help="JSON Lines file")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, **options) -> None:
        path: Path = options["labelled"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            rows = labelled_rows(path)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: not JSON Lines ({exc})") from exc
        report = tagging_report(rows).as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(
            f"rows={report['rows']} labelled={report['labelled']} "
            f"row_recall={report['row_recall']:.3f} "
            f"row_recall_all_labels={report['row_recall_all_labels']:.3f} "
            f"false_positive_rate={report['false_positive_rate']:.3f}"
        )
        self.stdout.write(f"\n{'label':40} {'rows':>5} {'precision':>9} {'recall':>7}")
        for slug, score in report["labels"].items():
            precision, recall = score["precision"], score["recall"]
            self.stdout.write(f"{slug:40} {score['support']:>5} {precision:>9.3f} {recall:>7.3f}")
        for title, examples in (
            ("misses", report["misses"]),
            ("false positives", report["false_positives"]),
        ):
            self.stdout.write(f"\n{title} ({len(examples)}):")
            for ex in examples:
                self.stdout.write(
                    f"  {ex['row_key']}: wanted {', '.join(ex['labels']) or '-'}; got "
                    f"{', '.join(ex['predicted']) or '-'} | {ex['vendor']} | {ex['description']}"
                )
