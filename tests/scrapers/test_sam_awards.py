"""SAM.gov Contract Awards API: parsing the documented shape, fetching over loopback."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import fpds, sam_awards
from scrapers.base import Page, ParseError, Query, SourceNotConfigured
from scrapers.http import HttpClient
from tests.support.quota import Allowance
from tests.support.server import Reply, ScriptedServer

REPO = Path(__file__).resolve().parents[2]
OWN = REPO / "tests" / "fixtures" / "sam_awards" / "search_cbp_ice.json"
FPDS_PAGE_TWO = REPO / "tests" / "fixtures" / "fpds" / "feed_surveillance_page2.xml"
PATH = "/contract-awards/v1/search"


def own_page() -> Page:
    return Page(url="https://api.sam.gov" + PATH, body=OWN.read_bytes())


# ---------------------------------------------------------------- parse


def test_fixture_parses_an_order_a_modification_and_an_idv():
    parsed = sam_awards.parse(own_page())
    assert [(r.external_id, r.kind) for r in parsed.records] == [
        ("7014:70B02C23F00000451:0:0:70B02C22A00000010", "award"),
        ("7012:70CMSD21F00000123:P00002:0:GS35F0119Y", "modification"),
        ("IDV:7014:70B02C22A00000010:P00003", "modification"),
    ]
    assert parsed.problems == ["award #3: no contractId subtier code or PIID"]
    assert parsed.drift == ["award field 'awardDetails' missing in 1 of 4"]


def test_bpa_call_field_by_field():
    record = sam_awards.parse(own_page()).records[0]
    assert record.source == "sam_awards"
    assert record.match_key == "contract:7014:70B02C23F00000451:0:70B02C22A00000010"
    assert record.date == dt.date(2023, 9, 28)
    assert record.amount == Decimal("1240000.00")
    assert (
        record.title
        == record.summary
        == ("FIXED LICENSE PLATE READERS FOR LAREDO AND NOGALES PORTS OF ENTRY")
    )
    assert record.codes == {"naics": "334290", "psc": "6350"}
    assert record.extra["psc_description"] == (
        "MISCELLANEOUS ALARM, SIGNAL, AND SECURITY DETECTION SYSTEMS"
    )
    assert record.extra["naics_description"] == "OTHER COMMUNICATIONS EQUIPMENT MANUFACTURING"
    assert record.extra["contract_action_type_description"] == "BPA CALL"
    assert record.extra["contracting_office_name"] == "BORDER ENFORCEMENT CONTRACTING DIVISION"
    [vendor] = record.vendors
    assert (vendor.name, vendor.uei, vendor.cage) == ("PERCEPTICS, LLC", "K8JSLM3NQ7H2", "0R2X4")
    assert (vendor.parent_name, vendor.parent_uei) == (
        "NORTHROP & JOHNSON HOLDINGS",
        "QX1LKM5JH8A3",
    )
    buyer, funder = record.agencies
    assert (buyer.name, buyer.code, buyer.code_type, buyer.role) == (
        "U.S. CUSTOMS AND BORDER PROTECTION",
        "7014",
        "subtier",
        "buyer",
    )
    assert (buyer.parent.name, buyer.parent.code) == ("HOMELAND SECURITY, DEPARTMENT OF", "7000")
    assert (funder.code, funder.role) == ("7067", "funder")


def test_negative_modification_and_idv_keys():
    _, mod, idv = sam_awards.parse(own_page()).records
    assert mod.amount == Decimal("-48250.00")
    assert mod.extra["reason_for_modification"] == "CLOSE OUT"
    assert mod.match_key == "contract:7012:70CMSD21F00000123:P00002:GS35F0119Y"
    assert idv.match_key == "idv:7014:70B02C22A00000010:P00003"
    assert idv.extra["document_type"] == "IDV"


def test_an_action_from_sam_awards_and_fpds_shares_one_match_key():
    [from_fpds] = fpds.parse(Page(url="x", body=FPDS_PAGE_TWO.read_bytes())).records
    from_sam = sam_awards.parse(own_page()).records[0]
    assert from_sam.match_key == from_fpds.match_key
    assert (from_sam.kind, from_sam.date, from_sam.amount) == (
        from_fpds.kind,
        from_fpds.date,
        from_fpds.amount,
    )
    assert from_sam.codes == from_fpds.codes
    assert from_sam.extra["psc_description"] == from_fpds.extra["psc_description"]


def test_empty_object_parses_to_nothing_and_other_shapes_are_parse_errors():
    assert sam_awards.parse(Page(url="x", body=b"{}")).records == []
    for body in (b"[]", b'{"awardSummary": {}}', b"<html></html>"):
        with pytest.raises(ParseError):
            sam_awards.parse(Page(url="x", body=body))


def test_wrong_types_inside_a_row_do_not_crash():
    row = {
        "contractId": {"subtier": {"code": "7012"}, "piid": "X1", "modificationNumber": None},
        "coreData": {"productOrServiceInformation": {"principalNaics": "541512"}},
        "awardDetails": {"dollars": {"actionObligation": "1e999"}, "dates": {"dateSigned": 5}},
    }
    body = json.dumps({"awardSummary": [row, "text"], "totalRecords": "2"}).encode()
    parsed = sam_awards.parse(Page(url="x", body=body))
    [record] = parsed.records
    assert (record.external_id, record.amount, record.date) == ("7012:X1:0:0:-NONE-", None, None)
    assert parsed.problems == ["award #1: not an object"]


# ---------------------------------------------------------------- fetch


def body(first: int, count: int, total: int) -> dict:
    rows = [
        {"contractId": {"subtier": {"code": "7012"}, "piid": f"P{n}", "modificationNumber": "0"}}
        for n in range(first, first + count)
    ]
    return {"awardSummary": rows, "totalRecords": str(total), "limit": "100", "offset": "0"}


def client_for(server: ScriptedServer, quota: Allowance | None = None) -> HttpClient:
    return HttpClient(
        trusted_hosts=[server.host], min_interval=0, sleep=lambda s: None, quota=quota
    )


def run(server: ScriptedServer, query: Query, client=None, **kwargs) -> list[Page]:
    client = client or client_for(server)
    return list(sam_awards.fetch(client, query, base_url=server.url(PATH), **kwargs))


def query(**kwargs) -> Query:
    kwargs.setdefault("api_key", "k3y")
    kwargs.setdefault("since", dt.date(2025, 3, 1))
    kwargs.setdefault("until", dt.date(2025, 3, 2))
    return Query(**kwargs)


def test_without_a_key_the_run_is_not_configured():
    with pytest.raises(SourceNotConfigured, match="SAM_API_KEY is not set"):
        list(sam_awards.fetch(client=None, query=Query()))  # type: ignore[arg-type]


def test_sweeps_use_the_fewest_requests_the_syntax_allows(caplog):
    q = query(
        agency_codes=("7012", "7014"),
        psc_codes=("1550", "unmanned aircraft", "5836"),
        naics_codes=("541512",),
        vendor_ueis=tuple(f"UEI{n:09d}" for n in range(150)),
    )
    with ScriptedServer() as server:
        server.add(PATH, Reply.json(body(0, 3, 3)))
        with caplog.at_level(logging.DEBUG, logger="scrapers.http"):
            pages = run(server, q)
        sent = [r.query for r in server.requests]
    assert [{k: v for k, v in s.items() if k not in ("awardeeUniqueEntityId",)} for s in sent][
        :2
    ] == [
        {
            "contractingSubtierCode": "7012~7014",
            "productOrServiceCode": "1550~5836",
            "lastModifiedDate": "[03/01/2025,03/02/2025]",
            "limit": "100",
            "offset": "0",
            "api_key": "k3y",
        },
        {
            "contractingSubtierCode": "7012~7014",
            "naicsCode": "541512",
            "lastModifiedDate": "[03/01/2025,03/02/2025]",
            "limit": "100",
            "offset": "0",
            "api_key": "k3y",
        },
    ]
    ueis = [s["awardeeUniqueEntityId"].split("~") for s in sent[2:]]
    assert [len(chunk) for chunk in ueis] == [100, 50]
    assert len(pages) == 4
    assert all("k3y" not in p.url for p in pages)
    assert "k3y" not in caplog.text


def test_multi_line_vendors_are_searched_at_the_buying_units_only():
    at_units = sam_awards.search_filters(
        query(agency_codes=("7012",), unit_vendor_ueis=("AWSUEI000001",))
    )
    assert {"contractingSubtierCode": "7012", "awardeeUniqueEntityId": "AWSUEI000001"} in at_units
    alone = sam_awards.search_filters(query(unit_vendor_ueis=("AWSUEI000001",)))
    assert all("awardeeUniqueEntityId" not in f for f in alone)


def test_subtier_list_refused_falls_back_to_one_series_per_code():
    with ScriptedServer() as server:
        server.add(PATH, Reply(status=400), Reply.json(body(0, 1, 1)))
        pages = run(server, query(agency_codes=("7012", "7014")))
        subtiers = [r.query["contractingSubtierCode"] for r in server.requests]
    assert subtiers == ["7012~7014", "7012", "7014"]
    assert len(pages) == 2


def test_offset_counts_pages_and_paging_stops_at_total_records():
    with ScriptedServer() as server:
        server.add(PATH, Reply.json(body(0, 100, 250)), Reply.json(body(100, 100, 250)))
        server.add(PATH, Reply.json(body(200, 50, 250)))
        pages = run(server, query())
        offsets = [r.query["offset"] for r in server.requests]
    assert offsets == ["0", "1", "2"]
    assert sum(len(sam_awards.parse(p).records) for p in pages) == 250


def test_a_window_past_the_400000_cap_is_split_in_halves():
    with ScriptedServer() as server:
        server.add(
            PATH,
            Reply.json(body(0, 100, 500_000)),
            Reply.json(body(100, 10, 10)),
            Reply.json(body(200, 10, 10)),
        )
        pages = run(server, query(since=dt.date(2025, 3, 1), until=dt.date(2025, 3, 10)))
        windows = [(r.query["lastModifiedDate"], r.query["offset"]) for r in server.requests]
    assert windows == [
        ("[03/01/2025,03/10/2025]", "0"),
        ("[03/01/2025,03/05/2025]", "0"),
        ("[03/06/2025,03/10/2025]", "0"),
    ]
    assert len(pages) == 3


def test_empty_object_and_204_end_a_series_cleanly():
    """A planning client answers every request with {}: one request per series, no crash."""
    with ScriptedServer() as server:
        server.add(PATH, Reply.json({}))
        pages = run(server, query(agency_codes=("7012",), vendor_ueis=("ABCDEFGHIJKL",)))
        assert len(server.requests) == 2
    assert [sam_awards.parse(p).records for p in pages] == [[], []]
    with ScriptedServer() as server:
        server.add(PATH, Reply(status=204))
        assert run(server, query()) == []


def test_default_window_is_yesterday():
    with ScriptedServer() as server:
        server.add(PATH, Reply.json(body(0, 1, 1)))
        run(server, Query(api_key="k"), today=dt.date(2025, 6, 30))
        [request] = server.requests
    assert request.query["lastModifiedDate"] == "[06/29/2025,06/29/2025]"


def test_quota_exhausted_mid_run_keeps_the_pages_fetched(caplog):
    with ScriptedServer() as server:
        server.add(PATH, Reply.json(body(0, 100, 1000)), Reply.json(body(100, 100, 1000)))
        client = client_for(server, quota=Allowance(2))
        with caplog.at_level(logging.WARNING, logger="scrapers.sam_awards"):
            pages = run(server, query(), client=client)
        assert len(server.requests) == 2
    assert len(pages) == 2
    assert "quota is spent" in caplog.text
