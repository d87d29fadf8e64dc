"""Senate LDA filings: parsing real and hand-written pages, and fetching over loopback."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapers import lda
from scrapers.base import Page, ParseError, Query
from scrapers.http import HttpClient
from tests.support.server import Reply, ScriptedServer
from tracker.services.scraping import scrape_run

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "fixtures" / "lda"
OWN = REPO / "tests" / "fixtures" / "lda"
FILINGS = "/api/v1/filings/"
AWS_Q2 = "5b0e2c7a-91d4-4f3e-8a6b-2d1c0e9f7a31"
FLOCK_RR = "e3a9d4b2-6c1f-4a7e-b5d8-0f2c9e1a4b67"
AWS_Q2_AMENDMENT = "9c7f1e05-3b2a-4d8c-a6e4-7b1d2f0c8e59"


def shared(name: str) -> bytes:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"real LDA sample not available at {path} (shared fixtures absent)")
    return path.read_bytes()


def own(name: str) -> bytes:
    return (OWN / name).read_bytes()


def parse_records(body: bytes) -> dict:
    return {r.external_id: r for r in lda.parse(Page(url="x", body=body)).records}


# ---------------------------------------------------------------- parse: real samples


def test_real_2026_page_shape_and_records():
    body = shared("filings_2026_q1_page1.json")
    data = json.loads(body)
    assert (data["count"], data["next"], len(data["results"])) == (
        53822,
        "https://lda.senate.gov/api/v1/filings/?filing_year=2026&limit=3&page=2",
        3,
    )
    parsed = lda.parse(Page(url="x", body=body))
    assert (parsed.problems, parsed.drift) == ([], [])
    assert [r.external_id for r in parsed.records] == [
        "dedc9bd7-5168-4cad-8973-aece07645b9f",
        "b4893a31-d047-4ff4-be33-fede34eb8860",
        "a934e791-d564-4fd3-8b78-041f8cfcf115",
    ]


def test_real_penn_avenue_filing_field_by_field():
    record = parse_records(shared("filings_2026_q1_page1.json"))[
        "dedc9bd7-5168-4cad-8973-aece07645b9f"
    ]
    assert record.source == "lda"
    assert record.kind == "lobbying"
    assert record.title == (
        "LOCKHEED MARTIN CORPORATION lobbying via PENN AVENUE PARTNERS (1st Quarter - Report 2026)"
    )
    assert record.date == dt.date(2026, 4, 2)
    assert record.amount == Decimal("50000.00")
    assert record.url == (
        "https://lda.senate.gov/filings/public/filing/dedc9bd7-5168-4cad-8973-aece07645b9f/print/"
    )
    assert record.summary == "Defense Appropriations."
    assert [(v.name, v.role) for v in record.vendors] == [
        ("LOCKHEED MARTIN CORPORATION", "client"),
        ("PENN AVENUE PARTNERS", "intermediary"),
    ]
    assert [(a.name, a.acronym, a.role, a.level) for a in record.agencies] == [
        ("HOUSE OF REPRESENTATIVES", "", "pitched-to", "federal"),
        ("SENATE", "", "pitched-to", "federal"),
    ]
    assert record.codes == {"issue_codes": "BUD"}
    assert record.match_key == "lda:400918672:196195:2026:first_quarter"
    extra = record.extra
    assert (extra["filing_type"], extra["filing_period"], extra["filing_year"]) == (
        "Q1",
        "first_quarter",
        "2026",
    )
    assert (extra["registrant_id"], extra["client_id"]) == ("400918672", "196195")
    assert extra["lobbyists"] == ["JERR ROSENBAUM"]
    assert extra["issue_codes"] == ["BUD"]
    assert extra["is_amendment"] is False
    # "&#226;\u20ac\u2039" is a zero-width space (E2 80 8B) read as Windows-1252.
    assert extra["registrant_description"] == "Government Affairs."


def test_real_in_house_filing_uses_expenses_and_names_no_intermediary():
    record = parse_records(shared("filings_2026_q1_page1.json"))[
        "b4893a31-d047-4ff4-be33-fede34eb8860"
    ]
    assert record.title == "BOEING COMPANY lobbying (1st Quarter - Report 2026)"
    assert record.amount == Decimal("2450000.00")  # income is null, expenses reported
    assert [(v.name, v.role) for v in record.vendors] == [("BOEING COMPANY", "client")]
    assert [(a.name, a.acronym) for a in record.agencies] == [
        ("Energy, Dept of", ""),
        ("Environmental Protection Agency (EPA)", "EPA"),
        ("HOUSE OF REPRESENTATIVES", ""),
        ("SENATE", ""),
        ("Transportation, Dept of (DOT)", "DOT"),
        ("White House Office", ""),
    ]


def test_real_registration_has_no_amount_and_a_registration_key():
    record = parse_records(shared("filings_2026_q1_page1.json"))[
        "a934e791-d564-4fd3-8b78-041f8cfcf115"
    ]
    assert record.amount is None
    assert record.agencies == []
    assert record.match_key == "lda-registration:61414:70355"
    assert record.date == dt.date(2026, 1, 1)


def test_real_2024_full_page():
    body = shared("filings_2024_page1_full_25.json")
    data = json.loads(body)
    assert (data["count"], data["next"], data["previous"], len(data["results"])) == (
        96577,
        "https://lda.senate.gov/api/v1/filings/?filing_year=2024&page=2",
        None,
        25,
    )
    parsed = lda.parse(Page(url="x", body=body))
    assert (parsed.problems, parsed.drift) == ([], [])
    assert len(parsed.records) == 25
    records = {r.external_id: r for r in parsed.records}
    atom = records["bff7d426-ee7e-4423-8dc7-7d63b437ccd6"]
    assert atom.codes == {"issue_codes": "BUD;CPI;DEF;SCI"}
    # One description filed under four issue codes appears once.
    assert atom.summary.count("National Quantum Initiative") == 1
    no_activity = records["fe906201-305e-499c-b98a-cc8f9fa8cfe7"]
    assert (no_activity.summary, no_activity.codes, no_activity.agencies) == ("", {}, [])


def test_real_amendment_shares_the_original_reports_match_key():
    records = parse_records(shared("filings_2024_page1_full_25.json"))
    original = records["d05eac1f-0651-48a8-b34f-d57b6d40cd06"]
    amendment = records["7466c7ee-8bd1-4496-94df-5d5322d25e2d"]
    assert amendment.extra["filing_type"] == "1A"
    assert amendment.extra["is_amendment"] is True
    assert original.extra["is_amendment"] is False
    assert original.match_key == amendment.match_key == "lda:401108033:57863:2024:first_quarter"
    names = {a.name: a.acronym for a in amendment.agencies}
    assert names["Homeland Security, Dept of (DHS)"] == "DHS"
    assert names["Financial Crimes Enforcement Network (FinCEN)"] == "FinCEN"
    assert names["U.S. Secret Service"] == ""
    assert len(amendment.agencies) == 17


# ---------------------------------------------------------------- parse: own fixtures


def test_own_aws_filing_lobbying_ice_and_dhs():
    record = parse_records(own("filings_face_recognition_page1.json"))[AWS_Q2]
    assert record.title == (
        "AMAZON WEB SERVICES, INC. lobbying via CAPITOL SENTRY STRATEGIES LLC"
        " (2nd Quarter - Report 2025)"
    )
    assert record.amount == Decimal("120000.00")
    assert record.date == dt.date(2025, 7, 18)
    assert record.url == f"https://lda.gov/filings/public/filing/{AWS_Q2}/print/"
    assert [(a.name, a.acronym) for a in record.agencies] == [
        ("Immigration & Customs Enforcement (ICE)", "ICE"),
        ("Homeland Security, Dept of (DHS)", "DHS"),
        ("SENATE", ""),
        ("HOUSE OF REPRESENTATIVES", ""),
    ]
    assert record.summary == (
        "Issues related to the procurement of facial recognition & biometric identity services"
        " by ICE; DHS biometric exit program.\n"
        "FedRAMP authorization of cloud services for law enforcement agencies."
    )
    assert record.codes == {"issue_codes": "HOM;GOV"}
    assert record.extra["lobbyists"] == ["MORGAN HALE", "PRIYA NAIR"]
    assert record.extra["government_entity_ids"] == ["61", "38", "1", "2"]
    assert record.extra["registrant_description"] == "Government relations & public affairs"
    assert record.match_key == "lda:401109876:214455:2025:second_quarter"


def test_own_amendment_updates_the_same_period_and_repairs_mojibake():
    [amendment] = lda.parse(Page(url="x", body=own("filings_face_recognition_page2.json"))).records
    assert amendment.external_id == AWS_Q2_AMENDMENT
    assert amendment.extra["is_amendment"] is True
    assert amendment.match_key == "lda:401109876:214455:2025:second_quarter"
    assert amendment.amount == Decimal("130000.00")
    assert "by ICE \u2013 including mobile capture; DHS biometric exit program." in (
        amendment.summary
    )
    assert "\u00e2" not in amendment.summary


def test_own_registration_newline_in_description():
    record = parse_records(own("filings_face_recognition_page1.json"))[FLOCK_RR]
    assert record.summary == "Use of automated license plate readers by federal law enforcement."
    assert record.match_key == "lda-registration:401109876:214460"
    assert record.amount is None


def test_a_single_filing_object_parses():
    data = json.loads(own("filings_face_recognition_page2.json"))["results"][0]
    [record] = lda.parse(Page(url="x", body=json.dumps(data).encode())).records
    assert record.external_id == AWS_Q2_AMENDMENT


@pytest.mark.parametrize(
    ("filing_type", "expected"),
    [
        *[(kind, True) for kind in ("RA", "1A", "2AY", "3@", "MA", "YA")],
        *[(kind, False) for kind in ("RR", "Q1", "1T", "4TY", "MM", "")],
    ],
)
def test_is_amendment(filing_type, expected):
    assert lda.is_amendment(filing_type) is expected


def test_bad_filings_are_problems_and_the_rest_still_parse():
    good = json.loads(own("filings_face_recognition_page2.json"))["results"][0]
    hostile = dict(
        good,
        filing_uuid="11111111-2222-3333-4444-555555555555",
        income="lots",
        dt_posted=12,
        lobbying_activities=[{"description": ["x"], "government_entities": "ICE"}, 3],
        registrant="REG",
    )
    body = json.dumps(
        {"count": 4, "next": None, "results": [good, "junk", {"filing_uuid": None}, hostile]}
    ).encode()
    parsed = lda.parse(Page(url="x", body=body))
    assert parsed.problems == [
        "filing #1: not an object",
        "filing #2: missing or malformed filing_uuid",
    ]
    assert [r.external_id for r in parsed.records] == [AWS_Q2_AMENDMENT, hostile["filing_uuid"]]
    odd = parsed.records[1]
    assert (odd.amount, odd.date, odd.agencies, odd.summary, odd.match_key) == (
        None,
        None,
        [],
        "",
        "",
    )
    # Only the id-less object lacks fields; a wrong-typed registrant is not drift.
    assert "filing field 'registrant' missing in 1 of 3" in parsed.drift


def test_nul_bytes_are_removed_everywhere():
    data = json.loads(own("filings_face_recognition_page2.json"))
    data["results"][0]["client"]["name"] = "AMAZON\x00 WEB SERVICES, INC."
    data["results"][0]["lobbying_activities"][0]["description"] = "face\x00 recognition"
    [record] = lda.parse(Page(url="x", body=json.dumps(data).encode())).records
    assert record.vendors[0].name == "AMAZON WEB SERVICES, INC."
    assert record.summary == "face recognition"
    assert "\\u0000" not in json.dumps(record.raw)


def test_missing_client_is_a_problem():
    data = json.loads(own("filings_face_recognition_page2.json"))
    data["results"][0]["client"] = None
    parsed = lda.parse(Page(url="x", body=json.dumps(data).encode()))
    assert parsed.records == []
    assert parsed.problems == [f"filing {AWS_Q2_AMENDMENT}: filing names no client"]


def test_drift_reports_missing_fields():
    data = json.loads(own("filings_face_recognition_page2.json"))
    del data["next"]
    del data["results"][0]["dt_posted"]
    parsed = lda.parse(Page(url="x", body=json.dumps(data).encode()))
    assert parsed.drift == [
        "page field 'next' is missing",
        "filing field 'dt_posted' missing in 1 of 1",
    ]
    assert parsed.records[0].date is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html><html><body>Throttled</body></html>", "HTML"),
        (b'{"detail": "Invalid page."}', "neither"),
        (b'{"count": 1, "results": {"filing_uuid": "x"}}', "not a list"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"count": Infinity, "results": []}', "non-standard"),
        (b"\xff\xfe{}", "UTF-8"),
    ],
)
def test_hostile_pages_raise_parse_error(body, reason):
    with pytest.raises(ParseError, match=reason):
        lda.parse(Page(url="x", body=body))


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "filing_uuid",
                    "client",
                    "registrant",
                    "name",
                    "id",
                    "lobbying_activities",
                    "government_entities",
                    "lobbyists",
                    "income",
                    "dt_posted",
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
    body = json.dumps({"results": rows, "totalRecords": 9, "count": 9, "next": None}).encode()
    try:
        parsed = lda.parse(Page(url="x", body=body))
    except ParseError:
        return
    for record in parsed.records:
        json.dumps(record.raw)
        assert "\x00" not in record.title + record.summary


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_parse_error(body):
    with contextlib.suppress(ParseError):
        lda.parse(Page(url="https://example.test/?noticeid=abc", body=body))


# ---------------------------------------------------------------- fetch


def make_client(server: ScriptedServer) -> HttpClient:
    return HttpClient(
        trusted_hosts=[server.host], min_interval=0, backoff_base=0.01, sleep=lambda s: None
    )


def on_server(name: str, server: ScriptedServer) -> bytes:
    """Return an own fixture with its lda.gov links pointing at the loopback server."""
    return own(name).replace(b"https://lda.gov/", server.url("/").encode())


def test_fetch_follows_next_links_and_sends_the_filters():
    with ScriptedServer() as server:
        server.add(FILINGS, Reply(body=on_server("filings_face_recognition_page1.json", server)))
        server.add(
            FILINGS + "?" + "filing_specific_lobbying_issues=%22face+recognition%22"
            "&filing_year=2025&page_size=25&page=2",
            Reply(body=on_server("filings_face_recognition_page2.json", server)),
        )
        q = Query(keywords=("face recognition",))
        pages = list(
            lda.fetch(
                make_client(server), q, base_url=server.url("/api/v1/"), today=dt.date(2025, 9, 1)
            )
        )
        requests = server.requests
    assert [r.query for r in requests] == [
        {
            "filing_year": "2025",
            "filing_specific_lobbying_issues": '"face recognition"',
            "page_size": "25",
        },
        {
            "filing_year": "2025",
            "filing_specific_lobbying_issues": '"face recognition"',
            "page_size": "25",
            "page": "2",
        },
    ]
    assert all("Authorization" not in r.headers for r in requests)
    assert [p.meta for p in pages] == [{"kind": "filings", "seen_before": []}] * 2
    ids = [r.external_id for p in pages for r in lda.parse(p).records]
    assert ids == [AWS_Q2, FLOCK_RR, AWS_Q2_AMENDMENT]


def test_fetch_sends_the_token_only_with_a_key():
    with ScriptedServer() as server:
        server.add(FILINGS, Reply.json({"count": 0, "next": None, "results": []}))
        q = Query(api_key="s3cret", vendor_names=("AMAZON WEB SERVICES, INC.",))
        list(lda.fetch(make_client(server), q, base_url=server.url("/api/v1/")))
        [request] = server.requests
    assert request.headers["Authorization"] == "Token s3cret"
    assert request.query["client_name"] == "AMAZON WEB SERVICES, INC."


def test_fetch_refuses_a_next_link_to_an_unknown_host(caplog):
    page = json.loads(own("filings_face_recognition_page1.json"))
    page["next"] = "https://lda.evil.example/api/v1/filings/?page=2"
    with ScriptedServer() as server:
        server.add(FILINGS, Reply.json(page))
        with caplog.at_level(logging.ERROR, logger="scrapers.lda"):
            pages = list(lda.fetch(make_client(server), Query(), base_url=server.url("/api/v1/")))
        assert len(server.requests) == 1
    assert len(pages) == 1
    assert "lda.evil.example" in caplog.text


class FakeClient:
    """Answers by URL from a dict, recording every call (reaches hosts tests cannot)."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies
        self.calls: list[tuple[str, dict | None, dict | None]] = []

    def get(self, url, *, params=None, headers=None):
        self.calls.append((url, params, headers))
        return SimpleNamespace(
            status_code=200,
            url=url,
            headers={"Content-Type": "application/json"},
            content=self.bodies[url],
        )


