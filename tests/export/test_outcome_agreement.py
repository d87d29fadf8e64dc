"""The event page's outcome and the CSV ``outcome`` column are one computation and agree."""

from __future__ import annotations

import csv
import datetime as dt
import io
from html import unescape

import pytest

from tests.export import factories as make
from tracker.exports import export_rows, outcomes
from tracker.models import Agency, Event, Vendor
from tracker.selectors import EventFilters
from tracker.services.outcomes import PITCH_KINDS, event_outcome

pytestmark = pytest.mark.django_db


def csv_outcomes() -> dict[int, str]:
    text = "".join(export_rows(EventFilters(all=True), fmt="csv"))
    return {int(row["id"]): row["outcome"] for row in csv.DictReader(io.StringIO(text, newline=""))}


@pytest.fixture
def varied(db) -> list[Event]:
    """Pitches to units under one department, to an uncoded office, with subsidiaries, undated
    and at month or year precision, some followed by contract actions and some not."""
    dept = make.agency("Department of Homeland Security", acronym="DHS", toptier_code="070")
    ice = make.agency(
        "Immigration and Customs Enforcement", acronym="ICE", parent=dept, subtier_code="7012"
    )
    cbp = make.agency(
        "Customs and Border Protection", acronym="CBP", parent=dept, subtier_code="7014"
    )
    hsi = make.agency("Homeland Security Investigations", acronym="HSI", parent=ice)
    town = make.agency("Town Police")  # no code anywhere above: its own unit
    amazon = make.vendor("Amazon.com, Inc.")
    aws = make.vendor("Amazon Web Services, Inc.", parent=amazon)
    palantir = make.vendor("Palantir Technologies Inc.")
    clearview = make.vendor("Clearview AI")
    day = dt.date
    make.event(kind="award", date=day(2018, 6, 5), agencies=[ice], vendors=[aws])
    make.event(kind="modification", date=day(2019, 2, 1), agencies=[hsi], vendors=[amazon])
    make.event(kind="award", date=day(2019, 3, 1), agencies=[cbp], vendors=[palantir])
    make.event(kind="award", date=None, agencies=[town], vendors=[clearview])
    make.event(kind="award", date=day(2017, 1, 1), agencies=[ice], vendors=[palantir])
    make.event(kind="solicitation", date=day(2020, 1, 1), agencies=[cbp], vendors=[aws])
    pitches = [
        # month precision: the 5 June award counts for a pitch dated 20 June 2018
        dict(date=day(2018, 6, 20), date_precision="month", agencies=[hsi], vendors=[amazon]),
        dict(date=day(2018, 6, 20), agencies=[hsi], vendors=[amazon]),
        dict(
            date=day(2018, 12, 1),
            date_precision="year",
            agencies=[dept, ice],
            vendors=[aws, palantir],
        ),
        dict(date=day(2018, 1, 1), agencies=[cbp], vendors=[(aws, "client")]),
        dict(date=day(2016, 5, 1), agencies=[dept], vendors=[palantir]),
        dict(date=None, agencies=[town], vendors=[clearview]),
        dict(date=day(2018, 1, 1), agencies=[town], vendors=[clearview]),
        dict(date=day(2018, 1, 1), agencies=[ice], vendors=[]),
        dict(date=day(2018, 1, 1), agencies=[cbp, ice], vendors=[(palantir, "lobbyist")]),
    ]
    kinds = [*PITCH_KINDS, *PITCH_KINDS]
    return [make.event(kind=kind, **fields) for kind, fields in zip(kinds, pitches, strict=False)]


def test_event_page_and_csv_agree_on_every_pitch(client, varied):
    exported = csv_outcomes()
    messages = set()
    for event in varied:
        outcome = event_outcome(event)
        assert outcome.message == exported[event.pk], event.title
        html = unescape(client.get(event.get_absolute_url()).content.decode())
        assert outcome.message in html
        messages.add(outcome.message.split(" as of")[0].split(" (as of")[0])
    assert len(messages) >= 5  # varied: one or more actions, no contract, nothing linked
    assert any(message.startswith("2 contract actions followed") for message in messages)
    assert all(
        not exported[pk]
        for pk, kind in Event.objects.values_list("pk", "kind")
        if kind not in PITCH_KINDS
    )


def test_page_lists_the_contract_actions_it_counts(varied):
    for event in varied:
        outcome = event_outcome(event)
        count = len(outcome.followed)
        assert outcome.message.startswith(f"{count} contract") == bool(count)
        assert all(e.kind in ("award", "modification") for e in outcome.followed)


def test_a_pitch_reads_only_its_own_pairs_contract_actions(varied):
    """What one pitch costs follows its (unit, family) pairs, not the database's size."""
    ice, other = Agency.objects.get(acronym="ICE"), make.agency("Other Bureau", subtier_code="9")
    clearview = Vendor.objects.get(name="Clearview AI")
    for day in range(1, 29):
        make.event(kind="award", date=dt.date(2019, 1, day), agencies=[other], vendors=[clearview])
    pitch = make.event(kind="pitch", date=dt.date(2018, 1, 1), agencies=[ice], vendors=[clearview])
    batch = outcomes.OutcomeMessages()
    [family] = batch.families_of([[clearview.pk]])
    message = batch.messages([(pitch.pk, "2018-01-01", "day", [ice.pk], family)])[pitch.pk]
    assert message.startswith("No contract found between ICE and Clearview AI")
    assert batch.actions_read == 0
