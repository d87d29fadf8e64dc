"""The loopback server and a client that trusts it, for the scrapers' network tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scrapers.http import HttpClient
from tests.support.server import ScriptedServer


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def http_client(server: ScriptedServer) -> Iterator[HttpClient]:
    """No polite interval and quick back-off, so retries and errors run in milliseconds."""
    options = {"min_interval": 0, "backoff_base": 0.01, "sleep": lambda s: None}
    with HttpClient(trusted_hosts=[server.host], **options) as made:
        yield made