def test_requests_go_to_lda_gov_by_default():
    client = FakeClient({"https://lda.gov/api/v1/filings/": b'{"count": 0, "results": []}'})
    list(lda.fetch(client, Query(api_key="k"), today=dt.date(2026, 12, 1)))
    [(url, params, headers)] = client.calls
    assert lda.BASE_URL == "https://lda.gov/api/v1/"
    assert url == "https://lda.gov/api/v1/filings/"
    assert params == {"filing_year": 2026, "page_size": 25}
    assert headers == {"Authorization": "Token k"}


def test_a_base_url_on_the_old_host_follows_next_links_to_lda_gov():
    page2_url = json.loads(own("filings_face_recognition_page1.json"))["next"]
    client = FakeClient(
        {
            "https://lda.senate.gov/api/v1/filings/": own("filings_face_recognition_page1.json"),
            page2_url: own("filings_face_recognition_page2.json"),
        }
    )
    q = Query(keywords=("face recognition",), api_key="k", since=dt.date(2025, 4, 1))
    old_base = "https://lda.senate.gov/api/v1/"
    pages = list(lda.fetch(client, q, base_url=old_base, today=dt.date(2025, 9, 1)))
    urls = [call[0] for call in client.calls]
    assert urls[:2] == ["https://lda.senate.gov/api/v1/filings/", page2_url]
    assert page2_url.startswith("https://lda.gov/api/v1/filings/?")
    first_params = client.calls[0][1]
    assert first_params["filing_year"] == 2024  # Q4 reports are posted the next January
    assert first_params["filing_dt_posted_after"] == "2025-04-01"
    assert client.calls[1][1] is None
    assert client.calls[1][2] == {"Authorization": "Token k"}
    # The 2025 series sees the same filings again: flagged, still yielded.
    assert len(pages) == 4
    assert pages[2].meta["seen_before"] == sorted([AWS_Q2, FLOCK_RR])


