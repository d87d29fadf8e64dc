"""The denormalised entity statistics agree with live aggregation, after a rebuild and a refresh."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.web import factories
from tracker.models import Agency, EntityStat, EntityTotal, Technology, Vendor
from tracker.selectors import EventFilters, event_search
from tracker.stats import refresh_stats, refresh_stats_for_events
from tracker.views.timeline import stored_counterparties, top_counterparties, year_totals

pytestmark = pytest.mark.django_db


def _stored(name: str, pk: int) -> dict:
    return {
        (row.year, row.events, row.obligated)
        for row in EntityStat.objects.filter(entity_type=name, entity_id=pk)
    }


def _live(name: str, slug: str) -> dict:
    rows = year_totals(event_search(EventFilters(**{name: slug}, all=True))).rows
    return {(row.year, row.events, row.obligated) for row in rows}


def _check_all() -> None:
    for name, model in (("agency", Agency), ("vendor", Vendor), ("technology", Technology)):
        for node in model.objects.all():
            assert _stored(name, node.pk) == _live(name, node.slug), node
            everything = event_search(EventFilters(**{name: node.slug}, all=True))
            stored = stored_counterparties(name, node.pk) or {"agency": [], "vendor": []}
            if name != "agency":
                assert stored["agency"] == top_counterparties(everything, Agency)
            if name != "vendor":
                assert stored["vendor"] == top_counterparties(everything, Vendor)


def _dataset() -> list:
    parent = factories.agency("Parent Agency")
    child = factories.agency("Child Agency", parent=parent)
    other = factories.agency("Other Agency")
    company = factories.vendor("Big Co")
    subsidiary = factories.vendor("Big Sub", parent=company)
    tech = factories.technology("Sensing")
    narrower = factories.technology("Narrow Sensing", parent=tech)
    events = []
    for day in range(24):
        events.append(
            factories.event(
                kind=("award", "pitch", "modification")[day % 3],
                date=None if day % 7 == 0 else dt.date(2018 + day % 4, 1 + day % 12, 1),
                amount=Decimal(100 * day) if day % 5 else None,
                # both the parent and its child on one event: counted once for the parent
                agencies=[parent, child] if day % 4 == 0 else [(child, other)[day % 2]],
                vendors=[subsidiary] if day % 3 else [company, subsidiary],
                technologies=[narrower] if day % 2 else [tech],
            )
        )
    return events


def test_rebuild_matches_live_aggregation():
    _dataset()
    refresh_stats()
    assert EntityTotal.objects.exists()
    _check_all()


def test_refresh_after_an_import_updates_the_touched_entities_and_their_ancestors():
    _dataset()
    refresh_stats()
    child = Agency.objects.get(name="Child Agency")
    new = factories.event(kind="award", date=dt.date(2030, 5, 1), amount=Decimal(7),
                          agencies=[child], vendors=[factories.vendor("Newcomer")])
    before = EntityTotal.objects.get(entity_type="agency", entity_id=child.parent_id).events
    assert refresh_stats_for_events([new.pk]) > 0
    after = EntityTotal.objects.get(entity_type="agency", entity_id=child.parent_id).events
    assert after == before + 1
    _check_all()
