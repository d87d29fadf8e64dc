"""Template filters and the SVG chart function."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from tracker.templatetags.spyglass import at_precision, http_url, machine_date, money, review_label
from tracker.views.charts import bar_chart

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("1234567"), "USD", "$1,234,567"),
        (Decimal("1234567.50"), "USD", "$1,234,567.50"),
        (Decimal("-2500"), "USD", "-$2,500"),
        (Decimal("0"), "USD", "$0"),
        (Decimal("1500"), "eur", "1,500 EUR"),
        (None, "USD", ""),
    ],
)
def test_money(amount, currency, expected):
    assert money(amount, currency) == expected


@pytest.mark.parametrize(
    ("precision", "text", "machine"),
    [
        ("day", "June 5, 2018", "2018-06-05"),
        ("month", "June 2018", "2018-06"),
        ("year", "2018", "2018"),
    ],
)
def test_dates_at_their_precision(precision, text, machine):
    date = dt.date(2018, 6, 5)
    assert at_precision(date, precision) == text
    assert machine_date(date, precision) == machine
    assert at_precision(None, precision) == "undated"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=1", "https://example.org/a?b=1"),
        ("HTTP://EXAMPLE.ORG/", "HTTP://EXAMPLE.ORG/"),
        ("javascript:alert(1)", ""),
        (" JavaScript:alert(1)", ""),
        ("data:text/html,<b>", ""),
        ("//evil.example/", ""),
        ("http:///nohost", ""),
        ("http://[::1", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_http_url_only_allows_absolute_http_links(url, expected):
    assert http_url(url) == expected


def test_review_labels():
    assert review_label("auto") == "automatic — not yet checked by a curator"
    assert review_label("needs_review") == "needs review"
    assert review_label("verified") == "verified"


def test_bar_chart_is_accessible_labelled_svg():
    svg = bar_chart([("2019", 3), ("2020", 0), ("<b>", 1.5)], title="Events & more by year")
    root = ET.fromstring(str(svg))
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == "Events & more by year"
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert root.find(f"{SVG}desc").text == "2019: 3; 2020: 0; <b>: 2"
    bars = root.findall(f"{SVG}g")
    assert [bar.find(f"{SVG}title").text for bar in bars] == ["2019: 3", "2020: 0", "<b>: 2"]
    assert [bar.find(f"{SVG}text").text for bar in bars] == ["3", "0", "2"]  # values as text
    widths = [float(bar.find(f"{SVG}rect").get("width")) for bar in bars]
    assert widths[0] > widths[2] > widths[1] == 0


def test_bar_chart_of_nothing_is_empty():
    assert bar_chart([], title="x") == ""


def test_event_item_escapes_every_value_and_shows_what_a_row_shows():
    from tracker.models import Event
    from tracker.templatetags.spyglass import event_item
    from tracker.views.listing import RowLink, RowLinks

    event = Event(
        pk=7,
        kind="pitch",
        date=dt.date(2018, 6, 1),
        date_precision="month",
        title="<script>alert(\"x\")</script> & 'y'",
        amount=Decimal("-12.50"),
        currency="EUR",
        review_state="needs_review",
    )
    event.links = RowLinks(
        [RowLink("/agencies/a%22b/", 'Border "&" <b>Office</b>', "B<O>")],
        [RowLink("/vendors/v/", "Lens <Corp>", "Lens <Corp>")],
        [],
        ["fpds", "sam<x>"],
    )
    html = str(event_item(event))
    assert "<script>" not in html and "<b>" not in html
    assert '<time datetime="2018-06">June 2018</time>' in html
    assert '<span class="badge kind-pitch">Pitch</span>' in html
    assert '<span class="amount">-12.50 EUR</span>' in html
    assert '<span class="flag">needs review</span>' in html
    title = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;y&#x27;"
    assert f'<a href="/events/7/">{title}</a>' in html
    assert (
        '<dt>Agencies</dt><dd><a href="/agencies/a%22b/" title="Border &quot;&amp;&quot; '
        '&lt;b&gt;Office&lt;/b&gt;">B&lt;O&gt;</a></dd>' in html
    )
    assert "<dt>Vendors</dt><dd><a href=\"/vendors/v/\">Lens &lt;Corp&gt;</a></dd>" in html
    assert "<dt>Technology</dt>" not in html
    assert "<dt>Sources</dt><dd>fpds, sam&lt;x&gt;</dd>" in html
