"""Shared fixtures: the starter data, the real shared fixtures folder, service URLs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"
OWN_FIXTURES = ROOT / "tests" / "fixtures"
REDIS_URL = os.environ.get("SPYGLASS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_service(name: str, url: str) -> None:
    """Skip when a service is down, unless CI demands it (SPYGLASS_REQUIRE_SERVICES=1)."""
    from tests.support.services import reachable

    if reachable(url):
        return
    if os.environ.get("SPYGLASS_REQUIRE_SERVICES"):
        pytest.fail(f"{name} at {url} is required (SPYGLASS_REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{name} not reachable at {url}")


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Every test starts with an empty cache: rolled-back data leaves no cached pages behind."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _bulk_files_in_tmp(settings, tmp_path: Path) -> None:
    """Bulk downloads written by any test (after-import tasks run in-process) stay out of var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "bulk": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "bulk"},
        },
    }


@pytest.fixture
def shared_fixtures() -> Path:
    """The real recorded responses in ../shared/fixtures (skips when that folder is absent)."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"real fixtures not available: {SHARED_FIXTURES} is absent")
    return SHARED_FIXTURES


@pytest.fixture
def own_fixtures() -> Path:
    return OWN_FIXTURES


@pytest.fixture
def starter(db):
    """The shipped starter data, loaded."""
    from tracker.services.starter import starter_data_load

    return starter_data_load()
