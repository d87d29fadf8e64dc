"""DocumentCloud source: search, list and single-document pages field by field; cursor paging."""

import datetime as dt
import json

import pytest

from scrapers import documentcloud
from scrapers.base import Page, ParseError, Query
from scrapers.http import HTTPStatusError
from tests.support.server import Reply


def parse_file(path):
    return documentcloud.parse(Page(url="file:///replay/page.json", body=path.read_bytes()))


@pytest.fixture
def dc_samples(shared_fixtures):
    return shared_fixtures / "documentcloud"


def test_single_document_2622(dc_samples):
    parsed = parse_file(dc_samples / "document_2622.json")
    assert (len(parsed.records), parsed.problems, parsed.drift) == (1, [], [])
    record = parsed.records[0]
    assert record.source == "documentcloud"
    assert record.kind == "foia"
    assert record.external_id == "2622"
    assert record.title == (
        "Agreement between Conservatives and Liberal Democrats to form a Coalition Government"
    )
    assert record.url == (
        "https://www.documentcloud.org/documents/2622-agreement-between-conservatives-and-"
        "liberal-democrats-to-form-a-coalition-government"
    )
    assert record.date == dt.date(2010, 5, 12)
    assert record.summary.startswith("This agreement between Conservatives and Liberal Democrats")
    assert "<p>" not in record.summary
    assert "\n\nHere, the NewsHour's Simon Marks reads between the lines" in record.summary
    assert record.text == record.summary
    assert record.extra == {
        "source": "",
        "organization": "60",
        "organization_name": "",
        "related_article": "http://www.pbs.org/newshour/rundown/2010/05/the-conservative-"
        "libdem-agreement-reading-between-the-lines.html",
        "published_url": "",
        "page_count": 7,
        "language": "eng",
        "access": "public",
        "highlights": "",
        "slug": "agreement-between-conservatives-and-liberal-democrats-to-form-a-coalition-"
        "government",
    }
    assert record.raw["id"] == 2622
    json.dumps(record.raw)


def test_list_page_has_integer_ids_and_matches_the_single_document(dc_samples):
    listed = parse_file(dc_samples / "documents_list.json")
    assert (len(listed.records), listed.problems) == (23, [])
    assert listed.records[0].external_id == "1599"
    assert listed.records[0].extra["source"] == "Washington Post"
    # A trailing space in the source's related_article is trimmed.
    assert (
        listed.records[0]
        .extra["related_article"]
        .endswith("looking-back-stevens-supreme-court.html")
    )
    alone = parse_file(dc_samples / "document_2622.json").records[0]
    in_list = next(r for r in listed.records if r.external_id == "2622")
    assert (in_list.title, in_list.url, in_list.date) == (alone.title, alone.url, alone.date)


def test_search_page_string_ids_are_normalised(dc_samples):
    parsed = parse_file(dc_samples / "documents_search_q-boston_hl.json")
    assert (len(parsed.records), parsed.problems, parsed.drift) == (25, [], [])
    assert [r.external_id for r in parsed.records[:3]] == ["1501881", "2287364", "23066715"]
    first = parsed.records[0]
    assert first.title == "Mayor Walsh State of the City 2015 as Prepared"
    assert first.date == dt.date(2015, 1, 13)
    assert first.extra["organization"] == "13"
    assert first.extra["page_count"] == 9
    highlights = first.extra["highlights"]
    assert highlights.startswith("To all the people of Boston and our region")
    assert "<em>" not in highlights
    assert highlights.index("400th birthday") < highlights.index("Beacon Street")  # page order
    assert first.text == highlights  # no description in search results
    third = parsed.records[2]
    assert third.extra["source"] == "CIA CREST Database"


