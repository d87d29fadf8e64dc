"""Broken, hostile and drifted JSON through every JSON source: skipped with a reason, drift kept."""

from __future__ import annotations

import pytest

from tests.hostile import payloads
from tests.hostile.conftest import FIXTURES
from tests.hostile.drive import RUNNABLE, assert_rejected_with_reason, replay, stored_text_problems
from tracker.models import Event, SourceRecord

pytestmark = pytest.mark.django_db
GOOD = {
    "usaspending": FIXTURES / "usaspending" / "search_surveillance_contracts.json",
    "sam": FIXTURES / "sam" / "search_face_recognition.json",
    "lda": FIXTURES / "lda" / "filings_face_recognition_page1.json",
    "muckrock": FIXTURES / "muckrock" / "requests_page1.json",
    "documentcloud": FIXTURES / "documentcloud" / "search_rekognition.json",
}
# Bodies no source can use: the whole page must be skipped with a logged reason.
UNUSABLE = (
    "nan",
    "infinity",
    "minus_inf",
    "deep_array",
    "deep_object",
    "html_error_page",
    "xml_error_page",
    "empty",
    "null",
    "array",
    "string",
    "not_utf8",
)


@pytest.mark.parametrize("source", sorted(GOOD))
def test_hostile_json_is_skipped_with_a_reason_and_the_run_goes_on(
    source, starter, tmp_path, bounded_memory
):
    good = GOOD[source]
    attacks = payloads.json_attacks(good.read_bytes())
    run = replay(source, tmp_path, attacks, good=[good])
    bounded_memory(256)
    rejected = [f"-{name}.json" for name in UNUSABLE if name in attacks]
    rejected += [f"-{name}.json" for name in attacks if name.startswith("truncated")]
    assert_rejected_with_reason(run, rejected)
    assert run.status == "partial"
    assert run.pages == len(attacks) + 1
    assert SourceRecord.objects.filter(source=source).exists(), "the good page still imports"
    assert stored_text_problems() == []


@pytest.mark.parametrize("source", sorted(GOOD))
@pytest.mark.parametrize("change", ["renamed_fields", "missing_fields"])
def test_schema_drift_is_reported_on_the_run(source, change, starter, tmp_path):
    body = payloads.json_attacks(GOOD[source].read_bytes())[change]
    run = replay(source, tmp_path, {change: body})
    assert run.drift, f"{source}: {change} went unnoticed ({run.status}: {run.message})"
    assert "crashed" not in run.message


@pytest.mark.parametrize("source", sorted(GOOD))
def test_wrong_types_never_crash_and_store_clean_text(source, starter, tmp_path):
    attacks = payloads.json_attacks(GOOD[source].read_bytes())
    bodies = {name: attacks[name] for name in ("wrong_types", "all_null", "nul_bytes")}
    bodies["xss"] = attacks["xss_everywhere"]
    run = replay(source, tmp_path, bodies)
    assert "crashed" not in run.message
    assert stored_text_problems() == []
    for url in SourceRecord.objects.values_list("url", flat=True):
        assert not RUNNABLE.search(url), url
    assert Event.objects.count() == SourceRecord.objects.values("event").distinct().count()
