"""``python -m tests.hostile``: run the hostile-input and fault suites, print the figures table.

Exits non-zero when a test failed or any must-be-zero figure (crashes, HTTP 500s, forbidden
connections, rows lost or duplicated) is not zero. ``make hostile`` runs it; it is part of
``make test``. Extra arguments go to pytest (``python -m tests.hostile -k xml``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITES = ("tests/hostile", "tests/faults")


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


def run_suites(seed: int, pytest_args: list[str]) -> tuple[int, dict | None]:
    """Run both suites under the report plugin; (pytest exit code, report or None)."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "report.json"
        env = {
            **os.environ,
            "SPYGLASS_HOSTILE_REPORT": str(target),
            "SPYGLASS_FAULT_SEED": str(seed),
        }
        command = [
            sys.executable, "-m", "pytest", *SUITES, "-q",
            "-p", "tests.hostile.report", "--no-migrations", *pytest_args,
        ]
        result = subprocess.run(command, cwd=ROOT, env=env, check=False)
        if not target.exists():
            return result.returncode, None
        return result.returncode, json.loads(target.read_text("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hostile", description=__doc__)
    parser.add_argument("--seed", type=int, default=2026, help="seed for the kill points")
    options, pytest_args = parser.parse_known_args(argv)
    returncode, data = run_suites(options.seed, pytest_args)
    if data is None:
        print(f"the suite did not finish (pytest exit {returncode})", file=sys.stderr)
        return 1
    rows = figures_table(data)
    width = max(len(label) for label, _, _ in rows)
    print("\nHostile inputs and faults")
    for label, value, ok in rows:
        print(f"  {label:<{width}}  {value}" + ("" if ok else "  ✗"))
    if data["forbidden_examples"]:
        print(f"  forbidden: {'; '.join(data['forbidden_examples'])}")
    failed = [label for label, _, ok in rows if not ok]
    if failed or returncode:
        print(f"hostile suite failed: {', '.join(failed) or 'pytest errors'}", file=sys.stderr)
        return 1
    print("  all must-be-zero figures are zero")
    return 0


if __name__ == "__main__":
    sys.exit(main())
