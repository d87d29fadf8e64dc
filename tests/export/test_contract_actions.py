"""``ContractAction`` follows the links and the events it derives from, whatever writes them.

After each change the stored rows must equal the rows computed from the link tables: one per
agency link and vendor link of an award or modification, with the event's date.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from tests.export.factories import agency, event, vendor
from tests.support.overlap import overlapping
from tests.tracker.test_importer import award
from tracker.models import ContractAction, Event, EventAgency, EventVendor
from tracker.services.importer import records_import

pytestmark = pytest.mark.django_db


def stored() -> set[tuple]:
    return set(
        ContractAction.objects.values_list(
            "agency_link_id", "vendor_link_id", "event_id", "agency_id", "vendor_id", "date"
        )
    )


def derived() -> set[tuple]:
    return {
        (a.pk, v.pk, a.event_id, a.agency_id, v.vendor_id, a.event.date)
        for a in EventAgency.objects.select_related("event").filter(
            event__kind__in=("award", "modification")
        )
        for v in EventVendor.objects.filter(event_id=a.event_id)
    }


def assert_follows() -> None:
    assert stored() == derived()


def test_rows_follow_links_kinds_dates_merges_and_deletions():
    ice, cbp = agency("ICE"), agency("CBP")
    aws, axon = vendor("AWS"), vendor("Axon")
    first = event(agencies=(ice, (ice, "funder")), vendors=(aws,))
    pitch = event(kind="pitch", agencies=((cbp, "pitched-to"),), vendors=(axon,))
    event(kind="modification", date=None, agencies=(cbp,), vendors=(aws, (axon, "awardee")))
    assert len(stored()) == 4
    assert_follows()

    EventVendor.objects.create(event=first, vendor=axon)
    EventAgency.objects.create(event=first, agency=cbp)
    assert_follows()
    EventAgency.objects.filter(event=first, role="funder").delete()
    assert_follows()

    EventVendor.objects.filter(vendor=axon, role="awardee").update(vendor=aws)  # a merge
    EventAgency.objects.filter(event=pitch).update(event=first)
    assert_follows()

    Event.objects.filter(pk=pitch.pk).update(kind="award")
    first.kind = "report"
    first.save()
    assert_follows()
    first.kind, first.date = "modification", dt.date(2024, 2, 29)
    first.save()
    Event.objects.filter(date=None).update(date=dt.date(2019, 1, 1))
    assert_follows()

    first.delete()
    assert_follows()
    Event.objects.all().delete()
    assert stored() == set()


def test_imported_events_have_their_rows(starter):
    records_import([award(), award(external_id="CONT_AWD_OTHER", match_key="contract:other")])
    assert len(stored()) == 2
    assert_follows()
    records_import([award(date=dt.date(2022, 1, 1))])
    assert_follows()


@pytest.mark.django_db(transaction=True)
def test_two_transactions_adding_the_two_sides_of_one_event_both_count():
    """Each transaction alone would miss the other's uncommitted link: the second waits."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: link writes cannot overlap")
    ice, aws = agency("ICE"), vendor("AWS")
    made = event()
    overlapping(
        lambda: EventAgency.objects.create(event=made, agency=ice),
        lambda: EventVendor.objects.create(event=made, vendor=aws),
    )
    assert len(stored()) == 1
    assert_follows()