def test_own_search_page(own_fixtures):
    parsed = parse_file(own_fixtures / "documentcloud" / "search_rekognition.json")
    assert parsed.problems == ["document 'True': no usable id", "result 4: not an object (str)"]
    first, second = parsed.records
    assert first.external_id == "5032143"
    assert first.title == "ICE \u2013 Amazon Web Services Rekognition emails"
    assert first.date == dt.date(2018, 10, 24)  # publish_at wins over created_at
    assert (
        first.summary
        == "Emails in which Amazon Web Services offered its Rekognition service to ICE."
    )
    assert first.extra["organization"] == "125"
    assert first.extra["organization_name"] == "Project On Government Oversight"
    assert first.extra["published_url"] == ""  # javascript: dropped
    assert (
        first.extra["highlights"]
        == "the Rekognition pilot could support ICE\n\na demo for HSI leadership"
    )
    assert first.text == first.summary + "\n\n" + first.extra["highlights"]
    assert "alert" not in first.text
    assert second.external_id == "5032150"
    assert second.date == dt.date(2019, 3, 4)


def test_missing_canonical_url_is_rebuilt_and_drift_reported():
    body = json.dumps({"results": [{"id": 7, "slug": "lpr-memo", "name": "renamed title"}]})
    parsed = documentcloud.parse(Page(url="x", body=body.encode()))
    assert parsed.records[0].url == "https://www.documentcloud.org/documents/7-lpr-memo"
    assert parsed.records[0].title == "DocumentCloud document 7"
    assert parsed.drift == [
        "field 'title' missing from every document",
        "field 'canonical_url' missing from every document",
        "field 'created_at' missing from every document",
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"[1, 2]",
        b'{"detail": "Not found."}',
        b"{",
        b"NaN",
    ],
)
def test_unusable_pages_raise_parse_error(body):
    with pytest.raises(ParseError):
        documentcloud.parse(Page(url="x", body=body))


def test_nul_bytes_are_removed_from_fields_and_raw():
    body = json.dumps({"id": 9, "title": "ICE\u0000 memo", "description": "a\u0000b"}).encode()
    record = documentcloud.parse(Page(url="x", body=body)).records[0]
    assert (record.title, record.summary, record.raw["title"]) == ("ICE memo", "ab", "ICE memo")


# --- fetch -------------------------------------------------------------------------------


def page_json(next_url, *ids):
    return Reply.json(
        {"count": 3, "next": next_url, "previous": None, "results": [{"id": str(i)} for i in ids]}
    )


def recorded_page(own_fixtures, name, server):
    """Return an own search fixture as a reply, its ``next`` link moved to the local server."""
    payload = json.loads((own_fixtures / "documentcloud" / name).read_text("utf-8"))
    if payload["next"]:
        payload["next"] = payload["next"].replace(
            "https://api.www.documentcloud.org/", server.url("/")
        )
    return Reply.json(payload)


def test_a_phrase_in_a_window_is_searched_quoted_25_a_page_and_the_cursor_followed(
    server, http_client, own_fixtures
):
    server.add(
        "/api/documents/search/",
        recorded_page(own_fixtures, "search_face_recognition_1.json", server),
        recorded_page(own_fixtures, "search_face_recognition_2.json", server),
    )
    query = Query(
        keywords=("face  recognition",), since=dt.date(2019, 1, 1), until=dt.date(2019, 12, 31)
    )
    pages = list(documentcloud.fetch(http_client, query, base_url=server.url("/api/")))
    first, second = server.requests_to("/api/documents/search/")
    window = "[2019-01-01T00:00:00Z TO 2020-01-01T00:00:00Z]"
    assert first.query == {
        "q": '"face recognition"',
        "per_page": "25",
        "version": "2.0",
        "hl": "true",
        "created_at": window,
    }
    # The cursor page is asked for exactly as the service's next link says.
    assert second.query == {**first.query, "cursor": "AoJwgKGrmokDPyc3MjExNDUwJw=="}
    records = [r for page in pages for r in documentcloud.parse(page).records]
    assert [r.external_id for r in records] == ["7211450", "7211873", "7302219"]
    assert [page.meta for page in pages] == [{"keyword": "face  recognition"}] * 2


