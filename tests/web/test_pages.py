"""Home, entity, relationship, list and about pages: status, key content, 404s."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.web import factories
from tracker.models import Agency, Event, Vendor
from tracker.stats import refresh_stats

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_home_explains_and_shows_latest_counts_and_unanswered_pitches(client, starter):
    html = text(client.get("/"))
    assert "Spyglass tracks which government agencies buy" in html
    assert "ACLU test: Rekognition falsely matches 28 members of Congress" in html
    assert "Pitches with no contract (yet)" in html
    assert "No contract found between ICE and Amazon.com" in html
    assert 'href="/events/?kind=pitch"' in html
    assert 'Face recognition</a> <span class="n">3</span>' in html
    assert 'href="/events/"' in html


def test_home_drops_pitches_that_were_followed_by_a_contract(client, starter):
    pitch = Event.objects.get(match_key="story:2018:aws-pitch-rekognition-ice-hsi")
    ice = pitch.agencies.get().parent
    factories.event(
        kind="award",
        date=dt.date(2019, 1, 1),
        amount=10,
        agencies=[ice],
        vendors=list(pitch.vendors.all()),
    )
    html = text(client.get("/"))
    section = html.split("Pitches with no contract")[1].split("Events by kind")[0]
    assert "Rekognition face recognition to ICE" not in section
    assert "McKinsey" not in section  # the DHS/ICE meeting is followed by the same ICE award


def test_home_with_no_data(client, db):
    html = text(client.get("/"))
    assert "No events yet." in html


def test_agency_page_shows_hierarchy_identifiers_totals_counterparties_and_timeline(
    client, starter
):
    html = text(client.get("/agencies/ice/"))
    assert "<h1>U.S. Immigration and Customs Enforcement (ICE)</h1>" in html
    assert (
        '<a href="/agencies/dhs/">Department of Homeland Security (DHS)</a>' in html
    )  # breadcrumb
    assert "Sub-agencies" in html and 'href="/agencies/hsi/"' in html
    assert "USAspending subtier code" in html
    assert "Top vendors" in html
    assert 'href="/agencies/ice/vendors/aws/">Amazon Web Services, Inc.</a>' in html
    assert "Amazon Web Services pitches Rekognition" in html  # via HSI
    assert "ACLU test" not in html
    assert "Events and obligated amounts by year" in html


def test_entity_timeline_takes_other_filters_but_keeps_its_own(client, starter):
    html = text(client.get("/agencies/ice/", {"kind": "pitch", "agency": "doj"}))
    assert "Amazon Web Services pitches Rekognition" in html
    assert "McKinsey's Redwood City offices</a>" not in html  # a meeting, filtered out
    assert '<a class="chip" href="/agencies/ice/"><span>Kind: pitch</span>' in html
    assert "Agency: " not in html  # the page's own filter is not a removable chip
    assert 'href="/events.csv?agency=ice&kind=pitch"' in html
    assert 'id="f-agency"' not in html


def test_vendor_page_lists_agencies_and_parent(client, starter):
    html = text(client.get("/vendors/aws/"))
    assert "<h1>Amazon Web Services, Inc.</h1>" in html
    assert '<a href="/vendors/amazon/">Amazon.com, Inc.</a>' in html
    assert "Top agencies" in html
    assert 'href="/agencies/hsi/vendors/aws/">Homeland Security Investigations</a>' in html
    assert "Also known as" in html


def test_vendor_identifiers_are_shown(client, db):
    vendor = factories.vendor(
        "Acme Surveillance LLC", uei="ABCDEFGH1234", duns="123456789", cage="1AB23"
    )
    html = text(client.get(vendor.get_absolute_url()))
    for value in ("UEI", "ABCDEFGH1234", "DUNS", "123456789", "CAGE", "1AB23"):
        assert value in html


def test_technology_page_includes_children_and_both_counterparties(client, starter):
    html = text(client.get("/technologies/biometrics/"))
    assert "Narrower technologies" in html and 'href="/technologies/face-recognition/"' in html
    assert "Top agencies" in html and "Top vendors" in html
    assert "ACLU test" in html


def test_entity_totals_sum_awards_and_modifications_by_year(client, db):
    buyer, tech = factories.agency("Buyer Agency"), factories.technology()
    for kind, amount, date in (
        ("award", 1_000_000, dt.date(2019, 2, 1)),
        ("modification", -250_000, dt.date(2019, 8, 1)),
        ("award", 2_000, dt.date(2021, 2, 1)),
        ("solicitation", 5_000_000, dt.date(2021, 3, 1)),
    ):
        factories.event(
            kind=kind, amount=amount, date=date, agencies=[buyer], technologies=[tech]
        )
    html = text(client.get(buyer.get_absolute_url()))
    assert "<strong>4</strong> events; <strong>$752,000</strong> obligated" in html
    assert '<th scope="row">2019</th><td class="num">2</td><td class="num">$750,000</td>' in html
    assert '<th scope="row">2021</th><td class="num">2</td><td class="num">$2,000</td>' in html


@pytest.mark.parametrize(
    "url",
    [
        "/agencies/nope/",
        "/vendors/nope/",
        "/technologies/nope/",
        "/events/999999/",
        "/agencies/ice/vendors/nope/",
        "/agencies/nope/vendors/aws/",
    ],
)
def test_unknown_slugs_and_ids_are_404(client, starter, url):
    assert client.get(url).status_code == 404


def test_relationship_page_shows_the_pair_history_chart_and_table(client, starter):
    factories.event(
        kind="award",
        amount=123456,
        date=dt.date(2020, 9, 1),
        agencies=[Agency.objects.get(slug="ice")],
        vendors=[Vendor.objects.get(slug="aws")],
        title="ICE buys AWS hosting",
    )
    factories.event(
        kind="award",
        amount=1,
        agencies=[Agency.objects.get(slug="fbi")],
        vendors=[Vendor.objects.get(slug="aws")],
        title="FBI buys AWS",
    )
    url = reverse("relationship", args=["ice", "aws"])
    assert url == "/agencies/ice/vendors/aws/"
    html = text(client.get(url))
    assert "Amazon Web Services pitches Rekognition" in html
    assert "McKinsey's Redwood City offices" in html
    assert "ICE buys AWS hosting" in html
    assert "FBI buys AWS" not in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in html
    assert "<title>2020: $123,456</title>" in html
    assert '<th scope="row">2020</th><td class="num">1</td><td class="num">$123,456</td>' in html


@pytest.mark.parametrize("url", ["/agencies/", "/vendors/", "/technologies/"])
def test_list_pages(client, starter, url):
    html = text(client.get(url))
    assert "<table" in html
    assert text(client.get(url, {"q": "zzzz-nothing"})).count("Nothing called") == 1
    assert client.get(url, {"page": "abc", "q": "x" * 500}).status_code == 200


def test_agency_list_finds_by_alias_and_counts_events(client, starter):
    html = text(client.get("/agencies/", {"q": "ICE"}))
    assert 'href="/agencies/ice/"' in html


def test_about_page_sources_and_freshness_and_a_link_to_the_data_page(client, db):
    factories.scrape_run("usaspending", "succeeded", timezone.now() - dt.timedelta(hours=3))
    factories.scrape_run("usaspending", "failed", timezone.now())
    factories.scrape_run("fpds", "failed", timezone.now())
    factories.scrape_run("atlas", "partial", timezone.now() - dt.timedelta(days=2))
    html = text(client.get("/about/"))
    assert "USAspending: last successful run" in html and "3\xa0hours ago" in html
    assert "FPDS: never run" in html
    assert "Atlas of Surveillance: last successful run" in html
    for name in ("usaspending", "fpds", "sam", "lda", "muckrock", "documentcloud", "news", "atlas"):
        assert f'<code class="muted">{name}</code>' in html
    # licences, citation and the CSV columns moved to /data/ (tests/web/test_data_page.py)
    assert 'href="/data/#licences"' in html and 'href="/data/#cite"' in html
    assert "Electronic Frontier Foundation" in html  # the footer's credit


def test_base_layout_is_accessible(client, db):
    html = text(client.get("/about/"))
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    assert 'href="/static/spyglass.css"' in html
    assert '<a href="/about/" aria-current="page">' in html
    assert "//cdn" not in html and "googleapis" not in html


def test_entity_page_query_count_is_pinned(client, starter, django_assert_num_queries):
    ice = Agency.objects.get(slug="ice")
    aws = Vendor.objects.get(slug="aws")
    for day in range(30):
        factories.event(
            date=dt.date(2021, 1, 1) + dt.timedelta(days=day), agencies=[ice], vendors=[aws]
        )
    refresh_stats()
    # entity; timeline: subtree ids (the entity's path is known), stored size (plan, and
    # whether to count), count, the events left out (the "also show" link), page, the page's
    # links, 2 selects, year totals (live: the stored ones count every event); stored top
    # vendors (2 + their names), ancestors, children, aliases. Independent of event count.
    with django_assert_num_queries(16):
        assert client.get("/agencies/ice/").status_code == 200
