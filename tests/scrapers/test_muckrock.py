"""MuckRock source: request pages (hand-written per FORMATS.md section 5) and paging."""

import datetime as dt
import json

import pytest

from scrapers import muckrock
from scrapers.base import AgencyRef, Page, ParseError, Query
from scrapers.http import HttpClient
from tests.support.server import Reply, ScriptedServer


@pytest.fixture
def mr_fixtures(own_fixtures):
    return own_fixtures / "muckrock"


def parse_file(path):
    return muckrock.parse(Page(url="file:///replay/page.json", body=path.read_bytes()))


def test_page_of_two_requests(mr_fixtures):
    parsed = parse_file(mr_fixtures / "requests_page1.json")
    assert (parsed.problems, parsed.drift) == ([], [])
    first, second = parsed.records
    assert first.source == "muckrock"
    assert first.kind == "foia"
    assert first.external_id == "61234"
    assert first.title == "Amazon Rekognition communications (ICE)"
    assert first.url == "https://www.muckrock.com/foi/amazon-rekognition-communications-ice-61234/"
    assert first.date == dt.date(2019, 2, 11)  # datetime_done
    assert first.summary == (
        "All emails, meeting notes and presentations exchanged between Immigration and Customs "
        'Enforcement and Amazon Web Services regarding the "Rekognition" face recognition '
        "service,\nfrom January 1, 2018 to the present."
    )
    assert first.text == first.summary
    assert first.agencies == [
        AgencyRef(name="MuckRock agency 4321", code="4321", code_type="muckrock", role="subject")
    ]
    assert first.extra == {
        "status": "done",
        "tracking_id": "2018-ICFO-41235",
        "price": "0.00",
        "embargo_status": "public",
        "date_due": "2018-07-31",
        "datetime_submitted": "2018-07-02T14:31:07.512381-04:00",
        "datetime_done": "2019-02-11T09:02:44.000000-05:00",
    }
    assert "\x00" not in json.dumps(first.raw)
    assert second.external_id == "70555"
    assert second.date == dt.date(2019, 5, 20)  # not done yet: datetime_submitted
    assert second.summary.startswith("Contracts, statements of work and invoices")
    assert "<p>" not in second.summary
    assert second.extra["status"] == "processed"
    assert second.extra["price"] == "25.00"


def test_single_request_with_expanded_agency_has_the_same_id(mr_fixtures):
    single = parse_file(mr_fixtures / "request_single.json").records[0]
    listed = parse_file(mr_fixtures / "requests_page1.json").records[0]
    assert single.external_id == listed.external_id == "61234"
    assert single.agencies[0].name == "Immigration and Customs Enforcement"
    assert single.agencies[0].code == "4321"


def test_absolute_url_and_missing_slug():
    body = json.dumps(
        {
            "results": [
                {
                    "id": 5,
                    "absolute_url": "/foi/united-states-of-america-10/drones-5/",
                    "title": "t",
                },
                {"id": 6, "absolute_url": "javascript:alert(1)", "slug": "x y"},
                {"id": "seven", "title": "bad id"},
                {"id": 8, "agency": None},
            ]
        }
    )
    parsed = muckrock.parse(Page(url="x", body=body.encode()))
    assert [r.url for r in parsed.records] == [
        "https://www.muckrock.com/foi/united-states-of-america-10/drones-5/",
        "https://www.muckrock.com/api_v2/requests/6/",
        "https://www.muckrock.com/api_v2/requests/8/",
    ]
    assert parsed.records[1].title == "MuckRock request 6"
    assert parsed.records[2].agencies == []
    assert parsed.problems == ["request 'seven': no usable id"]
    assert "field 'requested_docs' missing from every request" in parsed.drift


@pytest.mark.parametrize("body", [b"<!DOCTYPE html><title>Login</title>", b'"text"', b'{"a": 1}'])
def test_unusable_pages_raise_parse_error(body):
    with pytest.raises(ParseError):
        muckrock.parse(Page(url="x", body=body))


# --- fetch -------------------------------------------------------------------------------


@pytest.fixture
def server():
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def client(server):
    options = {"min_interval": 0, "backoff_base": 0.01, "sleep": lambda s: None}
    with HttpClient(trusted_hosts=[server.host], **options) as made:
        yield made


def test_fetch_follows_next_for_each_keyword(server, client):
    nxt = server.url("/api_v2/requests/?page=2&page_size=100&search=rekognition")
    server.add(
        "/api_v2/requests/",
        Reply.json({"next": nxt, "previous": None, "results": [{"id": 1}]}),
        Reply.json({"next": None, "previous": None, "results": [{"id": 2}]}),
        Reply.json({"next": None, "previous": None, "results": [{"id": 3}]}),
    )
    query = Query(keywords=("rekognition", "stingray"))
    pages = list(muckrock.fetch(client, query, base_url=server.url("/api_v2/")))
    assert [r.external_id for p in pages for r in muckrock.parse(p).records] == ["1", "2", "3"]
    assert [p.meta["keyword"] for p in pages] == ["rekognition", "rekognition", "stingray"]
    queries = [r.query for r in server.requests_to("/api_v2/requests/")]
    assert queries == [
        {"search": "rekognition", "page_size": "100"},
        {"page": "2", "page_size": "100", "search": "rekognition"},
        {"search": "stingray", "page_size": "100"},
    ]
