"""SAM.gov Get Opportunities: parsing real and hand-written pages, and fetching over loopback."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapers import sam
from scrapers.base import (
    Page,
    ParseError,
    Query,
    SourceUnavailable,
    replay_pages,
)
from scrapers.http import HttpClient
from tests.support.quota import Allowance
from tests.support.server import Reply, ScriptedServer

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "fixtures" / "samgov"
OWN = REPO / "tests" / "fixtures" / "sam"
SEARCH_PATH = "/opportunities/v2/search"
DESC_PATH = "/prod/opportunities/v1/noticedesc"
ICE_NOTICE = "3f1c9a7be2d84c0f9a51c6e8d2b7a410"
AWS_NOTICE = "a07d55e1c93b4f6c8f2e0b4d6c1e9f32"
CBP_NOTICE = "c4e2b8d6f0a14e3c9b7d5f1a3e8c6b20"


def shared_sample() -> bytes:
    path = SHARED / "opportunities_v2_search_2026-02-02_limit10.json"
    if not path.exists():
        pytest.skip(f"real SAM.gov sample not available at {path} (shared fixtures absent)")
    return path.read_bytes()


def own_search() -> bytes:
    return (OWN / "search_face_recognition.json").read_bytes()


def chain(agency):
    """Return the (name, code, code_type) path from the top of an agency chain down."""
    levels = []
    while agency is not None:
        levels.append((agency.name, agency.code, agency.code_type))
        agency = agency.parent
    return levels[::-1]


# ---------------------------------------------------------------- parse: real sample


def test_real_sample_gives_ten_notices_without_problems():
    parsed = sam.parse(
        Page(url="https://api.sam.gov/opportunities/v2/search", body=shared_sample())
    )
    assert parsed.problems == []
    assert parsed.drift == []
    assert len(parsed.records) == 10
    assert parsed.records[0].external_id == "ff9642d70c15414a85940230450bda32"
    assert {r.kind for r in parsed.records} == {"solicitation"}
    assert {r.date for r in parsed.records} == {dt.date(2026, 2, 2)}


def test_real_sample_first_notice_fields():
    record = sam.parse(Page(url="x", body=shared_sample())).records[0]
    assert record.source == "sam"
    assert record.title == "MIL-PRF-24282A, Light, Signal, Multipurpose, Kit, Nonmagnetic"
    assert record.url == "https://sam.gov/opp/ff9642d70c15414a85940230450bda32/view"
    assert record.summary == ""
    assert record.amount is None
    assert record.vendors == []
    assert record.codes == {"naics": "335139", "psc": "5850"}
    assert record.extra["notice_type"] == "Special Notice"
    assert record.extra["solicitation_number"] == "N0002426SN-20"
    assert record.extra["response_deadline"] == "2026-03-02T16:00:00-05:00"
    assert record.extra["active"] is True
    assert record.extra["place_of_performance"] == {}
    assert record.extra["resource_links"] == []
    assert record.extra["description_url"] == (
        "https://api.sam.gov/prod/opportunities/v1/noticedesc?noticeid=ff9642d70c15414a85940230450bda32"
    )
    assert "award" not in record.extra
    assert record.raw["noticeId"] == record.external_id
    json.dumps(record.raw)


def test_real_sample_agency_path_is_split_into_a_parent_chain():
    records = {r.external_id: r for r in sam.parse(Page(url="x", body=shared_sample())).records}
    navsea = records["ff9642d70c15414a85940230450bda32"].agencies
    assert len(navsea) == 1
    assert chain(navsea[0]) == [
        ("DEPT OF DEFENSE", "017", "toptier"),
        ("DEPT OF THE NAVY", "1700", "subtier"),
        ("NAVSEA", "NAVSEA", ""),
        ("NAVSEA HQ", "NAVSEA HQ", "office"),
    ]
    gsa = records["fd05ce5247fb4bc1b86e1ce4691bb74b"].agencies[0]
    assert gsa.name == "PBS PROJECT DELIVERY WEST - BRANCH A"
    assert (gsa.role, gsa.level, gsa.state, gsa.place) == ("buyer", "federal", "DC", "Washington")
    assert gsa.parent.parent.name == "GENERAL SERVICES ADMINISTRATION"
    assert gsa.parent.parent.parent is None
    assert {gsa.parent.role, gsa.parent.level} == {"buyer", "federal"}


def test_real_sample_award_notice_tolerates_country_ga():
    records = {r.external_id: r for r in sam.parse(Page(url="x", body=shared_sample())).records}
    award = records["f90fba9ebf6243ed8290c4ed4603c182"]
    assert award.kind == "solicitation"
    assert award.extra["notice_type"] == "Award Notice"
    assert award.amount == Decimal("5000000.00")
    assert isinstance(award.amount, Decimal)
    [vendor] = award.vendors
    assert (vendor.name, vendor.uei, vendor.cage, vendor.role) == (
        "CANCER CAREPOINT ASSOCIATES, LLC",
        "LPZ2UE7MLNL5",
        "135X2",
        "awardee",
    )
    assert award.extra["award"] == {
        "date": "2026-01-29",
        "number": "36F79726D0065",
        "amount": "5000000.00",
        "awardee": "CANCER CAREPOINT ASSOCIATES, LLC",
        "awardee_location": {"city": "ATLANTA", "state": "GA", "country": "GA", "zip": "30329"},
    }
    assert award.extra["response_deadline"] == ""
    # Every place-of-performance part is empty text in this record.
    assert award.extra["place_of_performance"] == {}


def test_real_sample_place_of_performance_and_set_aside():
    records = {r.external_id: r for r in sam.parse(Page(url="x", body=shared_sample())).records}
    korea = records["fc82b63eeaa740d582bb8f72e06cd4f2"]
    assert korea.extra["place_of_performance"] == {
        "city": "Chinhae",
        "city_code": "Chinhae",
        "state": "Gyeongnam",
        "state_code": "KR-48",
        "country": "KOREA, SOUTH",
        "country_code": "KOR",
    }
    assert len(korea.extra["resource_links"]) == 5
    assert len(chain(korea.agencies[0])) == 6
    gsa = records["fd05ce5247fb4bc1b86e1ce4691bb74b"]
    assert gsa.extra["set_aside"] == "SBA"
    assert gsa.extra["set_aside_description"] == "Total Small Business Set-Aside (FAR 19.5)"
    assert records["fa01b8393b144750b2dddb5288592ec3"].extra["base_type"] == "Presolicitation"


# ---------------------------------------------------------------- parse: own fixtures


def test_own_sources_sought_for_face_recognition_at_ice():
    parsed = sam.parse(Page(url="x", body=own_search()))
    record = parsed.records[0]
    assert record.external_id == ICE_NOTICE
    assert record.title == (
        "Sources Sought: Facial Recognition Services for Enforcement and Removal Operations"
    )
    assert record.extra["notice_type"] == "Sources Sought"
    assert record.date == dt.date(2025, 3, 4)
    assert record.codes == {"naics": "541511", "psc": "DA01"}
    assert record.extra["naics_codes"] == ["541511", "518210"]
    assert chain(record.agencies[0]) == [
        ("HOMELAND SECURITY, DEPARTMENT OF", "070", "toptier"),
        ("US IMMIGRATION AND CUSTOMS ENFORCEMENT", "7012", "subtier"),
        ("DETENTION COMPLIANCE AND REMOVALS", "70CDCR", "office"),
    ]
    assert record.agencies[0].role == "buyer"
    assert record.vendors == []
    assert record.amount is None


def test_own_award_notice_to_amazon_web_services():
    record = sam.parse(Page(url="x", body=own_search())).records[1]
    assert record.external_id == AWS_NOTICE
    assert record.amount == Decimal("1250000.00")  # sent as "1,250,000.00"
    [vendor] = record.vendors
    assert (vendor.name, vendor.uei, vendor.cage, vendor.role) == (
        "AMAZON WEB SERVICES, INC.",
        "QWKYKZ3N5BD7",
        "66XK3",
        "awardee",
    )
    assert record.extra["award"]["number"] == "70CMSD25C00000009"
    assert record.extra["award"]["awardee_location"]["country"] == "WA"
    assert record.extra["place_of_performance"] == {}
    # The stray space SAM sometimes leaves inside the description URL is removed.
    assert record.extra["description_url"] == (
        f"https://api.sam.gov/prod/opportunities/v1/noticedesc?noticeid={AWS_NOTICE}"
    )
    assert record.agencies[0].name == "ICE-OAQ-MISSION SUPPORT DALLAS"


def test_own_messy_notices_nul_v1_date_and_missing_id():
    parsed = sam.parse(Page(url="x", body=own_search()))
    assert [r.external_id for r in parsed.records] == [ICE_NOTICE, AWS_NOTICE, CBP_NOTICE]
    assert parsed.problems == ["notice #3: missing or malformed noticeId"]
    assert "notice field 'noticeId' missing in 1 of 4" in parsed.drift
    cbp = parsed.records[2]
    assert cbp.title == "Mobile License Plate Reader Systems for Border Patrol Checkpoints"
    assert "\x00" not in json.dumps(cbp.raw)
    assert cbp.date == dt.date(2025, 3, 6)  # "2025-03-06 14:02:11+00"
    assert cbp.extra["description_url"] == ""  # "Description not found" is not a URL
    assert cbp.extra["active"] is False
    assert chain(cbp.agencies[0]) == [
        ("HOMELAND SECURITY, DEPARTMENT OF", "070", "toptier"),
        ("US CUSTOMS AND BORDER PROTECTION", "7014", "subtier"),
    ]
    assert cbp.agencies[0].state == ""  # officeAddress is null


def test_description_page_parses_to_a_partial_record_via_replay():
    [page] = replay_pages([OWN / "description_face_recognition.json"])
    assert page.meta == {"kind": "description", "notice_id": ICE_NOTICE}
    parsed = sam.parse(page)
    [record] = parsed.records
    assert record.external_id == ICE_NOTICE
    assert record.extra == {"partial": True}
    assert record.title == ""
    assert record.date is None
    assert record.summary.startswith(
        "SOURCES SOUGHT \u2013 U.S. Immigration and Customs Enforcement"
    )
    assert "Mobile capture for field officers & supervisors" in record.summary
    assert "<" not in record.summary
    assert "\x00" not in record.summary
    assert "alert" not in record.summary


def test_description_as_bare_html_takes_the_notice_id_from_the_url():
    page = Page(
        url=f"https://api.sam.gov/prod/opportunities/v1/noticedesc?noticeid={AWS_NOTICE}",
        body=b"<html><body><p>Award to Amazon Web Services for face matching.</p></body></html>",
    )
    [record] = sam.parse(page).records
    assert record.external_id == AWS_NOTICE
    assert record.summary == "Award to Amazon Web Services for face matching."


@pytest.mark.parametrize(
    "body", [b'{"description": "Description not found"}', b'{"description": null}']
)
def test_description_not_found_gives_nothing(body):
    page = Page(url="x", body=body, meta={"notice_id": "abc"})
    assert sam.parse(page).records == []


def test_description_without_a_notice_id_is_a_parse_error():
    with pytest.raises(ParseError, match="notice id"):
        sam.parse(Page(url="file:///tmp/1.json", body=b'{"description": "<p>text</p>"}'))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html><body>Service Unavailable</body></html>", "not JSON"),
        (b'{"totalRecords": NaN, "opportunitiesData": []}', "non-standard"),
        (b'{"error": "API_KEY_INVALID"}', "neither"),
        (b'{"opportunitiesData": {"noticeId": "x"}}', "not a list"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"opportunitiesData": [', "invalid JSON"),
    ],
)
def test_hostile_search_pages_raise_parse_error(body, reason):
    with pytest.raises(ParseError, match=reason):
        sam.parse(Page(url="https://api.sam.gov/opportunities/v2/search", body=body))


def test_wrong_types_inside_a_notice_do_not_crash():
    notices = [
        "not an object",
        {
            "noticeId": "abc123",
            "title": ["list", "title"],
            "postedDate": "02/02/2026",
            "fullParentPathName": 7,
            "award": {"amount": "NaN", "awardee": "AWS"},
            "type": "Award Notice",
            "placeOfPerformance": "DC",
            "resourceLinks": "https://x",
            "naicsCodes": None,
        },
    ]
    body = json.dumps({"totalRecords": 2, "opportunitiesData": notices}).encode()
    parsed = sam.parse(Page(url="x", body=body))
    assert parsed.problems == ["notice #0: not an object"]
    [record] = parsed.records
    assert record.title == "SAM notice abc123"
    assert record.date is None
    assert record.amount is None
    assert record.agencies == []
    assert record.vendors == []
    assert record.extra["resource_links"] == []


def test_dotted_agency_name_keeps_only_the_department_code():
    notice = {
        "noticeId": "abc",
        "title": "t",
        "fullParentPathName": "JUSTICE, DEPARTMENT OF.U.S. MARSHALS SERVICE",
        "fullParentPathCode": "015.1544",
    }
    body = json.dumps({"totalRecords": 1, "opportunitiesData": [notice]}).encode()
    [record] = sam.parse(Page(url="x", body=body)).records
    levels = chain(record.agencies[0])
    assert levels[0] == ("JUSTICE, DEPARTMENT OF", "015", "toptier")
    assert all(code == "" for _, code, _ in levels[1:])


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "noticeId",
                    "title",
                    "award",
                    "amount",
                    "awardee",
                    "name",
                    "fullParentPathName",
                    "postedDate",
                    "placeOfPerformance",
                    "description",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(JSON_VALUES, max_size=4))
def test_any_json_shape_parses_or_raises_parse_error(rows):
    body = json.dumps(
        {"opportunitiesData": rows, "totalRecords": 9, "count": 9, "next": None}
    ).encode()
    try:
        parsed = sam.parse(Page(url="x", body=body))
    except ParseError:
        return
    for record in parsed.records:
        json.dumps(record.raw)
        assert "\x00" not in record.title + record.summary


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_parse_error(body):
    with contextlib.suppress(ParseError):
        sam.parse(Page(url="https://example.test/?noticeid=abc", body=body))


# ---------------------------------------------------------------- local filter


def test_filter_matches_whole_words_any_case_and_simple_plurals():
    f = sam.NoticeFilter(keywords=("license plate reader", "drone", "AI"))
    assert f.matches({"title": "Mobile LICENSE PLATE READERS for checkpoints"}) == [
        "keyword:license plate reader"
    ]
    assert f.matches({"title": "Counter-drones and drone kits"}) == ["keyword:drone"]
    assert f.matches({"title": "Maintenance of dronewood flooring"}) == []
    assert f.matches({"title": "Training on AI tools"}) == ["keyword:AI"]
    assert f.matches({"title": "Repair of air handlers"}) == []


def test_filter_matches_psc_naics_prefixes_and_agency_names():
    f = sam.NoticeFilter(psc=("58",), naics=("5415",), agencies=("Customs and Border Protection",))
    row = {
        "title": "Radios",
        "classificationCode": "5820",
        "naicsCode": "334220",
        "naicsCodes": ["541512"],
        "fullParentPathName": "HOMELAND SECURITY, DEPARTMENT OF.US CUSTOMS AND BORDER PROTECTION",
    }
    assert f.matches(row) == ["psc:58", "naics:5415", "agency:Customs and Border Protection"]
    assert f.matches({"title": "Radios", "classificationCode": "6350"}) == []


def test_agency_names_match_whatever_the_punctuation():
    f = sam.NoticeFilter(agencies=("U.S. Immigration and Customs Enforcement", "ICE"))
    row = {
        "fullParentPathName": "HOMELAND SECURITY, DEPARTMENT OF.US IMMIGRATION AND CUSTOMS "
        "ENFORCEMENT.ICE-OAQ-MISSION SUPPORT DALLAS"
    }
    assert f.matches(row) == [
        "agency:U.S. Immigration and Customs Enforcement",
        "agency:ICE",
    ]
    assert f.matches({"fullParentPathName": "OFFICE OF JUSTICE PROGRAMS.SERVICE CENTER"}) == []
    marshals = sam.NoticeFilter(agencies=("U.S. Marshals Service",))
    assert marshals.matches({"fullParentPathName": "JUSTICE, DEPARTMENT OF.U.S. MARSHALS SERVICE"})
    assert marshals.matches({"fullParentPathName": "JUSTICE, DEPARTMENT OF.US MARSHALS SERVICE"})


def test_filter_from_query_keeps_only_code_shaped_psc_and_naics_values():
    f = sam.NoticeFilter.from_query(
        Query(psc_codes=("1550", "unmanned aircraft", "d3"), naics_codes=("541512", "x1"))
    )
    assert (f.psc, f.naics) == (("1550", "D3"), ("541512",))
    assert sam.NoticeFilter().matches({"title": "anything"}) == ["all"]


def test_parse_keeps_only_the_notices_the_page_filter_matches():
    match = sam.NoticeFilter(keywords=("license plate reader",), psc=("DA",)).as_meta()
    page = Page(url="x", body=own_search(), meta={"kind": "search", "match": match})
    parsed = sam.parse(page)
    assert {r.external_id: r.extra["matched"] for r in parsed.records} == {
        ICE_NOTICE: ["psc:DA"],
        CBP_NOTICE: ["keyword:license plate reader"],
    }
    # The row without a noticeId matches nothing, so it is not a problem here.
    assert parsed.problems == []


def test_filter_covers_terms_beyond_the_first_ten():
    """The old run searched the first 10 keywords only; the filter applies every term."""
    keywords = (*(f"unrelated term {n}" for n in range(40)), "license plate reader")
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply(body=own_search(), headers=JSON))
        pages, _ = run(server, query(keywords=keywords, max_requests=10))
        assert len(server.requests) == 1
    assert [r.external_id for r in sam.parse(pages[0]).records] == [CBP_NOTICE]


# ---------------------------------------------------------------- fetch

JSON = {"Content-Type": "application/json"}


def search_body(*notice_ids: str, total: int | None = None, desc_base: str = "") -> dict:
    rows = [
        {
            "noticeId": n,
            "title": f"Notice {n}",
            "postedDate": "2025-03-04",
            "description": f"{desc_base}{DESC_PATH}?noticeid={n}" if desc_base else None,
        }
        for n in notice_ids
    ]
    return {
        "totalRecords": len(rows) if total is None else total,
        "limit": 1000,
        "offset": 0,
        "opportunitiesData": rows,
    }


def full_page(first: int, total: int = 5000) -> dict:
    """A full page of 1000 notices numbered from ``first``."""
    return search_body(*(f"n{i}" for i in range(first, first + sam.PAGE_LIMIT)), total=total)


def make_client(
    server: ScriptedServer, sleeps: list[float] | None = None, quota: Allowance | None = None
) -> HttpClient:
    record = sleeps.append if sleeps is not None else (lambda s: None)
    return HttpClient(
        trusted_hosts=[server.host], min_interval=0, backoff_base=0.01, sleep=record, quota=quota
    )


def query(**kwargs) -> Query:
    kwargs.setdefault("api_key", "k3y")
    kwargs.setdefault("since", dt.date(2025, 3, 1))
    kwargs.setdefault("until", dt.date(2025, 3, 7))
    return Query(**kwargs)


def run(server: ScriptedServer, q: Query, client=None, **kwargs):
    client = client or make_client(server)
    pages = list(sam.fetch(client, q, base_url=server.url(SEARCH_PATH), **kwargs))
    return pages, client


def test_fetch_without_key_raises_one_clear_line():
    with ScriptedServer() as server:
        with pytest.raises(SourceUnavailable) as info:
            run(server, query(api_key=""))
        assert server.requests == []
    assert str(info.value) == (
        "SAM_API_KEY is not set: the sam source needs a free API key from SAM.gov"
    )


def test_one_unfiltered_search_carries_the_filter_and_hides_the_key():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(search_body()))
        q = query(
            keywords=("face recognition",),
            psc_codes=("DA01",),
            naics_codes=("541511",),
            agency_names=("Immigration and Customs Enforcement",),
        )
        pages, _ = run(server, q)
        [sent] = [r.query for r in server.requests]
    assert sent == {
        "postedFrom": "03/01/2025",
        "postedTo": "03/07/2025",
        "ptype": "p,o,k,r,s,a",
        "limit": "1000",
        "offset": "0",
        "api_key": "k3y",
    }
    [page] = pages
    assert page.meta == {
        "kind": "search",
        "match": {
            "keywords": ["face recognition"],
            "psc": ["DA01"],
            "naics": ["541511"],
            "agencies": ["Immigration and Customs Enforcement"],
        },
    }
    assert "k3y" not in page.url and "api_key" not in page.url


def test_fetch_defaults_to_the_last_30_days_ending_today():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(search_body()))
        run(server, Query(api_key="k"), today=dt.date(2025, 6, 30))
        [request] = server.requests
    assert (request.query["postedFrom"], request.query["postedTo"]) == ("05/31/2025", "06/30/2025")


def test_a_26_month_range_is_cut_into_three_windows():
    assert sam.posting_windows(dt.date(2023, 1, 15), dt.date(2025, 3, 20)) == [
        (dt.date(2023, 1, 15), dt.date(2024, 1, 14)),
        (dt.date(2024, 1, 15), dt.date(2025, 1, 14)),
        (dt.date(2025, 1, 15), dt.date(2025, 3, 20)),
    ]
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(search_body()))
        run(server, query(since=dt.date(2023, 1, 15), until=dt.date(2025, 3, 20)))
        windows = [(r.query["postedFrom"], r.query["postedTo"]) for r in server.requests]
    assert windows == [
        ("01/15/2023", "01/14/2024"),
        ("01/15/2024", "01/14/2025"),
        ("01/15/2025", "03/20/2025"),
    ]


def test_leap_day_window_ends_the_day_before_the_anniversary():
    assert sam.posting_windows(dt.date(2024, 2, 29), dt.date(2025, 6, 1))[0] == (
        dt.date(2024, 2, 29),
        dt.date(2025, 2, 27),
    )


def test_a_404_window_is_skipped_not_an_error():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply(status=404), Reply.json(search_body("n1")))
        pages, _ = run(server, query(since=dt.date(2023, 6, 1), until=dt.date(2024, 12, 31)))
        froms = [r.query["postedFrom"] for r in server.requests]
    assert froms == ["06/01/2023", "06/01/2024"]
    assert len(pages) == 1
    assert [r.external_id for r in sam.parse(pages[0]).records] == ["n1"]


def test_an_empty_object_ends_the_window_cleanly():
    """A planning client answers every request with {}: one request per window, no crash."""
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json({}))
        pages, _ = run(server, query(since=dt.date(2023, 6, 1), until=dt.date(2024, 12, 31)))
        assert len(server.requests) == 2
    assert len(pages) == 2


def test_429_with_retry_after_then_success():
    sleeps: list[float] = []
    with ScriptedServer() as server:
        server.add(
            SEARCH_PATH,
            Reply(status=429, headers={"Retry-After": "7"}),
            Reply.json(search_body("n1")),
        )
        pages, client = run(server, query(), client=make_client(server, sleeps))
        assert len(server.requests) == 2
    assert 7 in sleeps
    assert client.requests_made == 2
    assert [r.external_id for r in sam.parse(pages[0]).records] == ["n1"]


def test_offset_is_a_page_index_and_paging_stops_at_total_records():
    with ScriptedServer() as server:
        server.add(
            SEARCH_PATH,
            Reply.json(full_page(0, total=2500)),
            Reply.json(full_page(1000, total=2500)),
            Reply.json(search_body(*(f"n{i}" for i in range(2000, 2500)), total=2500)),
        )
        pages, _ = run(server, query())
        assert [r.query["offset"] for r in server.requests] == ["0", "1", "2"]
    assert len(pages) == 3


def test_paging_switches_to_record_offsets_when_the_page_index_repeats_rows(caplog):
    with ScriptedServer() as server:
        server.add(
            SEARCH_PATH,
            Reply.json(full_page(0, total=2001)),
            Reply.json(full_page(1, total=2001)),  # offset=1 read as a record offset
            Reply.json(full_page(1001, total=2001)),
        )
        with caplog.at_level(logging.INFO, logger="scrapers.sam"):
            run(server, query())
        assert [r.query["offset"] for r in server.requests] == ["0", "1", "1001"]
    assert "offset counts records" in caplog.text


def test_paging_stops_when_a_page_adds_nothing_new():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(full_page(0)))  # offset ignored: the same page
        run(server, query())
        assert len(server.requests) == 2


def test_max_requests_stops_cleanly_after_n_requests(caplog):
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(full_page(0)), Reply.json(full_page(1000)))
        with caplog.at_level(logging.WARNING, logger="scrapers.sam"):
            pages, client = run(server, query(max_requests=2))
    assert client.requests_made == 2
    assert len(pages) == 2
    assert "request quota" in caplog.text


def test_quota_exhausted_mid_run_keeps_the_pages_fetched(caplog):
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(full_page(0)), Reply.json(full_page(1000)))
        client = make_client(server, quota=Allowance(2))
        # quota_left says 2, but another worker spends one meanwhile: the client refuses.
        client.quota_left = lambda: 2  # type: ignore[method-assign]
        with caplog.at_level(logging.WARNING, logger="scrapers.sam"):
            pages, _ = run(server, query(), client=client)
        assert len(server.requests) == 2
    assert len(pages) == 2
    assert "shared daily quota is spent" in caplog.text
    assert len(sam.parse(pages[1]).records) == sam.PAGE_LIMIT


def test_descriptions_of_matched_notices_use_half_the_quota_left():
    with ScriptedServer() as server:
        base = server.url("/").rstrip("/")
        body = search_body("n1", "n2", "n3", "n4", "n5", desc_base=base)
        for row in body["opportunitiesData"][:4]:
            row["title"] = "Face recognition services"
        server.add(SEARCH_PATH, Reply.json(body))
        server.add(DESC_PATH, Reply.json({"description": "<p>Face recognition for ICE</p>"}))
        allowance = Allowance(7)
        client = make_client(server, quota=allowance)
        pages, _ = run(server, query(keywords=("face recognition",)), client=client)
        requests = [(r.path, r.query) for r in server.requests]
    # 1 search, then 3 of the 6 left for descriptions: n5 does not match, n4 waits.
    assert [p.meta.get("notice_id") for p in pages] == [None, "n1", "n2", "n3"]
    assert allowance.left() == 3
    assert requests[1] == (DESC_PATH, {"noticeid": "n1", "api_key": "k3y"})
    assert "k3y" not in pages[1].url
    [partial] = sam.parse(pages[1]).records
    assert (partial.external_id, partial.summary) == ("n1", "Face recognition for ICE")


def test_descriptions_count_to_max_requests_without_a_shared_quota():
    with ScriptedServer() as server:
        base = server.url("/").rstrip("/")
        server.add(SEARCH_PATH, Reply.json(search_body("n1", "n2", desc_base=base)))
        server.add(DESC_PATH, Reply(body=b"<p>License plate readers for CBP</p>"))
        pages, client = run(server, query(max_requests=2))
    assert client.requests_made == 2
    assert pages[1].meta == {"kind": "description", "notice_id": "n1"}
    assert sam.parse(pages[1]).records[0].summary == "License plate readers for CBP"


def test_description_urls_on_unknown_hosts_never_get_the_key(caplog):
    body = search_body("n1", desc_base="https://collector.example.net")
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(body))
        with caplog.at_level(logging.ERROR, logger="scrapers.sam"):
            pages, _ = run(server, query())
        assert len(server.requests) == 1
    assert [p.meta["kind"] for p in pages] == ["search"]
    assert "unknown host" in caplog.text


def test_max_pages_caps_search_pages_and_descriptions_still_follow():
    with ScriptedServer() as server:
        base = server.url("/").rstrip("/")
        body = full_page(0)
        body["opportunitiesData"][0]["description"] = f"{base}{DESC_PATH}?noticeid=n0"
        server.add(SEARCH_PATH, Reply.json(body))
        server.add(DESC_PATH, Reply(body=b"<p>Text</p>"))
        pages, _ = run(server, query(max_pages=1))
        assert [r.path for r in server.requests] == [SEARCH_PATH, DESC_PATH]
    assert [p.meta["kind"] for p in pages] == ["search", "description"]
