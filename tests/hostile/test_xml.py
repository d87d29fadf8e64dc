"""Hostile XML through the FPDS and news replay paths: refused with a reason, nothing fetched."""

from __future__ import annotations

import tracemalloc

import pytest

from scrapers.base import ParseError
from scrapers.xmlsafe import parse_xml
from tests.hostile import payloads, report
from tests.hostile.conftest import FIXTURES
from tests.hostile.drive import assert_rejected_with_reason, replay, stored_text_problems
from tracker.models import Event, SourceRecord

pytestmark = pytest.mark.django_db
SOURCES = {
    "fpds": FIXTURES / "fpds" / "feed_surveillance_page1.xml",
    "news": FIXTURES / "news" / "rss_two_items.xml",
}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_xml_attacks_are_refused_without_file_network_or_memory(
    source, starter, tmp_path, victim, bounded_memory, caplog
):
    attacks = payloads.xml_attacks(victim.url("").rstrip("/"))
    tracemalloc.start()
    try:
        run = replay(source, tmp_path, attacks, good=[SOURCES[source]], suffix=".xml")
        _, traced = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    report.peak("python_heap_in_xml_bombs", traced)
    assert traced < 64 * 2**20
    bounded_memory(128)
    assert_rejected_with_reason(run, [f"-{name}.xml" for name in attacks])
    assert any(f"-{name}.xml" in message for message in caplog.messages for name in attacks)
    assert victim.requests == []
    assert SourceRecord.objects.filter(source=source).exists(), "the good page after still imports"
    leaked = Event.objects.filter(title__contains="root:").exists() or any(
        "root:x:0" in error for error in run.errors
    )
    assert not leaked
    assert stored_text_problems() == []


@pytest.mark.parametrize("name", ["billion_laughs", "quadratic_blowup", "xxe_file", "deep_nesting"])
def test_parse_xml_refuses_bombs_directly(name, victim, bounded_memory):
    body = payloads.xml_attacks(victim.url("").rstrip("/"))[name]
    report.count("inputs")
    with pytest.raises(ParseError):
        parse_xml(body)
    bounded_memory(64)


def test_wrong_namespaces_and_truncation_are_reported(starter, tmp_path):
    good = SOURCES["fpds"].read_bytes()
    bodies = {**payloads.wrong_namespaces(good), **dict(payloads.truncations(good, 8))}
    run = replay("fpds", tmp_path, bodies, good=[SOURCES["fpds"]], suffix=".xml")
    truncated = [name for name in bodies if name.startswith("truncated")]
    assert_rejected_with_reason(run, [f"-{name}.xml" for name in truncated])
    assert any("namespace" in drift for drift in run.drift), run.drift
    assert run.status in ("partial", "succeeded")
    assert SourceRecord.objects.filter(source="fpds").exists()
