"""The foundation's 'done when': the curated pitch is found through every hierarchy."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from tracker.models import Agency, Event, EventAgency, EventTechnology, Technology, Vendor
from tracker.selectors import EventFilters, event_search, filters_resolve

pytestmark = pytest.mark.django_db

PITCH = "story:2018:aws-pitch-rekognition-ice-hsi"


def keys(filters):
    return set(event_search(filters).values_list("match_key", flat=True))


def test_pitch_found_by_ice_and_by_dhs_through_the_hierarchy(starter):
    assert PITCH in keys(EventFilters(agency="ice", technology="face-recognition"))
    assert PITCH in keys(EventFilters(agency="dhs", technology="face-recognition"))
    assert PITCH in keys(EventFilters(agency="hsi"))
    assert PITCH not in keys(EventFilters(agency="doj"))


def test_pitch_found_by_vendor_amazon_through_the_parent_link(starter):
    assert PITCH in keys(EventFilters(vendor="amazon"))
    assert PITCH in keys(EventFilters(vendor="aws", kind=("pitch",)))
    assert PITCH not in keys(EventFilters(vendor="palantir"))


def test_technology_filter_includes_children(starter):
    assert PITCH in keys(EventFilters(technology="biometrics"))
    assert PITCH not in keys(EventFilters(technology="alpr"))


def test_filters_combine(starter):
    assert keys(EventFilters(agency="ice", kind=("report",))) == set()
    assert keys(EventFilters(vendor="aws", since=dt.date(2018, 7, 1))) == {
        "story:2018:aclu-rekognition-congress-test"
    }
    assert PITCH in keys(EventFilters(until=dt.date(2018, 6, 30), level="federal"))
    assert PITCH not in keys(EventFilters(level="local"))
    assert keys(EventFilters(q="McKinsey Redwood")) == {"story:2018:aws-dhs-meeting-mckinsey"}


def test_amount_filters_and_ordering(starter):
    ice = Agency.objects.get(slug="ice")
    faces = Technology.objects.get(slug="face-recognition")
    for amount, day in ((Decimal("100.00"), 1), (Decimal("5000000.00"), 2)):
        event = Event.objects.create(
            kind="award", title=f"award {amount}", amount=amount, date=dt.date(2020, 1, day)
        )
        EventAgency.objects.create(event=event, agency=ice)
        EventTechnology.objects.create(event=event, technology=faces)
    titles = list(
        event_search(EventFilters(amount_min=Decimal(1000))).values_list("title", flat=True)
    )
    assert titles == ["award 5000000.00"]
    newest = list(event_search(EventFilters(agency="ice")).values_list("date", flat=True))
    assert newest == sorted(newest, reverse=True)
    oldest = list(
        event_search(EventFilters(agency="ice", order="oldest")).values_list("date", flat=True)
    )
    assert oldest == sorted(oldest)


def test_params_are_parsed_and_bad_values_reported(starter):
    params = QueryDict(
        "agency=ice&kind=pitch&kind=bogus&since=2018-13-01&amount_min=NaN&q=%00x&order=weird&vendor=nope"
    )
    with CaptureQueriesContext(connection) as parsing:
        parsed = EventFilters.from_params(params)
    assert not parsing.captured_queries  # syntax only
    assert parsed.vendor == "nope" and len(parsed.errors) == 4
    filters = filters_resolve(parsed)
    assert filters.agency == "ice" and filters.kind == ("pitch",)
    assert filters.since is None and filters.amount_min is None and filters.vendor == ""
    assert filters.q == "x" and filters.order == "newest"
    assert filters.errors == (
        f"Unknown kind “bogus” (use {', '.join(Event.Kind.values)}).",
        "Unknown order “weird” (use newest, oldest, amount).",
        "No vendor “nope”.",
        "since: “2018-13-01” is not a date (use YYYY-MM-DD).",
        "amount_min: “NaN” is not an amount (use a number of dollars).",
    )
    assert filters.to_params() == {"agency": "ice", "kind": ["pitch"], "q": "x"}
    assert filters.without("kind", "pitch").to_params() == {"agency": "ice", "q": "x"}
    assert EventFilters.from_params(filters.to_params()) == filters


def test_named_entities_are_read_once_per_request(starter):
    """``parse_filters`` reads each named entity (path, subtree); the search reuses them."""
    from tracker.selectors import event_search_result, parse_filters

    with CaptureQueriesContext(connection) as parsing:
        filters = parse_filters({"agency": "dhs", "technology": "biometrics"})
    assert len(parsing.captured_queries) == 4
    dhs = filters.node("agency")
    assert dhs.id == Agency.objects.get(slug="dhs").pk
    assert set(dhs.ids) == set(Agency.objects.filter(path__startswith=Agency.objects.get(
        slug="dhs").path).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as again:
        assert filters_resolve(filters) == filters
    assert not again.captured_queries
    with CaptureQueriesContext(connection) as searching:
        found = event_search_result(filters)
    assert all("tracker_agency" not in q["sql"] for q in searching.captured_queries)
    assert found.countable  # no stored size: counting cannot be judged too costly
    fresh = replace(filters, agency="ice")  # a node is only used for its own slug
    assert fresh.node("agency") is None and fresh.node("technology") is not None
    assert set(event_search(fresh).values_list("pk", flat=True)) == set(
        event_search(EventFilters(agency="ice", technology="biometrics")).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.parametrize("stored", [False, True])
def test_every_query_plan_finds_the_same_events(starter, monkeypatch, stored):
    """Driving from any filter's links or probing them all gives the same events and count,
    whether the sizes that pick the plan are stored or counted live."""
    from tests.web import factories
    from tracker import selectors
    from tracker.selectors import event_count
    from tracker.stats import refresh_stats

    ice, hsi = Agency.objects.get(slug="ice"), Agency.objects.get(slug="hsi")
    fbi = Agency.objects.get(slug="fbi")
    vendor = factories.vendor("Plan Vendor")
    tech = factories.technology("Plan Tech")
    for day in range(24):
        factories.event(
            date=dt.date(2019, 1, 1) + dt.timedelta(days=day),
            agencies=[(ice, hsi, fbi)[day % 3]],
            vendors=[vendor] if day % 2 else [],
            technologies=[tech] if day % 4 else [],
        )
    if stored:
        refresh_stats()
    wanted = [
        EventFilters(agency="dhs", vendor=vendor.slug),
        EventFilters(agency="ice", technology=tech.slug, since=dt.date(2019, 1, 5)),
        EventFilters(vendor=vendor.slug, technology=tech.slug, agency="fbi"),
    ]
    def under(nodes, model, slug) -> bool:
        top = model.objects.get(slug=slug).path
        return any(node.path.startswith(top) for node in nodes)

    expected = {}
    events = Event.objects.prefetch_related("agencies", "vendors", "technologies")
    for filters in wanted:
        expected[filters] = {
            e.pk for e in events
            if (not filters.since or (e.date and e.date >= filters.since))
            and (not filters.agency or under(e.agencies.all(), Agency, filters.agency))
            and (not filters.vendor or under(e.vendors.all(), Vendor, filters.vendor))
            and (
                not filters.technology
                or under(e.technologies.all(), Technology, filters.technology)
            )
        }
        assert expected[filters], filters
    for limit in (0, 5, 1000):
        monkeypatch.setattr(selectors, "DRIVE_LIMIT", limit)
        for filters in wanted:
            found = set(event_search(filters, drive_limit=limit).values_list("pk", flat=True))
            assert found == expected[filters]
            assert event_count(filters) == len(expected[filters])
            assert event_count(filters, cap=2) == 2


def test_text_search_without_its_index_finds_the_same_events(starter):
    """Built without migrations, PostgreSQL computes each document and finds exactly the
    same; SQLite falls back to substrings, which finds at least the same."""
    from django.db import connection

    from tests.web import factories
    from tracker.fulltext import SQLITE_DROP, pg_column_ready, sqlite_index_ready

    factories.event(title="Rekognition pilot", summary="face-recognition at the border")
    factories.event(title="License plate readers", summary="ALPR cameras, 2019")
    factories.event(title="Drones", summary="unrelated words: recognizable")
    queries = ["recognition", "license plate", "rekog", "face-recognition", "2019", "zzz"]
    queries += ['"license plate"', "alpr OR rekog", "recognition -drones", "-pilot", '"plate lic']
    indexed = {q: keys(EventFilters(q=q)) for q in queries}
    assert len(indexed["recognition"]) >= 1 and indexed["zzz"] == set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            assert pg_column_ready("default")
            cursor.execute("ALTER TABLE tracker_event DROP COLUMN search_vector")
            assert not pg_column_ready("default")
        else:
            assert sqlite_index_ready("default")
            for statement in SQLITE_DROP:
                cursor.execute(statement)
            assert not sqlite_index_ready("default")
    for q in queries:
        found = keys(EventFilters(q=q))
        if connection.vendor == "postgresql":
            assert found == indexed[q], q
        else:
            assert found >= indexed[q], q


def test_a_renamed_technology_slug_still_filters(starter):
    filters = EventFilters.from_params({"technology": "alpr"})
    assert filters.technology == "automated-license-plate-readers"
    assert not filters.errors
