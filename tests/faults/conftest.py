"""Fault-suite fixtures: the same connection guard as the hostile suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests.hostile import report

report.install_audit_hook()


@pytest.fixture(autouse=True)
def no_forbidden_connections() -> Iterator[None]:
    """Fail the test when it connected anywhere it must not."""
    before = len(report.FORBIDDEN)
    yield
    assert report.FORBIDDEN[before:] == [], "forbidden connection attempted"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()
