"""API tests: the site URLs plus the CSV routes, and a fresh throttle history per test."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()
