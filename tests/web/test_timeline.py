"""The timeline: filters, chips, pagination, empty states, bad input and query counts."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.urls import reverse

from tests.web import factories
from tracker.models import Vendor

pytestmark = pytest.mark.django_db

PITCH_TITLE = "Amazon Web Services pitches Rekognition face recognition to ICE"
URL = reverse("timeline")


def titles(response) -> list[str]:
    """Event titles in the list, in page order."""
    html = response.content.decode()
    return [
        unescape(t) for t in re.findall(r'<p class="event-title"><a href="[^"]+">([^<]+)</a>', html)
    ]


def hrefs(response) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]*)"', response.content.decode())]


def test_lists_every_event_newest_first_grouped_by_year_and_month(client, starter):
    response = client.get(URL)
    assert response.status_code == 200
    found = titles(response)
    assert len(found) == 3
    assert found[0].startswith("ACLU test")  # July 2018 before June 2018
    html = response.content.decode()
    assert '<h2 class="year-label">2018</h2>' in html
    assert '<h3 class="month-label">July 2018</h3>' in html
    assert '<time datetime="2018-06">June 2018</time>' in html  # month precision


def test_order_oldest_reverses(client, starter):
    assert titles(client.get(URL, {"order": "oldest"}))[-1].startswith("ACLU test")


def test_year_precision_date_is_shown_as_the_year_only(client, db):
    factories.event(
        date=dt.date(2015, 1, 1),
        precision="year",
        title="Sometime event",
        technologies=[factories.technology()],
    )
    html = client.get(URL).content.decode()
    assert '<time datetime="2015">2015</time>' in html
    assert "Sometime in 2015" in html


def test_amount_is_formatted_with_currency(client, db):
    tech = factories.technology()
    factories.event(amount=1234567, title="Big award", technologies=[tech])
    factories.event(amount=1500, currency="EUR", title="Euro award", technologies=[tech])
    html = client.get(URL).content.decode()
    assert '<span class="amount">$1,234,567</span>' in html
    assert '<span class="amount">1,500 EUR</span>' in html


def test_agency_filter_includes_sub_agencies_and_technology_combines(client, starter):
    response = client.get(URL, {"agency": "ice", "technology": "face-recognition"})
    found = titles(response)
    assert any(t.startswith(PITCH_TITLE) for t in found)  # the pitch was to HSI, under ICE
    assert not any(t.startswith("ACLU test") for t in found)  # no agency
    assert len(found) == 2


def test_vendor_filter_includes_subsidiaries(client, starter):
    assert len(titles(client.get(URL, {"vendor": "amazon"}))) == 3
    assert titles(client.get(URL, {"vendor": "palantir"})) == []


def test_technology_filter_includes_children(client, starter):
    assert len(titles(client.get(URL, {"technology": "biometrics"}))) == 3
    assert len(titles(client.get(URL, {"technology": "video-analytics"}))) == 1


def test_several_kinds_and_date_amount_level_and_text_filters(client, db):
    local = factories.agency("Springfield Police", level="local")
    federal = factories.agency("Federal Office", level="federal")
    tech = factories.technology()
    factories.event(
        kind="award",
        amount=500,
        date=dt.date(2019, 1, 1),
        title="Small award",
        agencies=[federal],
        technologies=[tech],
    )
    factories.event(
        kind="award",
        amount=9000,
        date=dt.date(2021, 1, 1),
        title="Large award",
        agencies=[local],
        technologies=[tech],
    )
    factories.event(
        kind="pitch",
        date=dt.date(2021, 6, 1),
        title="Drone pitch",
        summary="quadcopter",
        agencies=[local],
    )
    factories.event(kind="report", date=dt.date(2022, 1, 1), title="A report")
    assert set(titles(client.get(URL + "?kind=award&kind=pitch"))) == {
        "Small award",
        "Large award",
        "Drone pitch",
    }
    assert set(titles(client.get(URL, {"since": "2020-01-01", "until": "2021-12-31"}))) == {
        "Large award",
        "Drone pitch",
    }
    assert titles(client.get(URL, {"amount_min": "1,000", "amount_max": "10000"})) == [
        "Large award"
    ]
    assert set(titles(client.get(URL, {"level": "local"}))) == {"Large award", "Drone pitch"}
    assert titles(client.get(URL, {"q": "quadcopter"})) == ["Drone pitch"]
    assert titles(client.get(URL, {"level": "local", "kind": "award"})) == ["Large award"]


def test_chips_link_to_the_same_query_minus_that_filter(client, starter):
    response = client.get(URL + "?agency=ice&technology=face-recognition&kind=pitch&kind=meeting")
    html = response.content.decode()
    chips = dict(
        (unescape(label), unescape(href))
        for href, label in re.findall(r'<a class="chip" href="([^"]+)"><span>([^<]+)</span>', html)
    )
    assert chips == {
        "Agency: U.S. Immigration and Customs Enforcement (ICE)": (
            "/events/?technology=face-recognition&kind=pitch&kind=meeting"
        ),
        "Technology: Face recognition": "/events/?agency=ice&kind=pitch&kind=meeting",
        "Kind: pitch": "/events/?agency=ice&technology=face-recognition&kind=meeting",
        "Kind: meeting": "/events/?agency=ice&technology=face-recognition&kind=pitch",
    }


def test_removing_the_last_chip_links_to_the_bare_timeline(client, starter):
    html = client.get(URL, {"q": "rekognition"}).content.decode()
    assert '<a class="chip" href="/events/"><span>Text: rekognition</span>' in html


def test_form_reflects_the_filters(client, starter):
    html = client.get(URL + "?agency=ice&kind=pitch&since=2018-01-01&amount_min=5").content.decode()
    assert '<option value="ice" selected>' in html
    assert 'name="kind" value="pitch" checked' in html
    assert 'name="since" value="2018-01-01"' in html
    assert 'name="amount_min" value="5"' in html


def test_export_feed_and_alert_links_carry_the_query(client, starter):
    links = hrefs(client.get(URL, {"agency": "ice", "kind": "pitch"}))
    assert "/events.csv?agency=ice&kind=pitch" in links
    assert "/events/feed/?agency=ice&kind=pitch" in links
    assert "/alerts/subscribe/?agency=ice&kind=pitch" in links


def test_pagination_keeps_the_filters(client, db):
    tech = factories.technology("Drones")
    for day in range(1, 61):
        factories.event(date=dt.date(2020, 1, 1) + dt.timedelta(days=day), technologies=[tech])
    factories.event(title="Untagged")
    first = client.get(URL, {"technology": tech.slug})
    assert len(titles(first)) == 50
    assert f"?technology={tech.slug}&page=2" in hrefs(first)
    second = client.get(URL, {"technology": tech.slug, "page": "2"})
    assert len(titles(second)) == 10
    assert "Untagged" not in titles(second)
    assert f"?technology={tech.slug}&page=1" in hrefs(second)


@pytest.mark.parametrize(("page", "expected"), [("abc", 50), ("99999", 10), ("-3", 10), ("", 50)])
def test_bad_page_numbers_fall_back_to_first_or_last_page(client, db, page, expected):
    tech = factories.technology()
    for day in range(60):
        factories.event(
            date=dt.date(2020, 1, 1) + dt.timedelta(days=day), sources=[], technologies=[tech]
        )
    response = client.get(URL, {"page": page})
    assert response.status_code == 200
    assert len(titles(response)) == expected


def test_empty_result_names_the_filters_to_loosen(client, starter):
    response = client.get(URL, {"agency": "doj", "kind": "award"})
    html = unescape(response.content.decode())
    assert "No events match all of these filters." in html
    assert "Try loosening them: remove" in html
    assert "Agency: Department of Justice (DOJ)" in html
    assert "Kind: award" in html


def test_empty_database_says_nothing_is_here_yet(client, db):
    html = client.get(URL).content.decode()
    assert "No events here yet." in html


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"since": "garbage"}, 400),
        ({"amount_min": "1e999"}, 400),
        ({"amount_max": "NaN"}, 400),
        ({"q": "x" * 5000}, 200),
        ({"q": "a\x00b"}, 200),
        ({"agency": "no-such-agency"}, 400),
        ({"kind": "bogus"}, 400),
        ({"level": "galactic"}, 400),
        ({"order": "sideways"}, 400),
        ({"page": "%00"}, 200),
        ({"agency": "ice\x00", "vendor": "<script>"}, 400),
    ],
)
def test_bad_input_never_errors(client, starter, params, status):
    # Never a server error: unusable filters are refused (400), odd text and pages answered.
    response = client.get(URL, params)
    assert response.status_code == status


def test_filter_errors_are_shown_as_notices(client, starter):
    html = unescape(client.get(URL, {"since": "garbage", "agency": "nowhere"}).content.decode())
    assert "since: “garbage” is not a date (use YYYY-MM-DD)." in html
    assert "No agency “nowhere”." in html
    assert '<div class="notice" role="alert">' in html


def test_raw_nul_in_query_string_is_harmless(client, starter):
    assert client.get(URL + "?q=%00&since=%00&page=%00").status_code == 200


def test_year_chart_and_table_are_rendered(client, db):
    tech = factories.technology()
    factories.event(kind="award", amount=1000, date=dt.date(2019, 3, 1), technologies=[tech])
    factories.event(
        kind="modification", amount=250, date=dt.date(2019, 4, 1), technologies=[tech]
    )
    factories.event(kind="pitch", amount=99999, date=dt.date(2020, 1, 1))
    html = client.get(URL).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in html
    assert "<title>2019: $1,250</title>" in html  # pitches are not obligations
    assert '<th scope="row">2020</th><td class="num">1</td><td class="num">$0</td>' in html


def test_query_count_is_constant_for_a_full_page(client, django_assert_num_queries, db):
    agencies = [factories.agency() for _ in range(3)]
    vendors = [factories.vendor() for _ in range(3)]
    techs = [factories.technology() for _ in range(3)]
    for day in range(55):
        factories.event(
            date=dt.date(2020, 1, 1) + dt.timedelta(days=day),
            agencies=agencies[: 1 + day % 3],
            vendors=vendors[: 1 + day % 2],
            technologies=techs[: 1 + day % 3],
        )
    # count, the events with no technology tagged (the "also show" link), page, the page's
    # links, per-year totals, 3 filter selects
    with django_assert_num_queries(8):
        assert client.get(URL).status_code == 200
    # the filter selects come from the cache now; + per entity filter: the path and the
    # subtree ids (read once, by filters_resolve); + the stored sizes (which also say whether
    # counting is affordable) and (none stored) the capped link count that pick the query
    # plan; + the count of the awards left out (the "also show" link)
    with django_assert_num_queries(9):
        assert client.get(URL, {"agency": agencies[0].slug, "kind": "award"}).status_code == 200


def test_large_choice_tables_offer_the_most_used_entries(client, db, monkeypatch):
    from tracker.views import timeline

    monkeypatch.setattr(timeline, "CHOICES_LIMIT", 3)
    used = factories.vendor("Used Vendor")
    for _ in range(5):
        factories.vendor()
    factories.event(vendors=[used])
    html = client.get(URL).content.decode()
    assert f'<option value="{used.slug}">' in html
    assert Vendor.objects.count() == 6
    assert html.count('<option value="vendor-') == 0  # unused vendors are left out


def test_cached_choices_follow_new_entities_and_refreshed_counts(client, db, monkeypatch):
    from tracker.stats import refresh_stats
    from tracker.views import timeline

    monkeypatch.setattr(timeline, "CHOICES_LIMIT", 2)
    first, second = factories.vendor("First Vendor"), factories.vendor("Second Vendor")
    factories.vendor("Third Vendor")
    factories.event(vendors=[first])
    refresh_stats()
    assert 'value="first-vendor"' in client.get(URL).content.decode()
    factories.event(vendors=[second])  # links alone do not forget the cached choices ...
    assert 'value="second-vendor"' not in client.get(URL).content.decode()
    refresh_stats()  # ... the statistics refresh after an import does
    assert 'value="second-vendor"' in client.get(URL).content.decode()
    second.name = "Renamed Vendor"
    second.save()
    assert ">Renamed Vendor</option>" in client.get(URL).content.decode()
    selected = client.get(URL, {"vendor": "third-vendor"}).content.decode()
    assert '<option value="third-vendor" selected>Third Vendor</option>' in selected


def test_list_rows_show_each_link_once_in_name_order(client, db):
    b_agency, a_agency = factories.agency("Beta Agency"), factories.agency("Alpha Agency")
    vendor = factories.vendor("Zeta & Sons")
    event = factories.event(
        agencies=[b_agency, a_agency], vendors=[vendor], technologies=[factories.technology()]
    )
    event.agencies.add(a_agency, through_defaults={"role": "funding"})
    html = client.get(URL).content.decode()
    row = html[html.index('<li class="event">'):]
    row = row[: row.index("</li>")]
    assert row.index(">Alpha Agency<") < row.index(">Beta Agency<")
    assert row.count(">Alpha Agency<") == 1
    assert f'<a href="{vendor.get_absolute_url()}">Zeta &amp; Sons</a>' in row


def test_counts_are_capped_and_totals_skipped_beyond_the_cap(client, db, monkeypatch):
    from tracker import selectors
    from tracker.views import timeline

    monkeypatch.setattr(timeline, "COUNT_CAP", 20)
    monkeypatch.setattr(selectors, "COUNT_CAP", 20)
    tech = factories.technology()
    for day in range(30):
        factories.event(
            date=dt.date(2020, 1, 1) + dt.timedelta(days=day), sources=[], technologies=[tech]
        )
    html = unescape(client.get(URL).content.decode())
    assert "More than <strong>20</strong> events" in html
    assert "narrow the filters to see them" in html
    assert "<summary>Counts and amounts by year" not in html
    assert len(titles(client.get(URL, {"page": "9"}))) == 30  # clamped to the capped last page


@pytest.mark.parametrize("cap", [20, 10_000])
def test_a_search_counted_with_its_page_pages_as_a_separate_count_does(db, monkeypatch, cap):
    from django.db import connection

    from tracker import selectors
    from tracker.selectors import EventFilters, event_search_result
    from tracker.views import timeline

    monkeypatch.setattr(timeline, "COUNT_CAP", cap)
    monkeypatch.setattr(selectors, "COUNT_CAP", cap)
    tech = factories.technology()
    for day in range(130):
        words = "keystone programme" if day % 3 else "other words"
        factories.event(date=dt.date(2020, 1, 1) + dt.timedelta(days=day % 40), title=words,
                        sources=[], technologies=[tech] if day % 5 else [])
    found = event_search_result(EventFilters(q="keystone program"))
    assert found.count_in_page == (connection.vendor == "sqlite")
    for page in ("1", "2", "3", "9", "-1", None):
        counted = timeline.timeline_page(found.events, page, counted=True, count_in_page=True)
        apart = timeline.timeline_page(found.events, page, counted=True, count_in_page=False)
        assert [e.pk for e in counted.object_list] == [e.pk for e in apart.object_list]
        assert (counted.number, counted.count, counted.capped, counted.has_next) == (
            apart.number, apart.count, apart.capped, apart.has_next
        )  # fmt: skip
        assert [e.links for e in counted.object_list] == [e.links for e in apart.object_list]
    assert apart.count == (20 if cap == 20 else 69) and apart.capped == (cap == 20)
    nothing = event_search_result(EventFilters(q="zeppelin"))
    empty = timeline.timeline_page(nothing.events, "1", counted=True, count_in_page=True)
    assert (empty.count, empty.object_list, empty.capped) == (0, [], False)


def test_broad_entity_filters_page_without_counting(client, db, monkeypatch):
    from tracker import selectors
    from tracker.stats import refresh_stats

    monkeypatch.setattr(selectors, "DRIVE_LIMIT", 5)
    agency, tech = factories.agency(), factories.technology()
    for day in range(60):
        factories.event(date=dt.date(2020, 1, 1) + dt.timedelta(days=day), agencies=[agency],
                        sources=[], technologies=[tech])
    refresh_stats()
    first = unescape(client.get(URL, {"agency": agency.slug, "kind": "award"}).content.decode())
    assert "Events <strong>1\u201350</strong> of more than 50 · page 1" in first
    assert "not counted when the filters match this broadly" in first
    assert "narrow the filters to see them" in first
    second = unescape(
        client.get(URL, {"agency": agency.slug, "kind": "award", "page": "2"}).content.decode()
    )
    assert "<strong>60</strong> events" in second  # the last page makes the count exact
    assert len(titles(client.get(URL, {"agency": agency.slug, "kind": "award", "page": "2"}))) == 10
