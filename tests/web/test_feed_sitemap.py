"""The Atom feed of a filtered timeline and the sitemap."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.web import factories
from tracker.models import Agency, Event, Technology, Vendor

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def feed(client, params=None) -> ET.Element:
    response = client.get("/events/feed/", params or {})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def test_feed_lists_events_with_absolute_links(client, starter):
    root = feed(client)
    assert root.findtext(f"{ATOM}title") == "Spyglass: events"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3
    links = [entry.find(f"{ATOM}link").get("href") for entry in entries]
    assert all(link.startswith("http://testserver/events/") for link in links)
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert titles[0].startswith("Report: ACLU test")


def test_feed_uses_the_same_filters_and_says_so_in_its_title(client, starter):
    root = feed(client, {"agency": "ice", "kind": "pitch"})
    assert root.findtext(f"{ATOM}title") == "Spyglass: events (agency ice; kind pitch)"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Pitch: " + Event.objects.get(match_key="story:2018:aws-pitch-rekognition-ice-hsi").title
    ]
    alternate = [
        link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "alternate"
    ]
    assert alternate == ["http://testserver/events/?agency=ice&kind=pitch"]


def test_feed_summary_carries_date_amount_and_parties(client, db):
    factories.event(
        kind="award",
        amount=2500,
        title="Award",
        agencies=[factories.agency("Buyer", acronym="BUY")],
        technologies=[factories.technology()],
        summary="Cameras.",
    )
    entry = feed(client).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}summary") == "May 4, 2020 · $2,500 · BUY — Cameras."


def test_feed_with_odd_input_does_not_error(client, starter):
    # Unusable filters are a 400 (tests/web/test_bad_filters.py); these are only odd.
    response = client.get("/events/feed/", {"q": "x" * 5000, "page": "%00"})
    assert response.status_code == 200


def test_sitemap_index_links_every_section(client, starter):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    body = response.content.decode()
    for section in ("pages", "events", "agencies", "vendors", "technologies"):
        assert f"<loc>http://testserver/sitemap-{section}.xml</loc>" in body


def test_sitemap_sections_list_pages_events_and_entities(client, starter):
    def section(name: str) -> str:
        response = client.get(f"/sitemap-{name}.xml")
        assert response.status_code == 200
        return response.content.decode()

    pages = section("pages")
    for path in ("/", "/events/", "/about/", "/agencies/", "/vendors/", "/technologies/"):
        assert f"<loc>http://testserver{path}</loc>" in pages
    events = section("events")
    for event in Event.objects.all():
        assert f"<loc>http://testserver/events/{event.pk}/</loc>" in events
    assert section("agencies").count("<loc>") == Agency.objects.count()
    assert section("vendors").count("<loc>") == Vendor.objects.count()
    assert section("technologies").count("<loc>") == Technology.objects.count()
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_feed_names_its_author(client, starter):
    # RFC 4287 4.1.1: an atom:feed without an author on every entry must have its own.
    root = feed(client)
    assert root.find(f"{ATOM}author").findtext(f"{ATOM}name") == "Spyglass"
    assert all(entry.find(f"{ATOM}author") is None for entry in root.findall(f"{ATOM}entry"))
