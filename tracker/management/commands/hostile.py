"""``manage.py hostile``: run the hostile-input and fault suites, print the figures table.

Exits non-zero when a test failed or any must-be-zero figure (crashes, HTTP 500s, forbidden
connections, rows lost or duplicated) is not zero.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

SUITES = ("tests/hostile", "tests/faults")
MUST_BE_ZERO = ("crashes", "http_500", "forbidden_connections", "rows_lost_or_duplicated")


def _mb(value: int) -> str:
    return f"{value / 2**20:,.0f} MB"


def figures_table(data: dict) -> list[tuple[str, str, bool]]:
    """(label, value, ok) rows for the report JSON written by ``tests.hostile.report``."""
    tests = data["tests"]
    moved = data["rows_lost"] + data["rows_duplicated"]
    traced = data["peak_traced"]
    rows = [
        ("inputs tried", f"{data['inputs']:,}", True),
        ("crashes (must be 0)", str(data["crashes"]), data["crashes"] == 0),
        ("HTTP 500s (must be 0)", str(data["http_500"]), data["http_500"] == 0),
        (
            "forbidden connections (must be 0)",
            str(data["forbidden_connections"]),
            data["forbidden_connections"] == 0,
        ),
        (
            "rows lost or duplicated (must be 0)",
            f"{moved} (lost {data['rows_lost']}, duplicated {data['rows_duplicated']})",
            moved == 0,
        ),
        ("imports killed mid-run", str(data["kills"]), True),
        ("peak memory, test process", _mb(data["peak_rss"]["self"]), True),
        (
            "peak memory, largest subprocess (counted from fork)",
            _mb(data["peak_rss"]["children"]),
            True,
        ),
    ]
    rows += [
        (f"peak {name.replace('_', ' ')}", _mb(value), True)
        for name, value in sorted(traced.items())
    ]
    rows.append(
        (
            "tests",
            f"{tests['passed']} passed, {tests['failed']} failed, {tests['skipped']} skipped",
            tests["failed"] == 0,
        )
    )
    return rows


class Command(BaseCommand):
    help = "Run tests/hostile and tests/faults and print inputs, crashes, 500s, connections, rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="seed for the kill points")
        parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")

    def handle(self, *args, seed: int, pytest_args: list[str], **options) -> None:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "report.json"
            env = {
                **os.environ,
                "SPYGLASS_HOSTILE_REPORT": str(target),
                "SPYGLASS_FAULT_SEED": str(seed),
            }
            command = [
                sys.executable,
                "-m",
                "pytest",
                *SUITES,
                "-q",
                "-p",
                "tests.hostile.report",
                "--no-migrations",
                *pytest_args,
            ]
            result = subprocess.run(command, cwd=settings.BASE_DIR, env=env, check=False)
            if not target.exists():
                raise CommandError(f"the suite did not finish (pytest exit {result.returncode})")
            data = json.loads(target.read_text("utf-8"))
        rows = figures_table(data)
        width = max(len(label) for label, _, _ in rows)
        self.stdout.write("\nHostile inputs and faults")
        for label, value, ok in rows:
            line = f"  {label:<{width}}  {value}"
            self.stdout.write(line if ok else self.style.ERROR(line + "  ✗"))
        if data["forbidden_examples"]:
            self.stdout.write(f"  forbidden: {'; '.join(data['forbidden_examples'])}")
        failed = [label for label, _, ok in rows if not ok]
        if failed or result.returncode:
            raise CommandError(f"hostile suite failed: {', '.join(failed) or 'pytest errors'}")
        self.stdout.write(self.style.SUCCESS("  all must-be-zero figures are zero"))
