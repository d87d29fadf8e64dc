"""A filter that cannot be used is refused on every surface, never answered more broadly.

An unknown agency, vendor or technology slug, an impossible date, a malformed amount or an
unknown kind gives a 400 with a one-line explanation (CSV, Atom feed, JSON API, the HTML
timeline with no events under it), a ``CommandError`` from ``export_events`` and a form
error on the alert form; the same filters, spelled correctly, still work everywhere.
"""

from __future__ import annotations

import io
from html import unescape

import pytest
from django.core.management import CommandError, call_command

from tests.web import factories
from tracker.alerts.models import AlertSubscription
from tracker.models import Agency, Technology

pytestmark = pytest.mark.django_db

MARKER = "Marker event for the bad-filter tests"

# (query, the one-line message); every field a reader can mistype.
BAD = [
    ({"agency": "nope"}, "No agency “nope”."),
    ({"vendor": "nope"}, "No vendor “nope”."),
    ({"technology": "nope"}, "No technology “nope”."),
    ({"since": "2030-13-45"}, "since: “2030-13-45” is not a date (use YYYY-MM-DD)."),
    ({"until": "someday"}, "until: “someday” is not a date (use YYYY-MM-DD)."),
    ({"amount_min": "lots"}, "amount_min: “lots” is not an amount (use a number of dollars)."),
    ({"amount_max": "1e999"}, "amount_max: “1e999” is not an amount (use a number of dollars)."),
    ({"kind": "bogus"}, "Unknown kind “bogus” (use "),
]
IDS = ["&".join(f"{name}={value}" for name, value in query.items()) for query, _ in BAD]
# What ``export_events`` takes (it has no amount options).
COMMAND_BAD = [
    pytest.param(query, message, id=id_)
    for (query, message), id_ in zip(BAD, IDS, strict=True)
    if not {"amount_min", "amount_max"} & set(query)
]


@pytest.fixture
def marked(starter):
    """One relevant event that every unfiltered list shows."""
    return factories.event(
        title=MARKER,
        agencies=[Agency.objects.get(slug="ice")],
        technologies=[Technology.objects.get(slug="face-recognition")],
    )


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_events", *args, "-o", "-", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(("query", "message"), BAD, ids=IDS)
def test_timeline_shows_the_error_and_no_events(client, marked, query, message):
    response = client.get("/events/", query)
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "This search cannot be answered as asked" in html
    assert message in html
    assert MARKER not in html


@pytest.mark.parametrize(("query", "message"), BAD, ids=IDS)
def test_entity_page_shows_the_error_and_no_events(client, marked, query, message):
    response = client.get("/technologies/face-recognition/", query)
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert message in html
    assert MARKER not in html


@pytest.mark.parametrize(("query", "message"), BAD, ids=IDS)
@pytest.mark.parametrize("url", ["/events.csv", "/agencies/ice/events.csv"])
def test_csv_is_a_400_with_the_message(client, marked, url, query, message):
    response = client.get(url, query)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert message in body
    assert body.endswith("\n") and "\n" not in body.rstrip("\n")
    assert MARKER not in body


@pytest.mark.parametrize(("query", "message"), BAD, ids=IDS)
def test_feed_is_a_400_with_the_message(client, marked, query, message):
    response = client.get("/events/feed/", query)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and "\n" not in body.rstrip("\n")
    assert MARKER not in body


@pytest.mark.parametrize(("query", "message"), BAD, ids=IDS)
def test_api_is_a_400_json_error(client, marked, query, message):
    response = client.get("/api/events/", query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail"} and message in body["detail"]


@pytest.mark.parametrize(("query", "message"), COMMAND_BAD)
def test_export_events_fails_with_the_message(marked, query, message):
    (name, value), = query.items()
    with pytest.raises(CommandError) as caught:
        export(f"--{name}", value)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("query", "message"), BAD, ids=IDS)
def test_alert_is_not_saved(client, marked, query, message):
    url = "/alerts/subscribe/?" + "&".join(f"{k}={v}" for k, v in query.items())
    page = client.get(url)
    assert message in unescape(page.content.decode())
    response = client.post(url, {"email": "reader@example.org", "frequency": "daily"})
    assert response.status_code == 200  # the form again, with the error
    html = unescape(response.content.decode())
    assert f"This search cannot be saved as an alert: {message}" in html
    assert not AlertSubscription.objects.exists()


def test_several_bad_filters_are_named_in_one_line(client, marked):
    response = client.get("/events.csv", {"agency": "nope", "since": "2030-13-45"})
    assert response.status_code == 400
    assert response.content.decode() == (
        "No agency “nope”. since: “2030-13-45” is not a date (use YYYY-MM-DD).\n"
    )


GOOD = {"agency": "ice", "technology": "face-recognition", "since": "2020-01-01",
        "kind": "award", "amount_min": "0"}


def test_good_filters_still_work_everywhere(client, marked, settings):
    settings.SITE_URL = "https://spyglass.example"
    marked.amount = 5
    marked.save()
    assert MARKER in unescape(client.get("/events/", GOOD).content.decode())
    csv = client.get("/events.csv", GOOD)
    assert csv.status_code == 200 and MARKER in b"".join(csv.streaming_content).decode()
    feed = client.get("/events/feed/", GOOD)
    assert feed.status_code == 200 and MARKER in unescape(feed.content.decode())
    api = client.get("/api/events/", GOOD)
    assert api.status_code == 200 and [row["title"] for row in api.json()["results"]] == [MARKER]
    assert MARKER in export("--agency", "ice", "--technology", "face-recognition")
    url = "/alerts/subscribe/?agency=ice&technology=face-recognition"
    answer = client.post(url, {"email": "reader@example.org", "frequency": "daily"})
    assert answer.status_code == 303
    assert AlertSubscription.objects.get().params == {
        "agency": "ice", "technology": "face-recognition"
    }


def test_a_renamed_technology_slug_still_works(client, starter):
    old, new = "alpr", "automated-license-plate-readers"
    assert Technology.objects.filter(slug=new).exists()
    assert client.get("/events.csv", {"technology": old}).status_code == 200
    body = client.get("/api/events/", {"technology": old})
    assert body.status_code == 200
    assert client.get("/events/", {"technology": old}).status_code == 200
