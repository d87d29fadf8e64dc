"""Measure the tagging rules against hand-labelled rows, before a rule change is applied.

A labelled file has one JSON object a line, as ``shared/fixtures/tagging/dev_awards.jsonl``:
``row_key``, ``description``, ``vendor``, ``psc_code``/``psc_description``,
``naics_code``/``naics_description``, ``modification``, ``generated_award_id`` or ``id``, and
``labels`` (technology slugs; empty for an ordinary purchase). Rows are tagged exactly as the
importer tags an award; a terse modification that the rules cannot place takes the tags of
its award's other rows, as the importer links a modification to its base award.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tracker.models import Technology
from tracker.services.classifier import Tagger


@dataclass
class LabelScore:
    support: int = 0  # rows carrying the label
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.support if self.support else 1.0


@dataclass
class Report:
    rows: int = 0
    labelled: int = 0
    unlabelled: int = 0
    rows_found: int = 0  # labelled rows given at least one of their labels
    rows_exact: int = 0  # labelled rows given every one of their labels
    false_positive_rows: int = 0  # unlabelled rows given any tag
    labels: dict[str, LabelScore] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)

    @property
    def row_recall(self) -> float:
        return self.rows_found / self.labelled if self.labelled else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positive_rows / self.unlabelled if self.unlabelled else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "labelled": self.labelled,
            "unlabelled": self.unlabelled,
            "row_recall": round(self.row_recall, 4),
            "row_recall_all_labels": round(self.rows_exact / self.labelled, 4)
            if self.labelled
            else 1.0,
            "false_positive_rate": round(self.false_positive_rate, 4),
            "labels": {
                slug: {
                    **asdict(score),
                    "precision": round(score.precision, 4),
                    "recall": round(score.recall, 4),
                }
                for slug, score in sorted(self.labels.items())
            },
            "misses": self.misses,
            "false_positives": self.false_positives,
        }


def labelled_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a labelled JSON Lines file (blank lines skipped)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def rows_tag(rows: list[dict[str, Any]], tagger: Tagger | None = None) -> list[set[str]]:
    """The technology slugs the rules give each row, in order."""
    tagger = tagger or Tagger()
    slugs = dict(Technology.objects.values_list("pk", "slug"))
    found = [
        {slugs[t] for t in tagger.tag(**_tag_input(row)).technologies if t in slugs} for row in rows
    ]
    by_award: dict[str, set[str]] = defaultdict(set)
    for row, tags in zip(rows, found, strict=True):
        by_award[_award(row)] |= tags
    for row, tags in zip(rows, found, strict=True):
        if not tags and _is_modification(row):
            tags |= by_award[_award(row)]
    return found


def tagging_report(rows: list[dict[str, Any]], tagger: Tagger | None = None) -> Report:
    """Per-label precision and recall, the misses and the false positives."""
    report = Report(rows=len(rows))
    for row, predicted in zip(rows, rows_tag(rows, tagger), strict=True):
        wanted = set(row.get("labels") or [])
        for slug in wanted | predicted:
            score = report.labels.setdefault(slug, LabelScore())
            score.support += slug in wanted
            score.true_positives += slug in wanted and slug in predicted
            score.false_positives += slug in predicted and slug not in wanted
            score.false_negatives += slug in wanted and slug not in predicted
        if wanted:
            report.labelled += 1
            report.rows_found += bool(wanted & predicted)
            report.rows_exact += wanted <= predicted
            if not wanted <= predicted:
                report.misses.append(_example(row, predicted))
        else:
            report.unlabelled += 1
            if predicted:
                report.false_positive_rows += 1
                report.false_positives.append(_example(row, predicted))
    return report


def _tag_input(row: dict[str, Any]) -> dict[str, Any]:
    codes = {
        "psc": row.get("psc_code") or "",
        "psc_description": row.get("psc_description") or "",
        "naics": row.get("naics_code") or "",
        "naics_description": row.get("naics_description") or "",
    }
    return {
        "fields": {"summary": row.get("description") or ""},
        "vendors": [row["vendor"]] if row.get("vendor") else [],
        "codes": {k: v for k, v in codes.items() if v},
    }


def _award(row: dict[str, Any]) -> str:
    return str(row.get("generated_award_id") or row.get("id") or row.get("row_key"))


def _is_modification(row: dict[str, Any]) -> bool:
    return str(row.get("modification") or "0") not in ("0", "")


def _example(row: dict[str, Any], predicted: set[str]) -> dict[str, Any]:
    return {
        "row_key": row.get("row_key"),
        "labels": sorted(row.get("labels") or []),
        "predicted": sorted(predicted),
        "vendor": row.get("vendor"),
        "description": row.get("description"),
        "psc": row.get("psc_description") or row.get("psc_code"),
    }
