"""MuckRock source: request pages (hand-written per FORMATS.md section 5) and paging."""

import datetime as dt
import json

import pytest

from scrapers import muckrock
from scrapers.base import (
    AgencyRef,
    Page,
    ParseError,
    Query,
    SourceNotConfigured,
    SourceUnavailable,
)
from scrapers.http import HTTPStatusError
from tests.support.server import Reply


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
    assert first.url == "https://www.muckrock.com/foi/request/61234/"
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
        "datetime_updated": "",
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


def test_links_point_to_the_request_page_whatever_the_row_says():
    """``/foi/<slug>-<id>/`` is a jurisdiction's page; ``/foi/request/<id>/`` finds the request."""
    body = json.dumps(
        {
            "results": [
                {"id": 5, "slug": "drones", "title": "t"},
                {"id": 6, "absolute_url": "javascript:alert(1)", "slug": "x y"},
                {"id": "seven", "title": "bad id"},
                {"id": 8, "agency": None},
            ]
        }
    )
    parsed = muckrock.parse(Page(url="x", body=body.encode()))
    assert [r.url for r in parsed.records] == [
        "https://www.muckrock.com/foi/request/5/",
        "https://www.muckrock.com/foi/request/6/",
        "https://www.muckrock.com/foi/request/8/",
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


TOKENS = {"access": "acc-1", "refresh": "ref-1"}
ACCOUNT = {"username": "reporter", "password": "pw"}


def _fetch(server, http_client, query):
    return muckrock.fetch(
        http_client, query, base_url=server.url("/api_v2/"), auth_url=server.url("/auth/")
    )


def test_fetch_logs_in_and_follows_next_for_each_keyword(server, http_client):
    server.add("/auth/token/", Reply.json(TOKENS))
    nxt = server.url("/api_v2/requests/?page=2&page_size=100&search=rekognition")
    server.add(
        "/api_v2/requests/",
        Reply.json({"next": nxt, "previous": None, "results": [{"id": 1}]}),
        Reply.json({"next": None, "previous": None, "results": [{"id": 2}]}),
        Reply.json({"next": None, "previous": None, "results": [{"id": 3}]}),
    )
    query = Query(keywords=("rekognition", "stingray"), **ACCOUNT)
    pages = list(_fetch(server, http_client, query))
    assert [r.external_id for p in pages for r in muckrock.parse(p).records] == ["1", "2", "3"]
    assert [p.meta["keyword"] for p in pages] == ["rekognition", "rekognition", "stingray"]
    (login,) = server.requests_to("/auth/token/")
    assert (login.method, json.loads(login.body)) == ("POST", ACCOUNT)
    listed = server.requests_to("/api_v2/requests/")
    assert [r.query for r in listed] == [
        {"search": "rekognition", "page_size": "100", "ordering": "-datetime_updated"},
        {"page": "2", "page_size": "100", "search": "rekognition"},
        {"search": "stingray", "page_size": "100", "ordering": "-datetime_updated"},
    ]
    assert {r.headers["Authorization"] for r in listed} == {"Bearer acc-1"}


def test_without_an_account_the_source_is_skipped_before_any_request(server, http_client):
    with pytest.raises(SourceNotConfigured, match="MUCKROCK_USERNAME"):
        list(_fetch(server, http_client, Query(keywords=("drone",))))
    assert server.requests == []


def test_a_refused_account_fails_with_one_line(server, http_client):
    server.add("/auth/token/", Reply.json({"detail": "No active account"}, status=401))
    with pytest.raises(SourceUnavailable, match=r"refused the account .*HTTP 401"):
        list(_fetch(server, http_client, Query(keywords=("drone",), **ACCOUNT)))
    assert server.requests_to("/api_v2/requests/") == []


@pytest.mark.parametrize("status", [401, 403])
def test_an_expired_token_is_refreshed_once_and_the_page_asked_again(server, http_client, status):
    server.add("/auth/token/", Reply.json(TOKENS))
    server.add("/auth/refresh/", Reply.json({"access": "acc-2"}))
    server.add(
        "/api_v2/requests/",
        Reply.json({"detail": "Token is invalid or expired"}, status=status),
        Reply.json({"next": None, "results": [{"id": 1}]}),
    )
    pages = list(_fetch(server, http_client, Query(keywords=("drone",), **ACCOUNT)))
    assert [r.external_id for r in muckrock.parse(pages[0]).records] == ["1"]
    (renewal,) = server.requests_to("/auth/refresh/")
    assert json.loads(renewal.body) == {"refresh": "ref-1"}
    auth = [r.headers["Authorization"] for r in server.requests_to("/api_v2/requests/")]
    assert auth == ["Bearer acc-1", "Bearer acc-2"]


def test_an_expired_refresh_token_logs_in_again(server, http_client):
    server.add("/auth/token/", Reply.json(TOKENS), Reply.json({"access": "acc-3", "refresh": "r"}))
    server.add("/auth/refresh/", Reply.json({"detail": "expired"}, status=401))
    server.add(
        "/api_v2/requests/",
        Reply.json({}, status=401),
        Reply.json({"next": None, "results": [{"id": 1}]}),
    )
    list(_fetch(server, http_client, Query(keywords=("drone",), **ACCOUNT)))
    assert len(server.requests_to("/auth/token/")) == 2
    auth = [r.headers["Authorization"] for r in server.requests_to("/api_v2/requests/")]
    assert auth == ["Bearer acc-1", "Bearer acc-3"]


def test_a_second_refusal_is_not_retried_forever(server, http_client):
    server.add("/auth/token/", Reply.json(TOKENS))
    server.add("/auth/refresh/", Reply.json({"access": "acc-2"}))
    server.add("/api_v2/requests/", Reply.json({}, status=403))
    with pytest.raises(HTTPStatusError):
        list(_fetch(server, http_client, Query(keywords=("drone",), **ACCOUNT)))
    assert len(server.requests_to("/api_v2/requests/")) == 2


def test_since_stops_a_keyword_at_the_first_page_reaching_older_requests(server, http_client):
    server.add("/auth/token/", Reply.json(TOKENS))
    page2 = server.url("/api_v2/requests/?page=2")
    page3 = server.url("/api_v2/requests/?page=3")
    server.add(
        "/api_v2/requests/",
        Reply.json({"next": page2, "results": [{"id": 1, "datetime_updated": "2026-11-20"}]}),
        Reply.json({"next": page3, "results": [{"id": 2, "datetime_updated": "2026-10-01"}]}),
        Reply.json({"next": None, "results": [{"id": 3, "datetime_updated": "2026-09-01"}]}),
    )
    query = Query(keywords=("drone",), since=dt.date(2026, 11, 1), **ACCOUNT)
    pages = list(_fetch(server, http_client, query))
    assert len(pages) == 2
    assert len(server.requests_to("/api_v2/requests/")) == 2