def test_next_link_allowed():
    assert lda.next_link_allowed("https://lda.gov/api/v1/filings/?page=2", "lda.senate.gov")
    assert lda.next_link_allowed("https://lda.senate.gov/api/v1/filings/?page=2", "x")
    assert lda.next_link_allowed("http://127.0.0.1:8000/api/v1/?page=2", "127.0.0.1:8000")
    assert not lda.next_link_allowed("http://lda.gov/api/v1/filings/?page=2", "lda.senate.gov")
    assert not lda.next_link_allowed("https://lda.gov.evil.example/", "lda.senate.gov")
    assert not lda.next_link_allowed("https://www.lda.gov/api/v1/?page=2", "lda.gov")
    assert not lda.next_link_allowed("javascript:alert(1)", "lda.senate.gov")


def test_fetch_respects_max_pages_across_series():
    with ScriptedServer() as server:
        server.add(FILINGS, Reply(body=on_server("filings_face_recognition_page1.json", server)))
        q = Query(keywords=("face recognition", "biometric"), max_pages=3)
        pages = list(
            lda.fetch(
                make_client(server), q, base_url=server.url("/api/v1/"), today=dt.date(2025, 9, 1)
            )
        )
        assert len(server.requests) == 3
    assert len(pages) == 3


def test_fetch_stops_a_series_whose_next_link_loops():
    with ScriptedServer() as server:
        page = json.loads(own("filings_face_recognition_page2.json"))
        page["next"] = server.url(FILINGS)
        server.add(FILINGS, Reply.json(page))
        pages = list(lda.fetch(make_client(server), Query(), base_url=server.url("/api/v1/")))
        # The first request carries params, so its URL differs from the bare next link once.
        assert len(server.requests) == 2
    assert len(pages) == 2


