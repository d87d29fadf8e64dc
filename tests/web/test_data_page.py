"""The Data page (downloads, API, every CSV column, licences, citation) and the privacy notice
for alert subscribers: findable from the navigation, and generated from the code they describe."""

from __future__ import annotations

import csv
import io
import json
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.web import factories
from tracker.alerts import services
from tracker.alerts.tokens import CONFIRM_MAX_AGE
from tracker.exports import COLUMNS, export_rows
from tracker.exports.bulk import BULK_NAMES, ENTITY_EXPORTS, entity_columns
from tracker.selectors import EventFilters
from tracker.views.pages import alert_rate_windows

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_every_exported_column_is_in_the_dictionary(client):
    factories.event(title="one row")
    html = text(client.get("/data/"))
    download = b"".join(client.get("/events.csv?all=1").streaming_content).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(download)))
    keys = json.loads(next(export_rows(EventFilters(all=True), fmt="jsonl")))
    assert tuple(header) == tuple(keys) == COLUMNS
    assert "technology_evidence" in header
    for column in header:
        assert f"<dt><code>{column}</code></dt>" in html, column
    for name in ENTITY_EXPORTS:
        for column in entity_columns(name):
            assert f"<dt><code>{column}</code></dt>" in html, (name, column)
    assert html.index("<dt><code>id</code></dt>") < html.index("<dt><code>outcome</code></dt>")


def test_data_page_says_which_lists_are_parallel(client):
    html = text(client.get("/data/"))
    assert "<li><code>agencies</code> and <code>agency_ids</code></li>" in html
    assert "<li><code>source_urls</code> and <code>external_ids</code></li>" in html
    assert "Parallel list, with <code>agency_ids</code>." in html
    assert "List; each value once." in html
    assert 'encoding="utf-8-sig"' in html and "U+FEFF" in html


def test_data_page_links_downloads_api_licences_and_cites_with_todays_date(client):
    html = text(client.get("/data/"))
    for name in BULK_NAMES:
        assert f'href="{reverse("download", args=[name])}"' in html, name
    assert f'href="{reverse("downloads")}"' in html
    assert f'href="{reverse("api-docs")}"' in html
    assert f'href="{reverse("privacy")}"' in html
    assert "MIT licence" in html and "public domain" in html and "CC BY 4.0" in html
    assert "Electronic Frontier Foundation" in html
    assert "Reynolds School of Journalism, University of Nevada, Reno" in html
    today = timezone.localdate()
    assert f'(accessed <time datetime="{today.isoformat()}">' in html
    assert "How to cite" in html


def test_navigation_has_data_and_about_points_there_without_duplicates(client):
    html = text(client.get("/data/"))
    assert '<a href="/data/" aria-current="page">Data</a>' in html
    about = text(client.get("/about/"))
    assert '<a href="/data/">Data</a>' in about
    assert 'href="/data/#columns"' in about and 'href="/data/#cite"' in about
    assert "<dt><code>technology_evidence</code></dt>" not in about
    assert "CC BY 4.0" not in about.split("<main", 1)[1].split("</main>", 1)[0]
    assert 'href="/privacy/"' in about  # the footer


def test_privacy_notice_states_what_the_code_does(client, monkeypatch):
    html = text(client.get("/privacy/"))
    assert f"works for {CONFIRM_MAX_AGE.days} days" in html
    assert f'href="{reverse("alerts-manage-request")}"' in html
    for stored in ("Your email address", "Each alert", "What we sent", "A random secret"):
        assert stored in html
    assert "kept for 24 hours" in html and "kept for 1 hour)" in html
    # The hours shown are the windows the alert services really count in.
    windows = {}

    def counted(scope, key, *, limit, window):
        windows[scope] = window // 3600
        return False

    monkeypatch.setattr(services, "rate_limit_hit", counted)
    services.address_rate_limited("a@example.org")
    services.client_rate_limited("192.0.2.1")
    assert alert_rate_windows() == {
        "address_hours": windows["address"],
        "client_hours": windows["client"],
    }


def test_subscribe_form_and_data_page_link_the_privacy_notice(client):
    html = text(client.get("/alerts/subscribe/", {"technology": ""}))
    assert f'href="{reverse("privacy")}"' in html
    assert f'href="{reverse("privacy")}"' in text(client.get("/data/"))


def test_pages_keep_the_mobile_layout(client):
    for url in ("/data/", "/privacy/"):
        html = text(client.get(url))
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
