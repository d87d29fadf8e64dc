"""API v1: the /api/ alias, counted and two-way event pages, and incremental sync."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from tests.export import factories as make
from tracker.api import pagination
from tracker.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.export.urls_for_test")]

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def get(client, url: str):
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response["Content-Type"].startswith("application/json"), (url, response.status_code)
    return response


def walk(client, url: str, link: str = "next") -> list[list[int]]:
    """The ids of every page, following ``link`` to the end."""
    pages = []
    while url:
        body = get(client, url).json()
        pages.append([event["id"] for event in body["results"]])
        url = body[link]
    return pages


def events_changed_at(*minutes: int) -> list[Event]:
    """One event per value, its updated_at that many minutes after T0."""
    made = []
    for minute in minutes:
        event = make.event(date=dt.date(2020, 1, 1))
        Event.objects.filter(pk=event.pk).update(updated_at=T0 + dt.timedelta(minutes=minute))
        made.append(event)
    return made


def test_the_alias_answers_like_v1_and_every_link_is_canonical(client, starter):
    v1 = get(client, "/api/v1/events/?agency=ice").json()
    alias = get(client, "/api/events/?agency=ice").json()
    assert alias == v1
    assert v1["results"][0]["url"].startswith("http://testserver/api/v1/events/")
    root = get(client, "/api/").json()
    assert root == get(client, "/api/v1/").json()
    assert root["version"] == "v1" and root["events"] == "http://testserver/api/v1/events/"
    assert root["schema"] == "http://testserver/api/v1/schema/"
    agency = get(client, "/api/agencies/ice/").json()
    assert agency["url"] == "http://testserver/api/v1/agencies/ice/"
    assert get(client, "/api/v1/nothing/").status_code == get(client, "/api/nothing/").status_code
    schema = get(client, "/api/schema/?format=json").json()
    assert schema == get(client, "/api/v1/schema/?format=json").json()
    assert schema["paths"] and all(path.startswith("/api/v1/") for path in schema["paths"])
    html = client.get("/api/v1/docs/").content.decode()
    assert "GET /api/v1/events/" in html and "GET /api/events/" not in html
    assert "updated_since" in html and "count_capped" in html


def test_event_pages_are_counted_and_walk_both_ways(client):
    for day in range(1, 8):
        make.event(date=dt.date(2020, 1, day))
    first = get(client, "/api/v1/events/?all=1&page_size=3").json()
    assert (first["count"], first["count_capped"], first["previous"]) == (7, False, None)
    forward = walk(client, "/api/v1/events/?all=1&page_size=3")
    assert [len(page) for page in forward] == [3, 3, 1]
    last = first
    while last["next"]:
        last = get(client, last["next"]).json()
    assert last["count"] == 7
    backward = walk(client, last["previous"], link="previous")
    assert backward == forward[-2::-1]
    again = get(client, get(client, last["previous"]).json()["next"]).json()
    assert [event["id"] for event in again["results"]] == forward[-1]


def test_count_is_capped_like_the_timeline(client, monkeypatch):
    for _ in range(4):
        make.event()
    from tracker import selectors

    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    body = get(client, "/api/v1/events/?all=1&page_size=2").json()
    assert (body["count"], body["count_capped"]) == (3, True)
    assert (get(client, "/api/v1/events/?all=1&kind=award&until=1900-01-01").json()["count"]) == 0


def test_broad_entity_filters_are_not_counted_unless_they_fit_one_page(client, monkeypatch):
    from tracker import selectors
    from tracker.stats import refresh_stats

    agency = make.agency("Broad Agency")
    for _ in range(3):
        make.event(agencies=[agency])
    refresh_stats()
    monkeypatch.setattr(selectors, "DRIVE_LIMIT", 2)  # the stored 3 events are "broad"
    url = f"/api/v1/events/?all=1&agency={agency.slug}&page_size="
    assert get(client, url + "2").json()["count"] is None
    assert get(client, url + "5").json()["count"] == 3
    monkeypatch.setattr(selectors, "DRIVE_LIMIT", 3)
    assert get(client, url + "2").json()["count"] == 3


def test_events_carry_updated_at_and_updated_since_keeps_the_changed_ones(client):
    old, new, newer = events_changed_at(0, 90, 24 * 60)
    body = get(client, "/api/v1/events/?all=1").json()
    stamps = {event["id"]: event["updated_at"] for event in body["results"]}
    assert stamps[old.pk] == "2026-01-01T00:00:00Z"

    def since(value: str) -> set[int]:
        response = client.get("/api/v1/events/", {"all": "1", "updated_since": value})
        assert response.status_code == 200, response.content
        return {event["id"] for event in response.json()["results"]}

    assert since("2026-01-01T01:30:00Z") == {new.pk, newer.pk}
    assert since("2026-01-01T01:30:00.000001") == {newer.pk}  # no offset: UTC
    assert since("2026-01-01T03:30:00+02:00") == {new.pk, newer.pk}
    assert since("2026-01-02") == {newer.pk}  # a date: from its midnight UTC
    # an unescaped "+" in the offset arrives as a space
    response = get(client, "/api/v1/events/?all=1&updated_since=2026-01-01T03:30:00+02:00")
    assert {event["id"] for event in response.json()["results"]} == {new.pk, newer.pk}


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "2026-01-01T25:00Z", "1"])
def test_an_unusable_updated_since_is_a_one_line_400(client, value):
    response = client.get("/api/v1/events/", {"updated_since": value, "kind": "bogus"})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "\n" not in detail and "Unknown kind “bogus”" in detail
    assert f"updated_since: “{value}” is not a date or time" in detail


@override_settings(SPYGLASS_API_RATE="100000/min")
def test_a_sync_walk_in_updated_order_skips_nothing_changed_meanwhile(client):
    made = events_changed_at(*range(6))
    url = "/api/v1/events/?all=1&order=updated&page_size=2&updated_since=2026-01-01"
    body = get(client, url).json()
    seen = [event["id"] for event in body["results"]]
    assert seen == [made[0].pk, made[1].pk]
    assert [event["updated_at"] for event in body["results"]] == sorted(
        event["updated_at"] for event in body["results"]
    )
    # made[0] and made[3] change while the client is between pages: both come round again
    for event in (made[3], made[0]):
        event.title = "Changed"
        event.save()
    url = body["next"]
    while url:
        body = get(client, url).json()
        seen.extend(event["id"] for event in body["results"])
        url = body["next"]
    # made[3] is met once, where it moved to; made[0] again after the rest
    assert seen == [made[i].pk for i in (0, 1, 2, 4, 5, 3, 0)]
    assert set(seen) == set(Event.objects.values_list("id", flat=True))


def test_an_updated_order_cursor_is_refused_for_another_order(client):
    events_changed_at(0, 1, 2)
    body = get(client, "/api/v1/events/?all=1&order=updated&page_size=1").json()
    response = get(client, body["next"].replace("order=updated", "order=newest"))
    assert response.status_code == 400 and "another order" in response.json()["detail"]


def test_the_schema_is_strict_about_null(client):
    """nullable only where OpenAPI 3.0.3 gives it effect: beside an explicit type."""
    schema = get(client, "/api/v1/schema/?format=json").json()

    def untyped_nullables(node, where=""):
        if isinstance(node, dict):
            if node.get("nullable") and "type" not in node:
                yield where
            for key, value in node.items():
                yield from untyped_nullables(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from untyped_nullables(value, f"{where}/{index}")

    assert list(untyped_nullables(schema)) == []
    parent = schema["components"]["schemas"]["Agency"]["properties"]["parent"]
    assert parent["type"] == "object" and parent["nullable"] is True
    events = schema["paths"]["/api/v1/events/"]["get"]
    ref = events["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"count", "count_capped", "next", "previous"} <= set(page["required"])
    assert {"400", "429"} <= set(events["responses"])
    names = {parameter["name"] for parameter in events["parameters"]}
    assert "updated_since" in names