def test_fetch_stops_a_series_at_an_empty_page_even_with_a_next_link():
    with ScriptedServer() as server:
        body = {"count": 99, "next": server.url(FILINGS + "?page=2"), "results": []}
        server.add(FILINGS, Reply.json(body))
        pages = list(lda.fetch(make_client(server), Query(), base_url=server.url("/api/v1/")))
        assert len(server.requests) == 1
    assert len(pages) == 1


def test_fetch_retries_a_429_with_retry_after():
    sleeps: list[float] = []
    with ScriptedServer() as server:
        server.add(
            FILINGS,
            Reply.json(
                {"detail": "Request was throttled."}, status=429, headers={"Retry-After": "4"}
            ),
            Reply.json({"count": 0, "next": None, "results": []}),
        )
        client = HttpClient(
            trusted_hosts=[server.host], min_interval=0, backoff_base=0.01, sleep=sleeps.append
        )
        pages = list(lda.fetch(client, Query(), base_url=server.url("/api/v1/")))
        assert len(server.requests) == 2
    assert 4 in sleeps
    assert len(pages) == 1


# ---------------------------------------------------------------- the move to lda.gov


EMPTY = {"count": 0, "next": None, "results": []}


def moved_client(old: ScriptedServer, new: ScriptedServer, *others: ScriptedServer) -> HttpClient:
    """A client for which ``old`` -> ``new`` is a documented move, as lda.senate.gov -> lda.gov."""
    return HttpClient(
        trusted_hosts=[s.host for s in (old, new, *others)],
        credential_moves=[(old.url("/"), new.url("/"))],
        min_interval=0,
        backoff_base=0.01,
        sleep=lambda s: None,
    )