@pytest.mark.parametrize(
    ("keyword", "q"),
    [
        ("drone", '"drone"'),
        ('the "Stingray" device', '"the \\"Stingray\\" device"'),
        ("C:\\ AND -NOT", '"C:\\\\ AND -NOT"'),
    ],
)
def test_keywords_are_sent_as_one_escaped_phrase(keyword, q):
    assert documentcloud.solr_query(keyword) == q


def test_open_ended_windows_and_no_window():
    assert documentcloud.created_at_range(dt.date(2024, 2, 29), None) == (
        "[2024-02-29T00:00:00Z TO *]"
    )
    assert documentcloud.created_at_range(None, dt.date(2024, 2, 29)) == (
        "[* TO 2024-03-01T00:00:00Z]"
    )
    assert "created_at" not in documentcloud.search_params("drone", Query())


def test_a_400_at_the_page_limit_ends_the_keyword_keeps_its_pages_and_the_next_runs(
    server, http_client, caplog
):
    search = server.url("/api/documents/search/")
    over_limit = {
        "error": "The selected `page` value of 101 is over the limit of 100",
        "code": "max_page",
    }
    server.add(
        "/api/documents/search/",
        page_json(f"{search}?q=%22drone%22&page=2", 1),
        page_json(f"{search}?q=%22drone%22&page=3", 2),
        Reply.json(over_limit, status=400),
        page_json(None, 3),
    )
    query = Query(keywords=("drone", "license plate reader"))
    pages = list(documentcloud.fetch(http_client, query, base_url=server.url("/api/")))
    records = [r for page in pages for r in documentcloud.parse(page).records]
    assert [r.external_id for r in records] == ["1", "2", "3"]
    asked = [r.query.get("q") for r in server.requests_to("/api/documents/search/")]
    assert asked == ['"drone"', '"drone"', '"drone"', '"license plate reader"']
    stops = [r for r in caplog.records if r.name == "scrapers.documentcloud"]
    assert len(stops) == 1
    assert "'drone' stopped after 2 page(s)" in stops[0].getMessage()


def test_other_refusals_still_fail_the_run(server, http_client):
    server.add("/api/documents/search/", Reply.json({"detail": "Forbidden"}, status=403))
    api = server.url("/api/")
    with pytest.raises(HTTPStatusError):
        list(documentcloud.fetch(http_client, Query(keywords=("a", "b")), base_url=api))
    assert len(server.requests_to("/api/documents/search/")) == 1


def test_fetch_does_not_follow_next_to_another_host_or_in_a_loop(server, http_client):
    server.add("/api/documents/search/", page_json("https://evil.example.com/api/?cursor=x", 1))
    api = server.url("/api/")
    pages = list(documentcloud.fetch(http_client, Query(keywords=("a",)), base_url=api))
    assert len(pages) == 1
    server.add("/api/loop/", page_json(server.url("/api/loop/"), 1))
    loop_url = server.url("/api/loop/")
    loop = list(documentcloud.follow_next(http_client, loop_url, None, max_pages=None))
    assert len(loop) == 1


def test_fetch_respects_max_pages_and_stops_on_bad_json(server, http_client):
    search = server.url("/api/documents/search/")
    server.add(
        "/api/documents/search/", *(page_json(f"{search}?cursor={n}", n) for n in range(1, 6))
    )
    pages = list(
        documentcloud.fetch(
            http_client, Query(keywords=("a",), max_pages=3), base_url=server.url("/api/")
        )
    )
    assert len(pages) == 3
    server.add("/api/bad/", Reply(body=b"<html>maintenance</html>"))
    bad_url = server.url("/api/bad/")
    assert (
        len(list(documentcloud.follow_next(http_client, bad_url, None, max_pages=None)))
        == 1
    )
