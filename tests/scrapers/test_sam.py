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
from scrapers.base import Page, ParseError, Query, SourceUnavailable, replay_pages
from scrapers.http import HttpClient
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


# ---------------------------------------------------------------- fetch


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


def make_client(server: ScriptedServer, sleeps: list[float] | None = None) -> HttpClient:
    record = sleeps.append if sleeps is not None else (lambda s: None)
    return HttpClient(trusted_hosts=[server.host], min_interval=0, backoff_base=0.01, sleep=record)


def query(**kwargs) -> Query:
    kwargs.setdefault("api_key", "k3y")
    kwargs.setdefault("since", dt.date(2025, 3, 1))
    kwargs.setdefault("until", dt.date(2025, 3, 7))
    return Query(**kwargs)


def run(server: ScriptedServer, q: Query, client: HttpClient | None = None, **kwargs):
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


def test_fetch_sends_the_source_filters_and_hides_the_key():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(search_body()))
        q = query(keywords=("face recognition",), psc_codes=("DA01",), naics_codes=("541511",))
        pages, _ = run(server, q)
        sent = [r.query for r in server.requests]
    assert [p.meta for p in pages] == [{"kind": "search"}] * 3
    assert [(s.get("title"), s.get("ccode"), s.get("ncode")) for s in sent] == [
        ("face recognition", None, None),
        (None, "DA01", None),
        (None, None, "541511"),
    ]
    for params in sent:
        assert params["postedFrom"] == "03/01/2025"
        assert params["postedTo"] == "03/07/2025"
        assert params["ptype"] == "p,o,k,r,s,a"
        assert params["limit"] == "1000"
        assert params["offset"] == "0"
        assert params["api_key"] == "k3y"
    assert all("k3y" not in p.url and "api_key" not in p.url for p in pages)


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


def test_quota_stops_cleanly_after_n_requests(caplog):
    with ScriptedServer() as server:
        server.add(
            SEARCH_PATH,
            Reply.json(search_body("n1", "n2", total=100)),
            Reply.json(search_body("n3", "n4", total=100)),
            Reply.json(search_body("n5", "n6", total=100)),
        )
        with caplog.at_level(logging.WARNING, logger="scrapers.sam"):
            pages, client = run(server, query(max_requests=2))
        offsets = [r.query["offset"] for r in server.requests]
    assert client.requests_made == 2
    assert offsets == ["0", "2"]  # offset counts records
    assert len(pages) == 2
    assert "request quota" in caplog.text


def test_paging_stops_when_rows_reach_total_records():
    with ScriptedServer() as server:
        server.add(
            SEARCH_PATH,
            Reply.json(search_body("n1", "n2", total=3)),
            Reply.json(search_body("n3", total=3)),
        )
        pages, _ = run(server, query())
        assert [r.query["offset"] for r in server.requests] == ["0", "2"]
    assert len(pages) == 2


def test_paging_stops_when_a_page_repeats_or_is_empty():
    # If SAM read offset as a page index, offset=2 could repeat rows or return none.
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(search_body("n1", "n2", total=50)))
        run(server, query())
        assert len(server.requests) == 2
    with ScriptedServer() as server:
        server.add(
            SEARCH_PATH,
            Reply.json(search_body("n1", total=50)),
            Reply.json(search_body(total=50)),
        )
        run(server, query())
        assert len(server.requests) == 2


def test_descriptions_are_fetched_after_searches_with_the_key_and_count_to_quota():
    with ScriptedServer() as server:
        desc_base = server.url("/").rstrip("/")
        server.add(SEARCH_PATH, Reply.json(search_body("n1", "n2", desc_base=desc_base)))
        server.add(DESC_PATH, Reply.json({"description": "<p>Face recognition for ICE</p>"}))
        pages, client = run(server, query(keywords=("face", "biometric"), max_requests=3))
        requests = [(r.path, r.query) for r in server.requests]
    assert client.requests_made == 3
    assert [p.meta for p in pages] == [
        {"kind": "search"},
        {"kind": "search"},
        {"kind": "description", "notice_id": "n1"},
    ]
    assert requests[2] == (DESC_PATH, {"noticeid": "n1", "api_key": "k3y"})
    assert "k3y" not in pages[2].url
    [partial] = sam.parse(pages[2]).records
    assert (partial.external_id, partial.summary) == ("n1", "Face recognition for ICE")


def test_description_urls_on_unknown_hosts_never_get_the_key(caplog):
    body = search_body("n1", desc_base="https://collector.example.net")
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(body))
        with caplog.at_level(logging.ERROR, logger="scrapers.sam"):
            pages, _ = run(server, query())
        assert len(server.requests) == 1
    assert [p.meta["kind"] for p in pages] == ["search"]
    assert "unknown host" in caplog.text


def test_max_pages_caps_search_pages():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json(search_body("n1")))
        pages, _ = run(server, query(keywords=("a", "b", "c"), max_pages=2))
        assert len(server.requests) == 2
    assert len(pages) == 2


def test_descriptions_are_still_fetched_when_max_pages_ends_the_searches():
    with ScriptedServer() as server:
        desc_base = server.url("/").rstrip("/")
        server.add(SEARCH_PATH, Reply.json(search_body("n1", desc_base=desc_base)))
        server.add(DESC_PATH, Reply(body=b"<p>License plate readers for CBP</p>"))
        pages, _ = run(server, query(keywords=("a", "b"), max_pages=1))
        assert [r.path for r in server.requests] == [SEARCH_PATH, DESC_PATH]
    assert pages[1].meta == {"kind": "description", "notice_id": "n1"}
    assert sam.parse(pages[1]).records[0].summary == "License plate readers for CBP"