def redirect_to(server: ScriptedServer) -> Reply:
    """A 301 to the filings list on ``server``, as the old LDA host answers."""
    return Reply(status=301, headers={"Location": server.url(FILINGS + "?page_size=25")})


def moved_api(old: ScriptedServer, new: ScriptedServer) -> None:
    """Serve two pages from ``new``; ``old`` 301s every request there, page links name ``old``."""
    first = json.loads(own("filings_face_recognition_page1.json"))
    first["next"] = old.url(FILINGS + "?page=2")
    old.add(FILINGS, redirect_to(new))
    old.add(
        FILINGS + "?page=2", Reply(status=301, headers={"Location": new.url(FILINGS + "?page=2")})
    )
    new.add(FILINGS, Reply.json(first))
    new.add(FILINGS + "?page=2", Reply(body=own("filings_face_recognition_page2.json")))


def test_the_token_survives_the_redirect_from_the_old_host_to_the_new():
    with ScriptedServer() as old, ScriptedServer() as new:
        moved_api(old, new)
        q = Query(api_key="s3cret")
        pages = list(lda.fetch(moved_client(old, new), q, base_url=old.url("/api/v1/")))
        requests = old.requests + new.requests
    assert len(pages) == 2
    assert len(requests) == 4
    assert all(r.headers["Authorization"] == "Token s3cret" for r in requests)


