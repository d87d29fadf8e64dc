"""read_ahead (a background producer that keeps order, errors and early stops) and
parsed_pages in a worker process."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from scrapers import fpds
from scrapers.base import Page, RawJSON, raw_value, record_hash
from tracker.models import SourceRecord
from tracker.services import pipeline
from tracker.services.pipeline import parsed_pages, read_ahead
from tracker.services.scraping import scrape_run


def test_items_arrive_in_order_from_another_thread():
    threads = []

    def produce():
        for n in range(50):
            threads.append(threading.current_thread())
            yield n

    assert list(read_ahead(produce(), depth=3)) == list(range(50))
    assert threading.current_thread() not in threads


def test_an_error_is_raised_where_it_happened():
    def produce():
        yield 1
        yield 2
        raise LookupError("source gone")

    seen = []
    with pytest.raises(LookupError, match="source gone"):
        for item in read_ahead(produce()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_producer_without_running_it_to_the_end():
    produced, closed = [], threading.Event()

    def produce():
        try:
            for n in range(10_000):
                produced.append(n)
                yield n
        finally:
            closed.set()

    for item in read_ahead(produce(), depth=2):
        if item == 3:
            break
    assert closed.wait(5)
    assert len(produced) < 10  # at most the buffer and the item in hand beyond the break


def test_the_producer_runs_while_the_consumer_works():
    third_made = threading.Event()

    def produce():
        yield 0
        yield 1
        third_made.set()
        yield 2

    items = read_ahead(produce(), depth=3)
    assert next(items) == 0
    assert third_made.wait(5)  # made while the consumer still holds the first
    assert list(items) == [1, 2]


# -- parsing in a worker process (sources with PARSE_IN_PROCESS) -----------------------------

FPDS_PAGES = sorted((Path(__file__).parents[1] / "fixtures" / "fpds").glob("*.xml"))


def _fpds_pages() -> list[Page]:
    pages = [Page(url=path.as_uri(), body=path.read_bytes()) for path in FPDS_PAGES]
    pages.insert(1, Page(url="bench:broken", body=b"<feed><entry>"))
    return pages


def _die(module_name: str, pages_path: str) -> str:
    os._exit(3)  # a worker killed mid-parse (out of memory, say)


def test_a_worker_process_parses_what_this_process_would_in_the_same_order(settings):
    settings.PARSE_PROCESSES = 1
    pages = _fpds_pages()
    here = [(page.url, *pipeline._parse_here(fpds, page)) for page in pages]
    there = [(page.url, parsed, refused) for page, parsed, refused in parsed_pages(fpds, pages)]

    assert [url for url, _, _ in there] == [url for url, _, _ in here]
    assert [type(refused) for _, _, refused in there] == [type(r) for _, _, r in here]
    assert str(there[1][2]) == str(here[1][2])  # the broken page is refused, not raised
    for (_, parsed, _), (_, expected, _) in zip(there, here, strict=True):
        if expected is not None:
            # A worker hands payloads over serialised; they decode to the same objects.
            assert all(isinstance(record.raw, RawJSON) for record in parsed.records)
            assert [raw_value(record.raw) for record in parsed.records] == [
                orjson.loads(orjson.dumps(record.raw, default=str)) for record in expected.records
            ]
            assert [replace(record, raw=None) for record in parsed.records] == [
                replace(record, raw=None) for record in expected.records
            ]
            assert parsed.problems == expected.problems
            # Only a worker fills in the hashes, so these pages did go through one.
            assert parsed.hashes == [record_hash(record) for record in expected.records]
    assert sum(len(parsed.records) for _, parsed, _ in there if parsed) > 0


def test_pages_left_when_the_worker_dies_are_parsed_here(settings, monkeypatch, caplog):
    settings.PARSE_PROCESSES = 1
    monkeypatch.setattr(pipeline, "parse_group", _die)
    pages = _fpds_pages()

    got = [(page.url, parsed, refused) for page, parsed, refused in parsed_pages(fpds, pages)]

    expected = [pipeline._parse_here(fpds, page) for page in pages]
    assert [url for url, _, _ in got] == [page.url for page in pages]
    assert [parsed.records if parsed else None for _, parsed, _ in got] == [
        parsed.records if parsed else None for parsed, _ in expected
    ]
    assert "worker processes failed" in caplog.text


def test_with_no_worker_processes_pages_are_parsed_in_the_thread(settings):
    settings.PARSE_PROCESSES = 0
    got = list(parsed_pages(fpds, _fpds_pages()))
    assert got[0][1].records and got[0][1].hashes == []  # parsed here: no hashes yet


@pytest.mark.django_db
def test_payloads_handed_over_serialised_are_stored_and_hashed_as_parsed_here(settings, starter):
    settings.PARSE_PROCESSES = 1
    folder = FPDS_PAGES[0].parent
    first = scrape_run(source="fpds", replay=[folder])
    assert first.inserted > 0 and first.failed == 0
    stored = dict(SourceRecord.objects.filter(source="fpds").values_list("external_id", "raw"))
    expected = {
        record.external_id: orjson.loads(orjson.dumps(record.raw, default=str))
        for path in FPDS_PAGES
        for record in fpds.parse(Page(url=path.as_uri(), body=path.read_bytes())).records
    }
    assert {key: raw["record"] for key, raw in stored.items()} == expected
    settings.PARSE_PROCESSES = 0  # parsed in this process: the same hashes, nothing changed
    again = scrape_run(source="fpds", replay=[folder])
    assert again.unchanged == first.inserted and again.inserted == again.updated == 0
