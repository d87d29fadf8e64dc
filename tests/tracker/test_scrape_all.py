"""``manage.py scrape_all``: the table of outcomes, and a non-zero exit when a source failed
(a skipped, unconfigured source is not a failure)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

import scrapers.documentcloud
import scrapers.usaspending
from scrapers.base import SourceUnavailable, replay_pages
from tracker.management.commands import scrape_all
from tracker.models import ScrapeRun
from tracker.services.backfill import scrape_all_run

pytestmark = pytest.mark.django_db
D = dt.date(2021, 1, 1)


@pytest.fixture
def sources(monkeypatch, own_fixtures):
    """USAspending answers with a recorded page; DocumentCloud does what ``documentcloud`` says."""
    page = own_fixtures / "usaspending" / "search_surveillance_contracts.json"
    behaviour = {"documentcloud": SourceUnavailable("connection refused")}

    def usaspending(client, query, **kwargs):
        yield from replay_pages([page])

    def documentcloud(client, query, **kwargs):
        raise behaviour["documentcloud"]
        yield  # a generator, like the real fetch

    monkeypatch.setattr(scrapers.usaspending, "fetch", usaspending)
    monkeypatch.setattr(scrapers.documentcloud, "fetch", documentcloud)
    with override_settings(SCRAPE_SOURCES=["usaspending", "sam", "documentcloud"], SAM_API_KEY=""):
        yield behaviour


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("scrape_all", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_failed_source_fails_the_command_after_printing_the_table(starter, sources):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"1 source\(s\) failed: documentcloud"):
        call_command("scrape_all", "--days", "7", stdout=out, stderr=err)
    header, *rows = out.getvalue().splitlines()
    assert header.split() == [
        "source", "status", "inserted", "updated", "unchanged", "failed", "message",
    ]  # fmt: skip
    table = {row.split()[0]: row.split(maxsplit=6) for row in rows}
    assert list(table) == ["usaspending", "sam", "documentcloud"]
    inserted = ScrapeRun.objects.get(source="usaspending").inserted
    assert inserted > 0
    assert table["usaspending"][:6] == ["usaspending", "succeeded", str(inserted), "0", "0", "0"]
    assert table["sam"][:2] == ["sam", "skipped"] and "SAM_API_KEY" in table["sam"][6]
    assert table["documentcloud"][1] == "failed"
    assert "documentcloud unavailable: connection refused" in table["documentcloud"][6]
    # Columns line up: every row's status starts where the header's does.
    column = header.index("status")
    assert all(row[column - 2 : column] == "  " and row[column] != " " for row in rows)


def test_skipped_sources_are_not_failures(starter, sources):
    with override_settings(SCRAPE_SOURCES=["usaspending", "sam"]):
        out, _ = run()
    assert [line.split()[1] for line in out.splitlines()[1:]] == ["succeeded", "skipped"]


def test_a_crash_in_one_source_is_a_failure_and_the_rest_still_run(starter, sources):
    sources["documentcloud"] = RuntimeError("parser bug")
    with override_settings(SCRAPE_SOURCES=["documentcloud", "usaspending"]):
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(CommandError, match=r"1 source\(s\) failed: documentcloud"):
            call_command("scrape_all", stdout=out, stderr=err)
    assert "crashed: RuntimeError: parser bug" in out.getvalue()
    assert ScrapeRun.objects.get(source="usaspending").status == "succeeded"


def test_a_stopped_scrape_marks_its_run_interrupted(starter, sources):
    sources["documentcloud"] = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        scrape_all_run(since=D, until=D, sources=["usaspending", "documentcloud"])
    assert ScrapeRun.objects.get(source="usaspending").status == "succeeded"
    stopped = ScrapeRun.objects.get(source="documentcloud")
    assert stopped.status == "failed" and stopped.message.startswith("interrupted")
    assert stopped.finished_at is not None


def test_offline_with_if_online_does_nothing_and_succeeds(db, monkeypatch):
    monkeypatch.setattr(scrape_all, "online", lambda: False)
    out, _ = run("--if-online")
    assert out.startswith("offline: live scraping skipped")
    assert not ScrapeRun.objects.exists()
