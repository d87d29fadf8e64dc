"""Relevance: lists, CSV, feed, API, alerts and home counts show by default only the events with a
technology tagged or of a curated kind; ``all=1`` includes the ordinary purchases too."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from html import unescape

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.web import factories
from tracker.alerts.matching import compile_queries, load_event_facts, match_events
from tracker.selectors import EventFilters, event_search
from tracker.views.pages import home_counts

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
CONTROL = '<p class="also-show">'
SHOWN = {"Tagged award", "A pitch", "A records request", "A meeting", "A report"}
OTHERS = {"Fencing award", "Guard services", "Catering solicitation"}


@pytest.fixture
def mixed():
    """Ordinary purchases and relevant events, all with one agency and one vendor."""
    agency, vendor = factories.agency("Border Office"), factories.vendor("Acme Holdings")
    tech = factories.technology("Face recognition")
    made = {}
    for day, (title, kind, technologies) in enumerate(
        (
            ("Fencing award", "award", []),
            ("Guard services", "modification", []),
            ("Catering solicitation", "solicitation", []),
            ("Tagged award", "award", [tech]),
            ("A pitch", "pitch", []),
            ("A records request", "foia", []),
            ("A meeting", "meeting", []),
            ("A report", "report", []),
        )
    ):
        made[title] = factories.event(
            kind=kind,
            title=title,
            date=dt.date(2021, 1, 1) + dt.timedelta(days=day),
            agencies=[agency],
            vendors=[vendor],
            technologies=technologies,
        )
    return {"agency": agency, "vendor": vendor, "tech": tech, "events": made}


def titles(response) -> set[str]:
    html = response.content.decode()
    found = re.findall(r'<p class="event-title"><a href="[^"]+">([^<]+)</a>', html)
    return {unescape(title) for title in found}


def csv_titles(response) -> set[str]:
    text = b"".join(response.streaming_content).decode()
    return {row["title"] for row in csv.DictReader(io.StringIO(text, newline=""))}


def feed_titles(response) -> set[str]:
    root = ET.fromstring(response.content)
    return {entry.findtext(f"{ATOM}title").split(": ", 1)[1] for entry in root.iter(f"{ATOM}entry")}


def api_titles(response) -> set[str]:
    return {row["title"] for row in response.json()["results"]}


def test_filters_parse_and_print_all():
    assert EventFilters.from_params({"all": "1"}).all is True
    assert EventFilters.from_params({"all": "true"}).all is True
    assert EventFilters.from_params({"all": "0"}).all is False
    assert EventFilters.from_params({}).to_params() == {}
    assert EventFilters(all=True).to_params() == {"all": "1"}
    assert EventFilters(amount_min=0).to_params() == {"amount_min": "0"}


def test_search_leaves_out_ordinary_purchases_unless_all(mixed):
    assert {e.title for e in event_search(EventFilters())} == SHOWN
    assert {e.title for e in event_search(EventFilters(all=True))} == SHOWN | OTHERS
    # a technology filter, or only curated kinds, cannot hide anything
    assert {e.title for e in event_search(EventFilters(technology=mixed["tech"].slug))} == {
        "Tagged award"
    }
    assert {e.title for e in event_search(EventFilters(kind=("award",)))} == {"Tagged award"}


@pytest.mark.parametrize(
    ("url", "read"),
    [
        ("/events/", titles),
        ("/events.csv", csv_titles),
        ("/events/feed/", feed_titles),
        ("/api/events/", api_titles),
    ],
)
def test_every_surface_hides_the_others_by_default_and_shows_them_with_all(
    client, mixed, url, read
):
    assert read(client.get(url)) == SHOWN
    assert read(client.get(url, {"all": "1"})) == SHOWN | OTHERS
    assert read(client.get(url, {"all": "1", "kind": "award"})) == {"Fencing award", "Tagged award"}


def test_the_timeline_offers_the_others_with_their_count(client, mixed):
    html = unescape(client.get("/events/").content.decode())
    assert "Also show 3 other events</a>" in html
    assert 'href="/events/?all=1"' in html
    narrowed = unescape(client.get("/events/", {"kind": ["award", "pitch"]}).content.decode())
    assert "Also show 1 other event matching these filters</a>" in narrowed
    assert 'href="/events/?kind=award&kind=pitch&all=1"' in narrowed
    everything = unescape(client.get("/events/", {"all": "1"}).content.decode())
    assert CONTROL not in everything
    assert "Including: events with no technology tagged" in everything  # a removable chip
    assert 'name="all" value="1" checked' in everything  # and the form keeps it
    assert everything.count('<span class="untagged">no technology tagged</span>') == 3


def test_no_control_when_nothing_is_left_out(client, mixed):
    html = client.get("/events/", {"technology": mixed["tech"].slug}).content.decode()
    assert CONTROL not in html
    assert CONTROL not in client.get("/events/", {"kind": "pitch"}).content.decode()


def test_entity_pages_follow_the_timeline_and_relationship_pages_show_everything(client, mixed):
    agency, vendor = mixed["agency"], mixed["vendor"]
    page = client.get(agency.get_absolute_url())
    assert titles(page) == SHOWN
    html = unescape(page.content.decode())
    assert "Also show 3 other events matching these filters</a>" in html
    assert f'href="{agency.get_absolute_url()}?all=1"' in html
    assert "<strong>5</strong> events" in html  # the totals count what the list shows
    assert titles(client.get(agency.get_absolute_url(), {"all": "1"})) == SHOWN | OTHERS
    assert titles(client.get(vendor.get_absolute_url())) == SHOWN

    relationship = client.get(reverse("relationship", args=[agency.slug, vendor.slug]))
    assert titles(relationship) == SHOWN | OTHERS
    html = relationship.content.decode()
    assert html.count('<span class="untagged">no technology tagged</span>') == 3
    assert CONTROL not in html
    assert f"/events.csv?agency={agency.slug}&amp;vendor={vendor.slug}&amp;all=1" in html
    csv_url = reverse("agency-vendor-events-csv", args=[agency.slug, vendor.slug])
    assert csv_titles(client.get(csv_url)) == SHOWN | OTHERS


def test_feed_title_names_all(client, mixed):
    root = ET.fromstring(client.get("/events/feed/", {"all": "1"}).content)
    assert root.findtext(f"{ATOM}title") == (
        "Spyglass: events (including events with no technology tagged)"
    )


def test_alerts_match_only_relevant_events_unless_all(mixed):
    agency = mixed["agency"].slug
    queries = compile_queries([(1, {"agency": agency}), (2, {"agency": agency, "all": "1"})])
    facts = load_event_facts(event.pk for event in mixed["events"].values())
    matches = match_events(queries, facts)
    by_id = {event.pk: title for title, event in mixed["events"].items()}
    assert {by_id[pk] for pk in matches[1]} == SHOWN
    assert {by_id[pk] for pk in matches[2]} == SHOWN | OTHERS
    fencing = mixed["events"]["Fencing award"].pk
    assert 1 not in match_events(queries, load_event_facts([fencing]))


def test_home_counts_count_relevant_events(client, mixed):
    counts = home_counts()
    assert counts["total"] == 5
    assert {row["kind"]: row["n"] for row in counts["by_kind"]} == {
        "award": 1,
        "pitch": 1,
        "foia": 1,
        "meeting": 1,
        "report": 1,
    }
    html = unescape(client.get("/").content.decode())
    assert "All 5 events →" in html
    assert "Fencing award" not in html


def test_export_events_all_option(mixed):
    def exported(*args: str) -> set[str]:
        out = io.StringIO()
        call_command("export_events", *args, "-o", "-", stdout=out)
        return {row["title"] for row in csv.DictReader(io.StringIO(out.getvalue(), newline=""))}

    assert exported() == SHOWN
    assert exported("--all") == SHOWN | OTHERS
    assert exported("--all", "--kind", "modification") == {"Guard services"}
