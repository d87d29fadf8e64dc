"""The read-only JSON API: same filters as the timeline, keyset paging, links, policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.test import override_settings
from django.utils import timezone
from drf_spectacular.validation import validate_schema

from tests.export import factories as make
from tracker.exports import export_rows
from tracker.models import Agency, Event, ScrapeRun, Technology, Vendor
from tracker.selectors import EventFilters, event_search

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.export.urls_for_test")]


def get(client, url: str, **headers):
    response = client.get(url, HTTP_ACCEPT="application/json", **headers)
    assert response["Content-Type"].startswith("application/json"), (url, response.status_code)
    return response


def walk(client, url: str) -> list[dict]:
    """Every result, following ``next`` to the end."""
    results = []
    while url:
        body = get(client, url).json()
        results.extend(body["results"])
        url = body["next"]
    return results


def test_event_list_and_detail_carry_links_roles_and_sources(client, starter):
    body = get(client, "/api/v1/events/?agency=ice&technology=face-recognition").json()
    assert body["warnings"] == [] and body["next"] is None
    pitch = next(e for e in body["results"] if e["kind"] == "pitch")
    assert pitch["html_url"] == f"http://testserver/events/{pitch['id']}/"
    assert pitch["url"] == f"http://testserver/api/v1/events/{pitch['id']}/"
    assert pitch["agencies"] == [
        {
            "slug": "hsi",
            "name": "Homeland Security Investigations",
            "role": "pitched-to",
            "url": "http://testserver/api/v1/agencies/hsi/",
            "html_url": "http://testserver/agencies/hsi/",
        }
    ]
    assert pitch["vendors"][0]["slug"] == "aws" and pitch["vendors"][0]["role"] == "vendor"
    assert {t["slug"] for t in pitch["technologies"]} == {"face-recognition", "video-analytics"}
    assert pitch["technologies"][0]["role"] == "curator"
    assert [s["external_id"] for s in pitch["sources"]] == sorted(
        s["external_id"] for s in pitch["sources"]
    )
    assert set(pitch["sources"][0]) == {"source", "external_id", "url", "retrieved_at"}
    detail = get(client, pitch["url"]).json()
    assert detail["outcome"].startswith("No contract found between ICE and Amazon.com as of ")
    csv_outcome = next(r for r in export_rows(EventFilters(kind=("pitch",)), fmt="jsonl"))
    assert '"outcome":"' + detail["outcome"] + '"' in csv_outcome
    report = Event.objects.get(kind="report")
    assert get(client, f"/api/v1/events/{report.pk}/").json()["outcome"] is None


def test_amount_is_an_exact_decimal_string(client):
    made = make.event(amount="-1234.50")
    assert get(client, f"/api/v1/events/{made.pk}/").json()["amount"] == "-1234.50"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "agency=dhs",
        "vendor=amazon&kind=pitch,meeting",
        "order=oldest",
        "order=amount",
        "since=2018-06-10&until=2019-01-01",
        "q=rekognition",
        "level=federal",
    ],
)
def test_api_agrees_with_the_timeline_row_for_row(client, starter, query):
    ice = Agency.objects.get(slug="ice")
    for amount in ("5", "5", None):
        make.event(date=dt.date(2018, 6, 15), agencies=[ice], amount=amount, title="rekognition")
    make.event(date=None, agencies=[ice])
    ids = [e["id"] for e in walk(client, f"/api/v1/events/?page_size=2&{query}")]
    assert ids == list(
        event_search(EventFilters.from_params(QueryDict(query))).values_list("id", flat=True)
    )


@pytest.mark.parametrize("order", ["newest", "oldest", "amount"])
def test_cursor_walks_every_page_without_gaps_or_repeats(client, order):
    for i in range(23):
        make.event(
            date=None if i % 5 == 0 else dt.date(2020, 1, 1 + i % 3),
            amount=None if i % 4 == 0 else Decimal(i % 3),
        )
    ids = [e["id"] for e in walk(client, f"/api/v1/events/?order={order}&page_size=4&all=1")]
    assert len(ids) == len(set(ids)) == 23
    expected = event_search(EventFilters(order=order, all=True)).values_list("id", flat=True)
    assert ids == list(expected)


def test_cursor_errors_are_400_json(client):
    make.event()
    make.event()
    assert get(client, "/api/v1/events/?cursor=garbage").status_code == 400
    body = get(client, "/api/v1/events/?page_size=1&all=1").json()
    other_order = body["next"].replace("page_size=1", "page_size=1&order=oldest")
    response = get(client, other_order)
    assert response.status_code == 400 and "another order" in response.json()["detail"]


def test_unknown_filter_values_are_400_and_a_bad_page_size_a_warning(client, starter):
    response = get(client, "/api/v1/events/?agency=nope&since=someday&kind=bogus")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "No agency “nope”." in detail and "someday" in detail and "bogus" in detail
    body = get(client, "/api/v1/events/?page_size=x&all=1").json()
    assert len(body["warnings"]) == 1
    assert len(body["results"]) == Event.objects.count()


def test_event_list_query_count_is_fixed(client, starter, django_assert_num_queries):
    for _ in range(10):
        make.event(
            agencies=[Agency.objects.get(slug="ice")],
            vendors=[Vendor.objects.get(slug="aws")],
            technologies=[Technology.objects.get(slug="face-recognition")],
        )
    # path, subtree ids, stored size and (none stored) capped link count for the query plan
    # (which also says whether to count), the capped count, the page, 4 prefetches
    with django_assert_num_queries(10):
        assert len(get(client, "/api/v1/events/?agency=ice").json()["results"]) == 12


def test_entities_list_filters_and_detail(client, starter):
    body = get(client, "/api/v1/agencies/?parent=dhs").json()
    assert {a["slug"] for a in body["results"]} >= {"ice", "cbp"}
    assert all(a["parent"]["slug"] == "dhs" for a in body["results"])
    found = get(client, "/api/v1/agencies/?q=customs enforcement").json()["results"]
    assert [a["slug"] for a in found] == ["ice"]
    levels = {a["level"] for a in get(client, "/api/v1/agencies/?level=local").json()["results"]}
    assert levels == {"local"}
    ice = get(client, "/api/v1/agencies/ice/").json()
    assert ice["parent"]["url"] == "http://testserver/api/v1/agencies/dhs/"
    assert {c["slug"] for c in ice["children"]} == {"hsi", "ice-ero"}
    assert ice["events_url"] == "http://testserver/api/v1/events/?agency=ice"
    assert ice["csv_url"] == "http://testserver/agencies/ice/events.csv"
    assert "toptier_code" in ice and isinstance(ice["aliases"], list)
    aws = get(client, "/api/v1/vendors/aws/").json()
    assert aws["parent"]["slug"] == "amazon" and {"name", "valid_from", "valid_until"} <= set(
        aws["aliases"][0]
    )
    assert [v["slug"] for v in get(client, "/api/v1/vendors/?q=AWS").json()["results"]] == ["aws"]
    tech = get(client, "/api/v1/technologies/?parent=biometrics").json()
    assert [t["slug"] for t in tech["results"]] == ["face-recognition"]
    warned = get(client, "/api/v1/technologies/?parent=nope&level=x").json()
    assert (
        warned["warnings"]
        and warned["count"] == get(client, "/api/v1/technologies/").json()["count"]
    )
    assert get(client, "/api/v1/agencies/nope/").status_code == 404
    assert get(client, "/api/v1/agencies/?page=999").status_code == 404


def test_sources_show_the_last_run(client, starter):
    ScrapeRun.objects.create(source="usaspending", status="failed", message="old")
    latest = ScrapeRun.objects.create(
        source="usaspending", status="succeeded", inserted=7, finished_at=timezone.now()
    )
    body = get(client, "/api/v1/sources/").json()
    by_name = {s["name"]: s for s in body["results"]}
    assert by_name["curator"]["records"] > 0 and by_name["curator"]["last_run"] is None
    assert by_name["usaspending"]["last_run"]["status"] == "succeeded"
    assert by_name["usaspending"]["last_run"]["inserted"] == 7 == latest.inserted


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/events/",
        "/api/v1/events/1/",
        "/api/v1/agencies/",
        "/api/v1/agencies/ice/",
        "/api/v1/sources/",
        "/api/v1/",
    ],
)
def test_writes_are_not_allowed(client, starter, url):
    for method in (client.post, client.put, client.patch, client.delete):
        response = method(url, data={}, HTTP_ACCEPT="application/json")
        assert response.status_code == 405, (method, url)
        assert response["Content-Type"].startswith("application/json")


def test_unknown_addresses_and_huge_ids_are_json_404(client):
    assert get(client, "/api/v1/nothing/here/").status_code == 404
    assert get(client, "/api/v1/events/999999999999999999999999/").status_code == 404
    assert get(client, "/api/v1/events/12/").status_code == 404


@override_settings(
    CORS_URLS_REGEX=r"^/api/.*$", CORS_ALLOW_ALL_ORIGINS=True, CORS_ALLOW_METHODS=["GET", "OPTIONS"]
)
def test_cors_is_open_for_get_on_the_api_only(client, starter):
    response = get(client, "/api/v1/events/", HTTP_ORIGIN="https://elsewhere.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    page = client.get("/events.csv", HTTP_ORIGIN="https://elsewhere.example")
    assert "Access-Control-Allow-Origin" not in page


@override_settings(SPYGLASS_API_RATE="3/min")
def test_throttle_answers_429_over_the_rate(client):
    statuses = [get(client, "/api/v1/agencies/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = get(client, "/api/v1/events/")
    assert response.status_code == 429 and "Retry-After" in response


@override_settings(SPYGLASS_API_RATE="3/min")
def test_a_new_x_forwarded_for_each_request_does_not_reset_the_limit(client):
    statuses = [
        get(client, "/api/v1/agencies/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(6)
    ]
    assert statuses == [200, 200, 200, 429, 429, 429]


def test_schema_is_valid_openapi_and_docs_are_local(client, starter):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert {
        "/api/v1/events/",
        "/api/v1/events/{id}/",
        "/api/v1/agencies/{slug}/",
        "/api/v1/sources/",
    } <= set(schema["paths"])
    names = {p["name"] for p in schema["paths"]["/api/v1/events/"]["get"]["parameters"]}
    assert {
        "agency",
        "vendor",
        "technology",
        "kind",
        "since",
        "until",
        "q",
        "order",
        "cursor",
    } <= names
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "Spyglass API reference" in html and "GET /api/v1/events/" in html and "cursor" in html
    assert "cdn" not in html.lower() and '<script src="http' not in html
    root = get(client, "/api/v1/").json()
    assert root["events"] == "http://testserver/api/v1/events/" and root["docs"].endswith(
        "/api/v1/docs/"
    )