def test_the_token_never_follows_a_redirect_to_another_host():
    with ScriptedServer() as old, ScriptedServer() as new, ScriptedServer() as elsewhere:
        old.add(FILINGS, redirect_to(elsewhere))
        elsewhere.add(FILINGS, Reply.json(EMPTY))
        new.add(FILINGS, redirect_to(elsewhere))
        client = moved_client(old, new, elsewhere)
        q = Query(api_key="s3cret")
        list(lda.fetch(client, q, base_url=old.url("/api/v1/")))
        list(lda.fetch(client, q, base_url=new.url("/api/v1/")))
        assert len(elsewhere.requests) == 2
        assert all("Authorization" not in r.headers for r in elsewhere.requests)


def test_the_default_client_keeps_no_token_across_a_loopback_redirect():
    """Only lda.senate.gov -> lda.gov over https is a documented move, not any host pair."""
    with ScriptedServer() as old, ScriptedServer() as new:
        old.add(FILINGS, redirect_to(new))
        new.add(FILINGS, Reply.json(EMPTY))
        client = HttpClient(
            trusted_hosts=[old.host, new.host], min_interval=0, sleep=lambda s: None
        )
        list(lda.fetch(client, Query(api_key="s3cret"), base_url=old.url("/api/v1/")))
        assert "Authorization" not in new.requests[0].headers


def test_an_anonymous_run_sends_no_authorization_header():
    with ScriptedServer() as old, ScriptedServer() as new:
        moved_api(old, new)
        pages = list(lda.fetch(moved_client(old, new), Query(), base_url=old.url("/api/v1/")))
        requests = old.requests + new.requests
    assert len(pages) == 2
    assert len(requests) == 4
    assert all("Authorization" not in r.headers for r in requests)


@pytest.mark.django_db
def test_source_urls_still_point_the_source_at_a_mirror():
    with ScriptedServer() as server:
        server.add(FILINGS, Reply(body=own("filings_face_recognition_page2.json")))
        with override_settings(
            SOURCE_URLS={"lda": server.url("/api/v1/")},
            SCRAPER_TRUSTED_HOSTS=[server.host],
            SCRAPER_MIN_INTERVAL=0.0,
            LDA_API_KEY="s3cret",
        ):
            run = scrape_run(source="lda")
        [request] = server.requests
    assert run.status == "succeeded", run.message
    assert request.path == FILINGS
    assert request.headers["Authorization"] == "Token s3cret"
