"""Legistar fetching over real HTTP on 127.0.0.1: the sweep, the agendas, paging by $skip to a
short page (the real 1,000-row Oakland page), the token, and a council that answers 500."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from scrapers import legistar
from scrapers.base import AgencyRef, CouncilRef, Query, SourceUnavailable, replay_pages
from scrapers.http import HttpClient
from tests.support.server import Reply

DAY = dt.date(2026, 2, 17)
OAKLAND = CouncilRef(
    client="oakland",
    name="Oakland City Council",
    jurisdiction=AgencyRef(name="City of Oakland", level="local"),
    police=AgencyRef(name="Oakland Police Department", level="local"),
)


@pytest.fixture
def client(server):
    options = {"min_interval": 0, "max_retries": 0, "sleep": lambda s: None}
    with HttpClient(trusted_hosts=[server.host], **options) as made:
        yield made


SAMPLE_TERMS = ("license plate reader", "gunshot detection", "unmanned aircraft")


def query(*councils, keywords=SAMPLE_TERMS, **fields):
    return Query(since=DAY, until=DAY, keywords=keywords, councils=councils, **fields)


def serve_samples(server, own_fixtures, root="/v1/oakland/"):
    """Answer the sample responses at their paths, the details from their meta."""
    for page in replay_pages([own_fixtures / "legistar" / "replay"]):
        path = root + page.url.split("/v1/oakland/", 1)[1].split("?", 1)[0]
        server.add(path, Reply(body=page.body, headers={"Content-Type": "application/json"}))
        for key in ("histories", "attachments"):
            for matter_id, rows in page.meta.get(key, {}).items():
                server.add(f"{root}matters/{matter_id}/{key}", Reply.json(rows))


def test_a_council_run_sweeps_titles_reads_agendas_and_each_matters_details(
    server, client, own_fixtures
):
    serve_samples(server, own_fixtures)
    pages = list(legistar.fetch(client, query(OAKLAND), base_url=server.url("/v1/")))
    paths = [r.path for r in server.requests]
    assert paths[0] == "/v1/oakland/matters"
    sweep = server.requests[0].query
    assert sweep["$orderby"] == "MatterId" and sweep["$skip"] == "0"
    assert sweep["$filter"].startswith(
        "MatterLastModifiedUtc ge datetime'2026-02-17' and "
        "MatterLastModifiedUtc lt datetime'2026-02-18' and ("
    )
    assert "substringof('license plate reader', MatterTitle)" in sweep["$filter"]
    assert "substringof('surveillance', MatterTitle)" in sweep["$filter"]
    # Six matters in the sweep: their histories and attachments, each once.
    for matter_id in range(990101, 990107):
        assert paths.count(f"/v1/oakland/matters/{matter_id}/histories") == 1
        assert paths.count(f"/v1/oakland/matters/{matter_id}/attachments") == 1
    events = server.requests_to("/v1/oakland/events")[0].query
    assert "substringof('Public Safety', EventBodyName)" in events["$filter"]
    agenda = server.requests_to("/v1/oakland/events/990201/eventitems")[0].query
    assert agenda == {"AgendaNote": "1", "MinutesNote": "1", "Attachments": "1"}
    # The agenda's new matter is read whole; the one the sweep found is not read again.
    assert paths.count("/v1/oakland/matters/990107") == 1
    assert paths.count("/v1/oakland/matters/990101") == 0
    records = [r for p in pages for r in legistar.parse(p).records]
    assert sorted(r.external_id for r in records) == [f"oakland:{n}" for n in range(990101, 990108)]
    flock = next(r for r in records if r.external_id == "oakland:990101")
    assert flock.agencies[0].name == "City of Oakland" and flock.extra["attachments"]
    assert all("token" not in p.meta["council"] for p in pages)


def test_paging_follows_skip_until_a_short_page(server, client, shared_fixtures):
    full = shared_fixtures / "legistar" / "oakland_events_unfiltered_first1000.json"
    if not full.exists():
        pytest.skip(f"real Legistar fixtures not available: {full} is absent")
    server.add("/v1/oakland/events", Reply(body=full.read_bytes()), Reply.json([{"EventId": 1}]))
    council = legistar._Council(client, OAKLAND, server.url("/v1/"), Query())
    pages = list(council.pages("events", {"$orderby": "EventId"}))
    assert [len(rows) for _, rows in pages] == [1000, 1]
    assert [r.query["$skip"] for r in server.requests] == ["0", "1000"]


def test_an_empty_page_ends_a_series_and_max_pages_caps_it(server, client):
    server.add("/v1/oakland/events", Reply.json([{"EventId": n} for n in range(1000)]))
    council = legistar._Council(client, OAKLAND, server.url("/v1/"), Query(max_pages=2))
    assert len(list(council.pages("events", {}))) == 2
    server.add("/v1/oakland/matters", Reply.json([]))
    council = legistar._Council(client, OAKLAND, server.url("/v1/"), Query())
    assert [rows for _, rows in council.pages("matters", {})] == [[]]


def test_a_token_goes_on_every_request_and_never_into_pages(server, client):
    server.add("/v1/nyc/matters", Reply.json([{"MatterId": 5, "MatterTitle": "Unmanned Aircraft"}]))
    server.add("/v1/nyc/matters/5/histories", Reply.json([]))
    server.add("/v1/nyc/matters/5/attachments", Reply.json([]))
    server.add("/v1/nyc/events", Reply.json([]))
    nyc = CouncilRef(client="nyc", token="secret-read-token")
    pages = list(legistar.fetch(client, query(nyc), base_url=server.url("/v1/")))
    assert len(server.requests) == 4
    assert {r.query.get("token") for r in server.requests} == {"secret-read-token"}
    text = json.dumps([(p.url, p.meta) for p in pages])
    assert "secret-read-token" not in text and "token=REDACTED" in text


def test_a_council_without_its_token_is_skipped(server, client):
    nyc = CouncilRef(client="nyc", missing_token="LEGISTAR_NYC_TOKEN")
    assert list(legistar.fetch(client, query(nyc), base_url=server.url("/v1/"))) == []
    assert server.requests == []


def test_a_council_answering_500_is_passed_over_and_all_failing_fails_the_run(
    server, client, own_fixtures
):
    serve_samples(server, own_fixtures)
    server.add("/v1/ghost/matters", Reply(status=500, body=b'{"Message":"An error has occurred."}'))
    ghost = CouncilRef(client="ghost")
    pages = list(legistar.fetch(client, query(ghost, OAKLAND), base_url=server.url("/v1/")))
    assert pages and all("/v1/oakland/" in p.url for p in pages)
    with pytest.raises(SourceUnavailable, match="every council failed: ghost: HTTP 500"):
        list(legistar.fetch(client, query(ghost), base_url=server.url("/v1/")))


def test_a_failed_detail_request_leaves_the_matter_with_what_its_row_says(server, client):
    matter = {"MatterId": 7, "MatterTitle": "Gunshot Detection"}
    server.add("/v1/oakland/matters", Reply.json([matter]))
    server.add("/v1/oakland/matters/7/attachments", Reply.json([]))
    server.add("/v1/oakland/events", Reply.json([]))
    pages = list(legistar.fetch(client, query(OAKLAND), base_url=server.url("/v1/")))
    assert pages[0].meta["histories"] == {"7": None}  # 404: no histories this time
    (record,) = legistar.parse(pages[0]).records
    assert record.extra["actions"] == [] and record.extra["outcome"] == "pending"


def test_a_matter_the_sweep_found_only_inside_other_words_costs_nothing_and_gives_no_record(
    server, client
):
    rows = [
        {"MatterId": 1, "MatterGuid": "A", "MatterTitle": "Public Hearing On The Budget"},
        {"MatterId": 2, "MatterGuid": "B", "MatterTitle": "Contract For Ring Doorbell Cameras"},
    ]
    server.add("/v1/oakland/matters", Reply.json(rows))
    server.add("/v1/oakland/events", Reply.json([]))
    for matter_id in (1, 2):
        for key in ("histories", "attachments"):
            server.add(f"/v1/oakland/matters/{matter_id}/{key}", Reply.json([]))
    pages = list(legistar.fetch(client, query(OAKLAND, keywords=("Ring",)),
                                base_url=server.url("/v1/")))
    paths = [r.path for r in server.requests]
    assert "/v1/oakland/matters/1/histories" not in paths  # "Ring" only inside "Hearing"
    assert "/v1/oakland/matters/2/histories" in paths
    records = [r for p in pages for r in legistar.parse(p).records]
    assert [r.external_id for r in records] == ["oakland:2"]
