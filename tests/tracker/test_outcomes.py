"""Pitch → what followed: the seed pitch has no contract until an ICE award to AWS arrives."""

import datetime as dt
from decimal import Decimal

import pytest

from scrapers.base import AgencyRef, Record, VendorRef
from tracker.models import Event
from tracker.services.importer import records_import
from tracker.services.outcomes import event_outcome
from tracker.services.scraping import scrape_run

pytestmark = pytest.mark.django_db
PITCH = "story:2018:aws-pitch-rekognition-ice-hsi"


def pitch() -> Event:
    return Event.objects.get(match_key=PITCH)


def test_seed_pitch_says_no_contract_until_an_award_is_imported(starter, own_fixtures):
    outcome = event_outcome(pitch())
    assert outcome.followed == []
    assert outcome.message.startswith("No contract found between ICE and Amazon.com as of ")
    run = scrape_run(
        source="usaspending",
        replay=[own_fixtures / "usaspending" / "search_surveillance_contracts.json"],
    )
    assert run.inserted >= 1
    outcome = event_outcome(pitch())
    assert outcome.has_contract
    followed = outcome.followed[0]
    assert followed.kind == "award" and "ice" in followed.agencies.values_list("slug", flat=True)
    assert outcome.message.startswith("1 contract action followed")
    assert outcome.as_of == run.finished_at.date()


def test_only_later_actions_of_the_same_unit_and_family_count(starter):
    ice = AgencyRef(name="ICE", code="7012", code_type="subtier")
    fbi = AgencyRef(name="FBI", code="1549", code_type="subtier")
    aws = VendorRef(name="Amazon Web Services, Inc.")

    def award(external_id, agency, vendor, date):
        return Record(
            source="usaspending",
            external_id=external_id,
            kind="award",
            title="Cloud services",
            url="https://example.gov",
            raw={},
            date=date,
            amount=Decimal("10.00"),
            agencies=[agency],
            vendors=[vendor],
        )

    records_import(
        [
            award("before", ice, aws, dt.date(2017, 1, 1)),
            award("other-agency", fbi, aws, dt.date(2019, 1, 1)),
            award(
                "other-vendor",
                ice,
                VendorRef(name="Palantir Technologies Inc."),
                dt.date(2019, 1, 1),
            ),
            award("same-month", ice, VendorRef(name="Amazon.com, Inc."), dt.date(2018, 6, 20)),
        ]
    )
    outcome = event_outcome(pitch())
    assert [e.sources.get().external_id for e in outcome.followed] == ["same-month"]


def test_non_pitch_events_have_no_outcome(starter):
    report = Event.objects.get(match_key="story:2018:aclu-rekognition-congress-test")
    assert event_outcome(report) is None
