"""Hostile scraped text is escaped on every page and in the feed; js: links are never links."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.web import factories

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def hostile(db):
    """An event whose every scraped field is hostile, linked to hostile entities."""
    agency = factories.agency(SCRIPT, acronym=SCRIPT, description=SCRIPT)
    vendor = factories.vendor(SCRIPT, description=SCRIPT, website="javascript:alert(1)")
    technology = factories.technology(SCRIPT)
    factories.event(kind="pitch", title="Followed award", agencies=[agency], vendors=[vendor])
    event = factories.event(
        kind="pitch",
        title=SCRIPT,
        summary=SCRIPT,
        amount=1,
        agencies=[(agency, "pitched-to")],
        vendors=[(vendor, "vendor")],
        technologies=[technology],
        codes={"psc": SCRIPT},
        sources=[
            {
                "source": "news",
                "url": "javascript:alert(1)",
                "external_id": SCRIPT,
                "raw": {"html": SCRIPT, SCRIPT: "</pre><script>alert(2)</script>"},
            },
            {"source": "news", "url": " JavaScript:alert(1)", "external_id": "second"},
        ],
    )
    return event, agency, vendor, technology


def assert_escaped(response) -> None:
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript""", html, re.IGNORECASE)


def test_every_page_escapes_hostile_text(client, hostile):
    event, agency, vendor, technology = hostile
    urls = [
        "/",
        "/events/",
        f"/events/?agency={agency.slug}&vendor={vendor.slug}&technology={technology.slug}",
        f"/events/?q={SCRIPT}",
        event.get_absolute_url(),
        agency.get_absolute_url(),
        vendor.get_absolute_url(),
        technology.get_absolute_url(),
        f"/agencies/{agency.slug}/vendors/{vendor.slug}/",
        "/agencies/",
        "/vendors/",
        "/technologies/",
        f"/vendors/?q={SCRIPT}",
    ]
    for url in urls:
        response = client.get(url)
        html = response.content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or url == "/technologies/", url
        assert_escaped(response)


def test_event_page_withholds_javascript_link_but_shows_it_as_text(client, hostile):
    event, *_ = hostile
    html = client.get(event.get_absolute_url()).content.decode()
    assert "Link withheld (not a web address): <code>javascript:alert(1)</code>" in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_feed_escapes_hostile_text_for_html_summaries(client, hostile):
    response = client.get("/events/feed/", {"q": SCRIPT})
    assert response.status_code == 200
    assert b"<script>" not in response.content
    root = ET.fromstring(client.get("/events/feed/").content)
    entry = next(
        e for e in root.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == f"Pitch: {SCRIPT}"
    )
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "html"
    # A feed reader renders type="html" summaries: the decoded text must itself be escaped HTML.
    assert "<script" not in summary.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in summary.text
