"""Hostile-suite fixtures: the connection guard, a counting web client, scripted servers."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from tests.hostile import report
from tests.support.server import ScriptedServer

report.install_audit_hook()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(autouse=True)
def no_forbidden_connections() -> Iterator[None]:
    """Fail the test when it (or the code it drives) connected anywhere it must not."""
    before = len(report.FORBIDDEN)
    yield
    assert report.FORBIDDEN[before:] == [], "forbidden connection attempted"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted loopback server whose port the connection guard allows."""
    with ScriptedServer() as scripted:
        report.allow_port(scripted.port)
        yield scripted
        report.forbid_port(scripted.port)


@pytest.fixture
def victim() -> Iterator[ScriptedServer]:
    """A loopback server nothing may reach: its port is NOT allowed, so a hit is reported too."""
    with ScriptedServer() as scripted:
        yield scripted


class CountingClient(Client):
    """A test client that never raises on a 500: it counts every request and every 500."""

    def __init__(self, **kwargs) -> None:
        super().__init__(raise_request_exception=False, **kwargs)
        self.served: list[tuple[str, int]] = []

    def request(self, **request):
        response = super().request(**request)
        if response.streaming:  # read whole (which closes it), as a server sends it
            response.streaming_content = list(response.streaming_content)
        report.count("inputs")
        if response.status_code >= 500:
            report.count("http_500")
        self.served.append((request.get("PATH_INFO", ""), response.status_code))
        return response


@pytest.fixture
def web() -> CountingClient:
    return CountingClient()


@pytest.fixture
def bounded_memory():
    """Return a checker: the process's peak RSS may grow by at most ``limit`` MB meanwhile."""

    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def check(limit_mb: int = 128) -> int:
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start) * 1024
        report.peak("rss_growth_during_one_bomb", grown)
        assert grown < limit_mb * 2**20, f"peak RSS grew by {grown / 2**20:.0f} MB"
        return grown

    return check
