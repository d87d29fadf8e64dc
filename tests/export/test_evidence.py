"""The technology_evidence column: last, in the technologies' order, the same with or without
stored cells, and dropped from the stored cells when a tag's evidence changes."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.export import factories as make
from tests.export.test_csv_fast_path import csv_rows, reference_rows
from tests.support.evidence import CLEARVIEW
from tracker.exports import COLUMNS, export_rows
from tracker.exports.cells import refresh_export_cells
from tracker.models import Event, EventTechnology, ExportCells
from tracker.selectors import EventFilters
from tracker.services.tag_review import tag_confirm

pytestmark = pytest.mark.django_db

GRAYKEY = {
    "kind": "product",
    "field": "description",
    "match": "GrayKey",
    "strength": "strong",
    "rule": None,
    "product": None,
    "why": "product name 'GrayKey' in the description",
}


def _tag(event: Event, name: str, evidence: list[dict], tagged_by: str = "rule") -> None:
    EventTechnology.objects.create(
        event=event,
        technology=make.technology(name),
        tagged_by=tagged_by,
        evidence=evidence,
    )


@pytest.fixture
def tagged() -> Event:
    """An event with three tags (one with a sentence twice, one bare), and an untagged one."""
    event = make.event(title="Licences", agencies=[make.agency("Border Office")])
    _tag(event, "Forensic extraction", [GRAYKEY, {**GRAYKEY, "field": "title"}])
    _tag(event, "Face recognition", [CLEARVIEW, {**GRAYKEY, "why": "'CCTV' in the title"}])
    _tag(event, "=Hostile", [], tagged_by="curator")
    make.event(title="Office chairs")
    return event


EXPECTED = (
    "'=Hostile: added by a curator"
    " | Face recognition: vendor Clearview AI is a face recognition vendor; 'CCTV' in the title"
    " | Forensic extraction: product name 'GrayKey' in the description"
)


def _row(event: Event) -> dict[str, str]:
    text = "".join(export_rows(EventFilters()))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return next(row for row in rows if row["id"] == str(event.pk))


def test_evidence_is_the_last_column_in_the_technologies_order(tagged):
    assert COLUMNS[-1] == "technology_evidence" and COLUMNS[-2] == "outcome"
    row = _row(tagged)
    assert row["technologies"] == "'=Hostile; Face recognition; Forensic extraction"
    assert row["technology_evidence"] == EXPECTED
    refresh_export_cells([tagged.pk])
    # Stored as shown; the CSV writer alone neutralises (``rows.csv_cells``).
    assert ExportCells.objects.get(event=tagged).technology_evidence == EXPECTED.removeprefix("'")
    assert _row(tagged)["technology_evidence"] == EXPECTED


def test_jsonl_carries_the_same_text_unneutralised(tagged):
    lines = "".join(export_rows(EventFilters(), fmt="jsonl")).splitlines()
    row = next(json.loads(line) for line in lines if json.loads(line)["id"] == tagged.pk)
    assert row["technology_evidence"] == EXPECTED[1:]
    assert list(row)[-1] == "technology_evidence"


@pytest.mark.parametrize("share", ["none", "half", "all"])
def test_the_csv_is_the_same_with_any_share_of_stored_cells(rich, tagged, share):
    expected = reference_rows()
    ids = sorted(Event.objects.values_list("id", flat=True))
    if share == "half":
        refresh_export_cells(ids[::2])
    elif share == "all":
        refresh_export_cells()
    assert csv_rows(3) == expected
    assert any(row[-1] == EXPECTED for row in expected)


CHANGES = {
    "evidence updated": lambda link: EventTechnology.objects.filter(pk=link.pk).update(
        evidence=[CLEARVIEW]
    ),
    "evidence saved": lambda link: _save(link, evidence=[*link.evidence, CLEARVIEW]),
    "tagged_by changed": lambda link: EventTechnology.objects.filter(pk=link.pk).update(
        tagged_by="rule"
    ),
    "confirmed by a curator": lambda link: tag_confirm(link.event_id, link.technology_id),
}


def _save(link: EventTechnology, **fields) -> None:
    for name, value in fields.items():
        setattr(link, name, value)
    link.save()


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_of_evidence_drops_the_stored_cells(tagged, change):
    refresh_export_cells()
    everything = set(Event.objects.values_list("id", flat=True))
    link = EventTechnology.objects.get(event=tagged, technology__name="=Hostile")
    CHANGES[change](link)
    assert set(ExportCells.objects.values_list("event_id", flat=True)) == everything - {tagged.pk}
    computed = _row(tagged)["technology_evidence"]
    refresh_export_cells()
    assert _row(tagged)["technology_evidence"] == computed != EXPECTED


def test_saving_a_tag_unchanged_keeps_the_stored_cells(tagged):
    refresh_export_cells()
    for link in EventTechnology.objects.filter(event=tagged):
        link.save()
    assert ExportCells.objects.filter(event=tagged).exists()
