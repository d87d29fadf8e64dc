"""The fetch stage's legistar source: the replay answers each Legistar route in the Web API's
shape and paging, and a sample run's requests are the ones the scraper's steps imply."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from urllib.parse import urlencode

import pytest

from scrapers.base import Page
from scrapers.legistar import committee_filter, title_filters
from scrapers.legistar_parse import agenda_matter_ids, matter_record, parse
from tracker.bench import fetch
from tracker.bench.replay import (
    AGENDA_ITEMS,
    AGENDA_MATTERS,
    COMMITTEE_MEETINGS_PER_YEAR,
    LEGISTAR_PAGE,
    ReplayServer,
    Request,
)
from tracker.models import Council, Event
from tracker.services.backfill import backfill_windows
from tracker.services.starter import starter_data_load

YEAR = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
SWEEP = title_filters(("Flock", "surveillance"), *YEAR)[0]


def get(server: ReplayServer, path: str, **query: object):
    reply = server.answer(Request("GET", path, {k: str(v) for k, v in query.items()}, b""))
    assert reply.status == 200 and reply.content_type == "application/json"
    return json.loads(reply.body)


def page(server: ReplayServer, path: str, **query: object) -> Page:
    data = get(server, path, **query)
    return Page(url=server.url(f"{path}?{urlencode(query)}"), body=json.dumps(data).encode())


def test_matters_page_by_1000_with_a_short_last_page_and_honour_top():
    with ReplayServer() as server:
        check_matter_pages(server)


def check_matter_pages(server: ReplayServer) -> None:
    server.reset({"legistar-matters": 2_500})
    pages = [get(server, "/v1/oakland/matters", **{"$filter": SWEEP, "$skip": skip})
             for skip in (0, 1000, 2000)]  # fmt: skip
    assert [len(rows) for rows in pages] == [LEGISTAR_PAGE, LEGISTAR_PAGE, 500]
    ids = [row["MatterId"] for rows in pages for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == 2_500
    assert server.page_sizes["legistar-matters"] == LEGISTAR_PAGE
    top = get(server, "/v1/oakland/matters", **{"$filter": SWEEP, "$top": 10, "$skip": 20})
    assert [row["MatterId"] for row in top] == ids[20:30]
    # Another council, or another filter, is another series with its own rows.
    other = get(server, "/v1/seattle/matters", **{"$filter": SWEEP})
    assert len(other) == LEGISTAR_PAGE and not {row["MatterId"] for row in other} & set(ids)
    assert server.requests["legistar-matters"] == 5 and len(server.series) == 2
    # The rows are modified in the filter's window, and parse into one record per matter.
    modified = {row["MatterLastModifiedUtc"][:10] for row in pages[0]}
    assert min(modified) >= "2024-01-01" and max(modified) <= "2024-12-31"
    parsed = parse(page(server, "/v1/oakland/matters", **{"$filter": SWEEP, "$top": 5}))
    assert len(parsed.records) == 5 and not parsed.drift
    assert {r.external_id.split(":")[0] for r in parsed.records} == {"oakland"}


def test_a_matters_histories_and_attachments_complete_its_record():
    with ReplayServer() as server:
        check_matter_details(server)


def check_matter_details(server: ReplayServer) -> None:
    server.reset({"legistar-matters": 3})
    rows = get(server, "/v1/oakland/matters", **{"$filter": SWEEP})
    adopted = next(row for row in rows if row["MatterStatusName"] == "Adopted")
    matter_id = adopted["MatterId"]
    assert get(server, f"/v1/oakland/matters/{matter_id}") == adopted  # a bare object
    histories = get(server, f"/v1/oakland/matters/{matter_id}/histories")
    attachments = get(server, f"/v1/oakland/matters/{matter_id}/attachments")
    record = matter_record("oakland", adopted, histories=histories, attachments=attachments)
    assert record.extra["outcome"] == "passed" and len(record.extra["actions"]) == 3
    assert record.date.isoformat() == adopted["MatterPassedDate"][:10]
    assert [a["url"] for a in record.extra["attachments"]] == [
        a["MatterAttachmentHyperlink"] for a in attachments
    ]
    assert all("//oakland.legistar1.com/" in a["MatterAttachmentHyperlink"] for a in attachments)
    assert record.vendors and record.amount is not None and record.kind == "award"


def test_committee_meetings_follow_the_calendar_and_agendas_name_their_matters():
    with ReplayServer() as server:
        check_meetings(server)


def check_meetings(server: ReplayServer) -> None:
    server.reset({})
    events = get(server, "/v1/oakland/events", **{"$filter": committee_filter(*YEAR)})
    assert len(events) == COMMITTEE_MEETINGS_PER_YEAR
    assert all(e["EventItems"] == [] for e in events)
    assert {e["EventDate"][:4] for e in events} == {"2024"}
    quarter = committee_filter(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert len(get(server, "/v1/oakland/events", **{"$filter": quarter})) == round(
        91 * COMMITTEE_MEETINGS_PER_YEAR / 365.25
    )
    event_id = events[0]["EventId"]
    path = f"/v1/oakland/events/{event_id}/eventitems"
    agenda = page(server, path, AgendaNote=1, MinutesNote=1, Attachments=1)
    items = json.loads(agenda.body)
    assert len(items) == AGENDA_ITEMS and {i["EventItemEventId"] for i in items} == {event_id}
    matters = agenda_matter_ids(agenda)
    assert len(matters) == AGENDA_MATTERS
    assert all(i["EventItemMatterAttachments"] for i in items if i["EventItemMatterId"])
    assert not any(i["EventItemMatterAttachments"] for i in get(server, path))  # no flag
    assert parse(agenda).records == [] and not parse(agenda).drift
    matter = get(server, f"/v1/oakland/matters/{matters[0]}")
    assert matter["MatterId"] == int(matters[0])
    assert matter["MatterLastModifiedUtc"][:10] > events[0]["EventDate"][:10]


@pytest.mark.django_db(transaction=True)
def test_a_sample_run_makes_the_requests_the_scrapers_steps_imply(monkeypatch):
    starter_data_load()
    volume = dataclasses.replace(fetch.VOLUMES["legistar"], sample_days=14)
    monkeypatch.setitem(fetch.VOLUMES, "legistar", volume)
    with ReplayServer() as server, fetch.bench_settings(server):
        measured = fetch.measure_source("legistar", server, events=500, rows_per_series=1.0)
    assert measured.status == "succeeded", measured.message
    routes = measured.routes
    councils = Council.objects.filter(active=True).count()
    # Every council is read, the one needing a token (nyc) with the bench's dummy one.
    assert councils == fetch.STARTER_COUNCILS
    assert routes["legistar-events"] == councils  # one page each
    assert measured.kind == "legistar-matters" and measured.page_size == LEGISTAR_PAGE
    assert routes["legistar-matters"] + routes["legistar-events"] == measured.planned
    meetings = routes["legistar-eventitems"]
    assert meetings == councils * round(14 * COMMITTEE_MEETINGS_PER_YEAR / 365.25)
    assert routes["legistar-matter"] == meetings * AGENDA_MATTERS
    matters = measured.rows + routes["legistar-matter"]
    assert routes["legistar-histories"] == routes["legistar-attachments"] == matters
    assert measured.requests == sum(routes.values()) and "unrouted" not in routes
    assert measured.events == Event.objects.filter(sources__source="legistar").count() == matters
    assert measured.requests_per_event == measured.requests / measured.events


@pytest.mark.django_db(transaction=True)
def test_the_stage_reports_legistars_requests_per_event_and_backfill_hours(monkeypatch):
    volume = dataclasses.replace(fetch.VOLUMES["legistar"], sample_days=14)
    monkeypatch.setitem(fetch.VOLUMES, "legistar", volume)
    today = dt.date(2026, 12, 3)
    rows = fetch.fetch_stage(200, "sqlite", lambda message: None, sources=["legistar"], today=today)
    by_stage = {row.stage: row for row in rows}
    assert set(by_stage) == {"fetch-legistar", "backfill-legistar"}
    sample = by_stage["fetch-legistar"]
    assert sample.ours == sample.extra["requests"] / sample.extra["events"] > 0
    backfill = by_stage["backfill-legistar"]
    assert backfill.verdict in ("PASS", "MISS target") and backfill.target == "≤ 24 hours"
    assert backfill.extra["rate_per_hour"] == fetch.POLITE_PER_HOUR
    assert backfill.ours * fetch.POLITE_PER_HOUR == pytest.approx(
        backfill.extra["requests"], abs=0.5
    )
    # backfill legistar runs one scrape per year of matters modified.
    windows = len(backfill_windows(source="legistar", since=fetch.BACKFILL_START, until=today))
    assert windows == math.ceil(((today - fetch.BACKFILL_START).days + 1) / 365)
    assert backfill.extra["series_how"].startswith(f"{windows} window(s)")


def test_legistars_volume_is_its_councils_matters_at_the_polite_rate():
    volume = fetch.VOLUMES["legistar"]
    assert volume.rows_per_year == fetch.LEGISTAR_MATTERS_PER_COUNCIL_YEAR * fetch.STARTER_COUNCILS
    assert volume.rates == (fetch.POLITE,) and volume.kinds == {"legistar-matters": 1.0}
    assert not volume.contract
