"""Benchmark rows, their targets, timing and memory helpers, and the printed table."""

from __future__ import annotations

import json
import math
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# stage: (unit, higher is better, absolute target, ratio goal)
TARGETS: dict[str, tuple[str, bool, float, float]] = {
    "ingest-usaspending": ("events/s", True, 2000, 0),
    "ingest-fpds": ("events/s", True, 2000, 0),
    "page-p50": ("ms", False, 30, 0.25),
    "page-p95": ("ms", False, 100, 0.25),
    "page-count": ("ms", False, 100, 0.25),
    "search-p95": ("ms", False, 150, 0.25),
    "export": ("rows/s", True, 50_000, 0.5),
    # The same export computing every chunk's link cells: the stored cells stay while this misses.
    "export-unstored": ("rows/s", True, 50_000, 0),
    "export-filtered": ("s", False, 0.5, 0),  # ICE and ALPR: costs its rows, not the database
    "alerts": ("s", False, 10, 0.5),
    # The same subscriptions through one event_search each: why the matcher is compiled.
    "alerts-by-search": ("s", False, 10, 0),
    "entity-p95": ("ms", False, 150, 0.25),
    "tagging": ("records/s", True, 50_000, 0.5),
}
# The fetch stage (issue 17): requests per contract event, and a backfill within 24 hours at
# each published rate. No baseline, so no ratio goal.
TARGETS |= {f"fetch-{source}": ("requests/event", False, 0.05, 0)
            for source in ("usaspending", "fpds", "sam_awards")}
TARGETS |= {f"backfill-{source}": ("hours", False, 24, 0)
            for source in ("usaspending", "fpds", "sam", "sam-role", "sam_awards",
                           "sam_awards-role", "lda", "lda-key", "documentcloud", "muckrock",
                           "legistar")}
STAGES = ("ingest", "page", "search", "export", "export_filtered", "alerts", "entity", "tagging",
          "fetch")


@dataclass
class Row:
    """One line of the table: our figure, the hand-written baseline's, and their ratio."""

    stage: str
    db: str
    ours: float | None
    baseline: float | None
    unit: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.unit and self.stage in TARGETS:
            self.unit = TARGETS[self.stage][0]

    @property
    def higher_is_better(self) -> bool:
        return TARGETS.get(self.stage, ("", True, 0, 0))[1]

    @property
    def ratio(self) -> float | None:
        """Our throughput ÷ the baseline's, or for times the baseline's ÷ ours (1.0 = as fast)."""
        if not self.ours or not self.baseline:
            return None
        value = self.ours / self.baseline if self.higher_is_better else self.baseline / self.ours
        return round(value, 3)

    @property
    def target(self) -> str:
        if self.stage not in TARGETS:
            return ""
        unit, higher, floor, goal = TARGETS[self.stage]
        ratio = f", ratio ≥ {goal:g}" if goal else ""
        return f"{'≥' if higher else '≤'} {floor:,g} {unit}{ratio}"

    @property
    def verdict(self) -> str:
        """PASS when the absolute target and the ratio goal hold; MISS with what failed."""
        if self.ours is None or self.stage not in TARGETS:
            return "n/a"
        _, higher, floor, goal = TARGETS[self.stage]
        missed = []
        if (self.ours < floor) if higher else (self.ours > floor):
            missed.append("target")
        if self.ratio is not None and self.ratio < goal:
            missed.append("ratio")
        return "MISS " + "+".join(missed) if missed else "PASS"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        return {**data, "ratio": self.ratio, "target": self.target, "verdict": self.verdict,
                **extra}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Row:
        known = {"stage", "db", "ours", "baseline", "unit", "note"}
        extra = {k: v for k, v in data.items() if k not in known | {"ratio", "target", "verdict"}}
        return cls(**{k: data.get(k) for k in known if k in data}, extra=extra)


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def table(rows: Iterable[Row]) -> str:
    """The rows as a Markdown table (readable in a terminal too)."""
    header = ("stage", "db", "ours", "baseline", "unit", "ratio", "target", "result")
    lines = [header, tuple("---" for _ in header)]
    for row in rows:
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}"
        verdict = row.note if row.ours is None and row.note else row.verdict
        lines.append((row.stage, row.db, _number(row.ours), _number(row.baseline), row.unit,
                      ratio, row.target, verdict))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        + " |"
        for line in lines
    )


def json_lines(rows: Iterable[Row]) -> str:
    return "".join(json.dumps(row.as_json()) + "\n" for row in rows)


def rss_mb() -> float:
    """The current anonymous resident memory in MB (from /proc, 0 where it is not available).

    Anonymous: the heap and stacks, not the pages of files the process maps, which SQLite's
    memory-mapped reads would otherwise count as growth as the database file is read.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MB (mapped file pages included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed(function: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds taken by each of ``repeat`` calls of ``function`` (after one warm-up)."""
    function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times
