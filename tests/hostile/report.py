"""Pytest plugin tallying the hostile and fault suites' figures, written as JSON at the end.

Tests call ``count("inputs")``, ``count("http_500")`` … ; the plugin adds what it observes
itself: crashes (a test ending in an exception other than a failed assertion), forbidden
connections (an audit hook on ``socket.connect``) and peak memory. ``python -m tests.hostile``
reads the JSON (path in ``SPYGLASS_HOSTILE_REPORT``) and prints the table.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

COUNTERS: Counter[str] = Counter()
FORBIDDEN: list[str] = []
PEAKS: dict[str, int] = {}
# Loopback ports of the shared services (PostgreSQL, Redis) and of the tests' own servers.
SERVICE_PORTS = {5432, 6379}
_allowed_ports: set[int] = set()
_lock = threading.Lock()
_hook_installed = False


def count(name: str, amount: int = 1) -> None:
    """Add ``amount`` to counter ``name`` (inputs, http_500, rows_lost, rows_duplicated …)."""
    with _lock:
        COUNTERS[name] += amount


def peak(name: str, value: int) -> None:
    """Remember the largest ``value`` seen under ``name`` (bytes)."""
    with _lock:
        PEAKS[name] = max(PEAKS.get(name, 0), value)


def allow_port(port: int) -> None:
    """Let connections to 127.0.0.1:``port`` through (a test's own loopback server)."""
    with _lock:
        _allowed_ports.add(port)


def forbid_port(port: int) -> None:
    """Stop allowing ``port`` (its server is closed)."""
    with _lock:
        _allowed_ports.discard(port)


def connection_forbidden(address: Any) -> str | None:
    """Why a ``socket.connect`` to ``address`` is forbidden during the suite, or None."""
    if not isinstance(address, tuple) or len(address) < 2:
        return None  # AF_UNIX and friends never leave the host
    host, port = str(address[0]), int(address[1])
    if host.startswith("::ffff:"):
        host = host.removeprefix("::ffff:")
    loopback = host in ("::1", "localhost") or host.startswith("127.")
    if not loopback:
        return f"non-loopback {host}:{port}"
    if port in SERVICE_PORTS or port in _allowed_ports:
        return None
    return f"loopback port {port} that no test server owns"


def _audit(event: str, args: tuple) -> None:
    if event != "socket.connect":
        return
    reason = connection_forbidden(args[1])
    if reason:
        with _lock:
            FORBIDDEN.append(reason)
            COUNTERS["forbidden_connections"] += 1


def install_audit_hook() -> None:
    """Install the ``socket.connect`` audit hook once per process (hooks cannot be removed)."""
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)
        _hook_installed = True


def peak_rss_bytes() -> dict[str, int]:
    """Peak resident memory of this process and of its largest waited-for child, in bytes."""
    return {
        "self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    }


def summary(failed: int = 0, passed: int = 0, skipped: int = 0) -> dict[str, Any]:
    """The figures as one JSON-ready dict."""
    return {
        "inputs": COUNTERS["inputs"],
        "crashes": COUNTERS["crashes"],
        "http_500": COUNTERS["http_500"],
        "forbidden_connections": COUNTERS["forbidden_connections"],
        "forbidden_examples": FORBIDDEN[:10],
        "rows_lost": COUNTERS["rows_lost"],
        "rows_duplicated": COUNTERS["rows_duplicated"],
        "kills": COUNTERS["kills"],
        "peak_rss": peak_rss_bytes(),
        "peak_traced": dict(PEAKS),
        "tests": {"passed": passed, "failed": failed, "skipped": skipped},
    }


def pytest_configure(config: pytest.Config) -> None:
    install_audit_hook()
    config._hostile_outcomes = Counter()  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    outcomes = item.config._hostile_outcomes  # type: ignore[attr-defined]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcomes[report.outcome] += 1
    expected = (AssertionError, pytest.fail.Exception)
    if report.failed and call.excinfo is not None and not call.excinfo.errisinstance(expected):
        count("crashes")


def pytest_sessionfinish(session: pytest.Session) -> None:
    outcomes = session.config._hostile_outcomes  # type: ignore[attr-defined]
    data = summary(outcomes["failed"], outcomes["passed"], outcomes["skipped"])
    target = os.environ.get("SPYGLASS_HOSTILE_REPORT")
    if target:
        Path(target).write_text(json.dumps(data, indent=2), "utf-8")
