"""Fault-suite fixtures: the same connection guard as the hostile suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import require_service
from tests.faults import harness
from tests.hostile import report
from tests.hostile.conftest import no_forbidden_connections  # noqa: F401 (autouse)

report.install_audit_hook()


@pytest.fixture(scope="session")
def pages(tmp_path_factory):
    """Generated USAspending and FPDS pages (seeded), replayable by ``manage.py scrape``."""
    return harness.generate_pages(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> harness.Scratch:
    """A migrated SQLite file with the starter data; tests copy it."""
    return harness.migrated_sqlite(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL template database with the starter data (dropped at the end)."""
    require_service("PostgreSQL", harness.PG_ADMIN_URL)
    name = "spyglass_faults_template"
    with harness.pg_database(name) as scratch:
        for args in (("migrate", "--noinput", "-v0"), ("load_starter_data",)):
            code, output = harness.run_to_end(scratch.url, *args)
            assert code == 0, output
        yield name
