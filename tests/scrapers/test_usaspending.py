"""USAspending API v2: search, award-detail and transactions pages, and fetching over loopback."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import fpds, usaspending
from scrapers.base import Page, ParseError, Query
from scrapers.http import HttpClient
from scrapers.usaspending_records import award_match_key, transaction_parts
from tests.support.server import Reply, ScriptedServer

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "fixtures" / "usaspending"
OWN = REPO / "tests" / "fixtures" / "usaspending"
OWN_FPDS = REPO / "tests" / "fixtures" / "fpds"
SEARCH_PATH = "/api/v2/search/spending_by_award/"
TRANSACTIONS_PATH = "/api/v2/transactions/"
ICE_AWS = "CONT_AWD_70CMSD21F00000123_7012_GS35F0119Y_4732"
CBP_LPR = "CONT_AWD_70B03C22C00000045_7014_-NONE-_-NONE-"
NASA = "CONT_AWD_80GSFC18C0008_8000_-NONE-_-NONE-"


def shared(name: str) -> bytes:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"real USAspending sample not available at {path} (shared fixtures absent)")
    return path.read_bytes()


def own(name: str) -> bytes:
    return (OWN / name).read_bytes()


def parse(body: bytes | dict | list, **meta) -> usaspending.Parsed:
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return usaspending.parse(Page(url="https://api.usaspending.gov/x", body=body, meta=meta))


def chain(agency):
    """Return the (name, code, code_type, acronym) path from the top of an agency chain down."""
    levels = []
    while agency is not None:
        levels.append((agency.name, agency.code, agency.code_type, agency.acronym))
        agency = agency.parent
    return levels[::-1]


NASA_CHAIN = [
    ("National Aeronautics and Space Administration", "080", "toptier", ""),
    ("National Aeronautics and Space Administration", "8000", "subtier", ""),
]


# ---------------------------------------------------------------- real samples


def test_real_search_page_row_field_by_field():
    parsed = parse(shared("spending_by_award_contracts_4.json"))
    assert parsed.problems == [] and parsed.drift == []
    assert [r.external_id for r in parsed.records] == [
        NASA,
        "CONT_AWD_NAS1510000_8000_-NONE-_-NONE-",
        "CONT_AWD_NNJ06TA25C_8000_-NONE-_-NONE-",
        "CONT_AWD_NNM07AB03C_8000_-NONE-_-NONE-",
        NASA,
    ]
    iowa = parsed.records[-1]
    assert iowa.source == "usaspending"
    assert iowa.kind == "award"
    assert iowa.match_key == "contract:8000:80GSFC18C0008:0:-NONE-"
    assert iowa.amount == Decimal("172213419.67")
    assert iowa.date == dt.date(2018, 3, 5)  # Base Obligation Date
    assert iowa.url == f"https://www.usaspending.gov/award/{NASA}"
    assert iowa.summary.startswith("THE TANDEM RECONNECTION AND CUSP ELECTRODYNAMICS")
    assert iowa.title.startswith("THE TANDEM RECONNECTION") and iowa.title.endswith("…")
    assert len(iowa.title) <= 201
    assert [chain(a) for a in iowa.agencies] == [[*NASA_CHAIN]]
    assert (iowa.agencies[0].role, iowa.agencies[0].level) == ("buyer", "federal")
    (vendor,) = iowa.vendors
    assert (vendor.name, vendor.uei, vendor.duns) == ("THE UNIVERSITY OF IOWA", "Z1H9VJS8NG16", "")
    assert iowa.codes == {"naics": "541713", "psc": "AR11"}
    assert iowa.extra["naics_description"] == "RESEARCH AND DEVELOPMENT IN NANOTECHNOLOGY"
    assert iowa.extra["contract_award_type"] == "DEFINITIVE CONTRACT"
    assert iowa.extra["last_modified_date"] == "2025-08-19"
    assert iowa.raw["internal_id"] == 111952974
    assert parsed.records[1].title == "INTERNATIONAL SPACE STATION"
    assert parsed.records[1].date == dt.date(1993, 11, 15)
    assert parsed.records[0].codes == {}  # that row came back without NAICS/PSC


def test_real_search_order_under_an_idv_keys_on_the_parent_piid():
    parsed = parse(shared("spending_by_award_contracts_nasa.json"))
    assert parsed.problems == [] and parsed.drift == []
    webb, europa = parsed.records
    assert webb.match_key == "contract:8000:GSFC0200211DNAS502200:0:-NONE-"
    assert webb.amount == Decimal("4345585999.01")
    assert webb.date == dt.date(2003, 10, 1)  # no Base Obligation Date: Start Date
    assert europa.external_id == "CONT_AWD_80NM0018F0615_8000_80NM0018D0004_8000"
    assert europa.match_key == "contract:8000:80NM0018F0615:0:80NM0018D0004"
    assert europa.extra["contract_award_type"] == "DELIVERY ORDER"
    # This sample was requested without the code columns: names only.
    assert [(a.name, a.code) for a in europa.agencies] == [
        ("National Aeronautics and Space Administration", "")
    ]


def test_real_award_detail_field_by_field():
    parsed = parse(shared("award_detail_contract_80GSFC18C0008.json"))
    assert parsed.problems == [] and parsed.drift == []
    (award,) = parsed.records
    assert award.external_id == NASA
    assert award.match_key == "contract:8000:80GSFC18C0008:0:-NONE-"
    assert award.kind == "award"
    assert award.amount == Decimal("172213419.67")
    assert award.date == dt.date(2018, 3, 5)
    assert [chain(a) for a in award.agencies] == [
        [
            ("National Aeronautics and Space Administration", "080", "toptier", "NASA"),
            ("National Aeronautics and Space Administration", "8000", "subtier", "NASA"),
        ]
    ]
    (vendor,) = award.vendors
    assert (vendor.name, vendor.uei, vendor.duns) == ("THE UNIVERSITY OF IOWA", "Z1H9VJS8NG16", "")
    assert (vendor.parent_name, vendor.parent_uei) == ("THE UNIVERSITY OF IOWA", "Z1H9VJS8NG16")
    assert award.codes == {"naics": "541713", "psc": "AR11"}
    assert award.extra["solicitation_identifier"] == "NNH16ZDA005O"
    assert award.extra["type_description"] == "DEFINITIVE CONTRACT"
    assert award.extra["awarding_office"] == "NASA GODDARD SPACE FLIGHT CENTER"
    assert award.extra["extent_competed"] == "FULL AND OPEN COMPETITION"
    assert award.extra["period_of_performance"] == {
        "start_date": "2018-03-05",
        "end_date": "2025-08-19",
        "last_modified_date": "2025-08-19",
        "potential_end_date": "2025-08-23 00:00:00",
    }
    assert award.raw["id"] == 111952974


def test_real_transactions_page_gives_modifications_keyed_from_the_transaction_id():
    parsed = parse(shared("transactions_page.json"))
    assert parsed.problems == [] and parsed.drift == []
    assert [r.external_id for r in parsed.records] == [
        "CONT_TX_8000_-NONE-_80GSFC18C0008_P00065_-NONE-_0",
        "CONT_TX_8000_-NONE-_80GSFC18C0008_P00064_-NONE-_0",
        "CONT_TX_8000_-NONE-_80GSFC18C0008_P00063_-NONE-_0",
    ]
    latest = parsed.records[0]
    assert latest.kind == "modification"
    assert latest.match_key == "contract:8000:80GSFC18C0008:P00065:-NONE-"
    assert latest.amount == Decimal("1600000.0")
    assert latest.date == dt.date(2025, 6, 23)
    assert latest.title == "FUNDING ONLY ACTION (modification P00065 to 80GSFC18C0008)"
    assert latest.summary == "THE TANDEM RECONNECTION...."
    # Replayed without meta, the award id is rebuilt from the transaction id.
    assert latest.extra["award_id"] == NASA
    assert latest.url == f"https://www.usaspending.gov/award/{NASA}"
    assert parsed.records[2].amount == Decimal("282046.29")


def test_real_count_response_is_not_a_page_this_parser_reads():
    with pytest.raises(ParseError, match="'results' is a dict"):
        parse(shared("spending_by_award_count_cfda16842.json"))


# ---------------------------------------------------------------- own fixtures


def test_own_search_page_two_surveillance_awards():
    parsed = parse(own("search_surveillance_contracts.json"))
    assert parsed.problems == [] and parsed.drift == []
    ice, cbp = parsed.records
    assert ice.external_id == ICE_AWS
    assert ice.match_key == "contract:7012:70CMSD21F00000123:0:GS35F0119Y"
    assert ice.amount == Decimal("1987500.5")
    assert ice.date == dt.date(2021, 3, 12)
    assert ice.vendors[0].name == "AMAZON WEB SERVICES, INC."
    assert ice.vendors[0].duns == "965137223"
    assert ice.codes == {"naics": "518210", "psc": "DB10"}
    assert [chain(a) for a in ice.agencies] == [
        [
            ("Department of Homeland Security", "070", "toptier", ""),
            ("U.S. Immigration and Customs Enforcement", "7012", "subtier", ""),
        ]
    ]
    assert cbp.match_key == "contract:7014:70B03C22C00000045:0:-NONE-"
    assert cbp.amount == Decimal("12450000")
    assert cbp.codes == {"naics": "334290", "psc": "6350"}  # plain-string code form
    assert cbp.vendors[0].duns == ""
    assert [(a.code, a.role) for a in cbp.agencies] == [("7014", "buyer"), ("7067", "funder")]
    assert cbp.agencies[1].parent.code == "070"


def test_own_award_detail_with_parent_award_and_vendor_parent():
    (award,) = parse(own("award_detail_ice_aws.json")).records
    assert award.external_id == ICE_AWS
    assert award.match_key == "contract:7012:70CMSD21F00000123:0:GS35F0119Y"
    assert award.amount == Decimal("1987500.5")
    (vendor,) = award.vendors
    assert (vendor.duns, vendor.parent_name, vendor.parent_uei, vendor.parent_duns) == (
        "965137223",
        "AMAZON.COM, INC.",
        "LMJ4NU8CXAE1",
        "884745530",
    )
    assert award.agencies[0].acronym == "ICE"
    assert award.agencies[0].parent.acronym == "DHS"
    assert len(award.agencies) == 1  # same funding subtier: no separate funder
    assert award.extra["parent_award_id"] == "CONT_IDV_GS35F0119Y_4732"
    assert award.extra["parent_award_piid"] == "GS35F0119Y"
    assert award.extra["funding_office"] == "ICE HOMELAND SECURITY INVESTIGATIONS"
    assert award.extra["solicitation_identifier"] == "70CMSD20Q00000311"


def test_own_transactions_skip_the_base_action_and_keep_negative_amounts():
    parsed = parse(own("transactions_ice_aws.json"), kind="transactions", award_id=ICE_AWS)
    assert parsed.problems == []
    option, closeout = parsed.records
    assert option.external_id == "CONT_TX_7012_4732_70CMSD21F00000123_P00001_GS35F0119Y_0"
    assert option.amount == Decimal("0")
    assert closeout.amount == Decimal("-48250.0")
    assert closeout.date == dt.date(2023, 9, 28)
    assert closeout.match_key == "contract:7012:70CMSD21F00000123:P00002:GS35F0119Y"
    assert closeout.extra["award_id"] == ICE_AWS
    assert closeout.title == "CLOSE OUT (modification P00002 to 70CMSD21F00000123)"


def test_usaspending_and_fpds_give_the_same_match_keys_for_the_same_actions():
    search = parse(own("search_surveillance_contracts.json")).records[0]
    detail = parse(own("award_detail_ice_aws.json")).records[0]
    mods = parse(own("transactions_ice_aws.json"), award_id=ICE_AWS).records
    feed = fpds.parse(Page(url="x", body=(OWN_FPDS / "feed_surveillance_page1.xml").read_bytes()))
    base_action, _, fpds_mod = feed.records
    assert search.match_key == detail.match_key == base_action.match_key
    assert mods[1].match_key == fpds_mod.match_key
    assert search.external_id != base_action.external_id


def test_real_fpds_dol_order_matches_its_usaspending_id():
    path = REPO / ".." / "shared" / "fixtures" / "fpds" / "atom_piid_DOLOPS15T00043.xml"
    if not path.exists():
        pytest.skip(f"real FPDS sample not available at {path}")
    base = fpds.parse(Page(url="x", body=path.read_bytes())).records[0]
    usaspending_id = "CONT_AWD_DOLOPS15T00043_1605_DOLOPS14D0002_1605"
    assert award_match_key(usaspending_id, "DOLOPS15T00043") == base.match_key


@pytest.mark.parametrize(
    ("generated_id", "piid", "key"),
    [
        ("CONT_IDV_GS35F0119Y_4732", "", "idv:4732:GS35F0119Y:0"),
        ("CONT_IDV_GS35F_0119Y_4732", "GS35F_0119Y", "idv:4732:GS35F_0119Y:0"),
        ("CONT_AWD_AB_12_7012_-NONE-_-NONE-", "AB_12", "contract:7012:AB_12:0:-NONE-"),
        ("CONT_AW_4730_-NONE-_GS23F0170L_-NONE-", "", "contract:4730:GS23F0170L:0:-NONE-"),
        ("ASST_NON_1234_8000", "", ""),
        ("CONT_AWD_ONLYPIID", "", ""),
    ],
)
def test_award_match_key_forms(generated_id, piid, key):
    assert award_match_key(generated_id, piid) == key


def test_transaction_parts():
    assert transaction_parts("CONT_TX_7012_4732_70CMSD21F00000123_P00002_GS35F0119Y_0") == {
        "agency": "7012",
        "parent_agency": "4732",
        "piid": "70CMSD21F00000123",
        "mod": "P00002",
        "parent_piid": "GS35F0119Y",
        "transaction_number": "0",
    }
    assert transaction_parts("CONT_TX_too_short") == {}


def test_idv_transactions_get_idv_keys_from_the_page_meta():
    rows = {
        "results": [
            {
                "id": "CONT_TX_4732_-NONE-_GS35F0119Y_PO0007_-NONE-_0",
                "modification_number": "PO0007",
                "action_date": "2023-01-05",
                "federal_action_obligation": 0,
            }
        ],
        "page_metadata": {"hasNext": False},
    }
    (mod,) = parse(rows, award_id="CONT_IDV_GS35F0119Y_4732").records
    assert mod.match_key == "idv:4732:GS35F0119Y:PO0007"


# ---------------------------------------------------------------- hostile and drifting input


def search_page(*rows) -> dict:
    return {"results": list(rows), "page_metadata": {"page": 1, "hasNext": False}}


def ice_row(**changes) -> dict:
    row = json.loads(own("search_surveillance_contracts.json"))["results"][0]
    row.update(changes)
    return row


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"page_metadata": {"page": 1}, "messages": []}', "no 'results'"),
        (b'{"results": [], "page_metadata": {"page": 1, "hasNext": NaN}}', "NaN"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML"),
        (b"  <html><head><title>Error</title></head></html>", "HTML"),
        (b'{"results": [', "invalid JSON"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"results": "none"}', "'results' is a str"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"results": [{"foo": 1}]}', "neither award-search rows nor transactions"),
        (b'{"results": [{"Award Amount": ' + b"9" * 5000 + b"}]}", "Exceeds the limit"),
    ],
)
def test_hostile_pages_are_parse_errors(body, reason):
    with pytest.raises(ParseError, match=reason):
        parse(body)


def test_wrong_types_in_a_row_are_problems_and_other_rows_parse():
    def bad(n: int, **changes) -> dict:
        return ice_row(generated_internal_id=f"CONT_AWD_X{n}_7012_-NONE-_-NONE-", **changes)

    parsed = parse(
        search_page(
            ice_row(**{"Award Amount": "abc"}),
            bad(1, **{"Award Amount": True}),
            bad(2, Description={"a": 1}),
            bad(3, **{"Start Date": 20210315, "Base Obligation Date": None}),
            bad(4, **{"Award Amount": "Infinity"}),
            "not an object",
            ice_row(generated_internal_id=None, **{"Award ID": "70CMSD21F00000999"}),
            bad(5, **{"Award Amount": "2500.00"}),
            bad(6, **{"Award Amount": 1e300}),
        )
    )
    assert parsed.problems == [
        f"{ICE_AWS}: Award Amount is not a number: 'abc'",
        "CONT_AWD_X1_7012_-NONE-_-NONE-: Award Amount is not a number (bool)",
        "CONT_AWD_X2_7012_-NONE-_-NONE-: Description is not text (dict)",
        "CONT_AWD_X3_7012_-NONE-_-NONE-: Start Date is not a date (int)",
        "CONT_AWD_X4_7012_-NONE-_-NONE-: Award Amount is not a plausible amount: 'Infinity'",
        "row 6: not an object",
        "70CMSD21F00000999: no generated_internal_id",
        "CONT_AWD_X6_7012_-NONE-_-NONE-: Award Amount is not a plausible amount: '1e+300'",
    ]
    (good,) = parsed.records
    assert good.external_id == "CONT_AWD_X5_7012_-NONE-_-NONE-"
    assert good.amount == Decimal("2500.00")


def test_renamed_field_is_reported_as_drift():
    row = ice_row()
    row["Award Value"] = row.pop("Award Amount")
    parsed = parse(search_page(row))
    assert parsed.drift == ["search rows lack 'Award Amount'"]
    assert parsed.records[0].amount is None


def test_detail_without_its_id_is_a_problem_and_drift():
    detail = json.loads(own("award_detail_ice_aws.json"))
    del detail["generated_unique_award_id"]
    parsed = parse(detail)
    assert parsed.records == []
    assert parsed.problems == ["award 70CMSD21F00000123: no generated_unique_award_id"]
    assert parsed.drift == ["award detail lacks 'generated_unique_award_id'"]


def test_transaction_row_without_any_award_reference_is_a_problem():
    rows = {
        "results": [
            {
                "modification_number": "P00003",
                "action_date": "2024-01-01",
                "federal_action_obligation": 10.0,
            }
        ],
        "page_metadata": {},
    }
    parsed = parse(rows)
    assert parsed.records == []
    assert parsed.problems == ["row 1: modification P00003: no transaction id and no award id"]
    (mod,) = parse(rows, award_id=ICE_AWS).records
    assert mod.external_id == f"{ICE_AWS}:P00003:2024-01-01"
    assert mod.match_key == "contract:7012:70CMSD21F00000123:P00003:GS35F0119Y"


def test_nul_bytes_and_control_characters_are_removed_from_text():
    row = ice_row(
        **{
            "Description": "FACE\x00 RECOGNITION\x07 CLOUD",
            "Recipient Name": "AMAZON\x00 WEB SERVICES",
        }
    )
    (record,) = parse(search_page(row)).records
    assert record.summary == "FACE RECOGNITION CLOUD"
    assert record.vendors[0].name == "AMAZON WEB SERVICES"
    assert "\x00" not in json.dumps(record.raw, ensure_ascii=False)
    assert "\\u0000" not in json.dumps(record.raw)


def test_raw_is_json_serialisable():
    for name in ("search_surveillance_contracts.json", "award_detail_ice_aws.json"):
        for record in parse(own(name)).records:
            json.dumps(record.raw)


# ---------------------------------------------------------------- fetch over loopback


def client_for(server: ScriptedServer) -> HttpClient:
    return HttpClient(
        trusted_hosts=[server.host], min_interval=0, backoff_base=0.01, sleep=lambda s: None
    )


def row(n: int) -> dict:
    return {
        "internal_id": n,
        "Award ID": f"P{n}",
        "generated_internal_id": f"CONT_AWD_P{n}_7012_-NONE-_-NONE-",
    }


def page_json(rows, has_next, last_id=None, last_value="None") -> Reply:
    meta = {
        "page": 1,
        "hasNext": has_next,
        "last_record_unique_id": last_id,
        "last_record_sort_value": last_value,
    }
    return Reply.json({"limit": 2, "results": rows, "page_metadata": meta, "messages": []})


EMPTY = page_json([], False)
NO_TRANSACTIONS = Reply.json({"results": [], "page_metadata": {"page": 1, "hasNext": False}})


def add_awards(server: ScriptedServer, *numbers: int) -> None:
    for n in numbers:
        server.add(
            f"/api/v2/awards/CONT_AWD_P{n}_7012_-NONE-_-NONE-/",
            Reply.json(
                {
                    "generated_unique_award_id": f"CONT_AWD_P{n}_7012_-NONE-_-NONE-",
                    "piid": f"P{n}",
                    "category": "contract",
                }
            ),
        )


QUERY = Query(
    since=dt.date(2024, 1, 1),
    until=dt.date(2024, 1, 31),
    keywords=("face recognition", "license plate reader"),
)


def test_fetch_pages_search_until_has_next_is_false_and_fetches_each_award():
    with ScriptedServer() as server:
        server.add(
            SEARCH_PATH,
            page_json([row(1), row(2)], True, 2, "10.0"),
            page_json([row(3)], False),
            EMPTY,
        )
        add_awards(server, 1, 2, 3)
        server.add(TRANSACTIONS_PATH, NO_TRANSACTIONS)
        pages = list(usaspending.fetch(client_for(server), QUERY, base_url=server.url("/")))
        searches = [r.json() for r in server.requests_to(SEARCH_PATH)]
        transactions = [r.json() for r in server.requests_to(TRANSACTIONS_PATH)]
    assert [(p.meta["kind"], p.meta.get("award_id", "")[9:11]) for p in pages] == [
        ("search", ""),
        ("detail", "P1"),
        ("transactions", "P1"),
        ("detail", "P2"),
        ("transactions", "P2"),
        ("search", ""),
        ("detail", "P3"),
        ("transactions", "P3"),
        ("search", ""),
    ]
    assert [s["page"] for s in searches] == [1, 2, 1]
    contracts, _, idvs = searches
    assert contracts["filters"]["award_type_codes"] == ["A", "B", "C", "D"]
    assert all(code.startswith("IDV_") for code in idvs["filters"]["award_type_codes"])
    assert contracts["filters"]["keywords"] == ["face recognition", "license plate reader"]
    assert contracts["filters"]["time_period"] == [
        {"start_date": "2024-01-01", "end_date": "2024-01-31", "date_type": "last_modified_date"}
    ]
    assert contracts["limit"] == 100
    assert contracts["sort"] in contracts["fields"]
    assert "Base Obligation Date" in contracts["fields"] and "Last Date to Order" in idvs["fields"]
    assert "last_record_unique_id" not in contracts
    assert transactions[0] == {
        "award_id": "CONT_AWD_P1_7012_-NONE-_-NONE-",
        "page": 1,
        "limit": 100,
        "sort": "action_date",
        "order": "asc",
    }
    assert [
        usaspending.parse(p).records[0].external_id for p in pages if p.meta["kind"] == "detail"
    ] == [
        "CONT_AWD_P1_7012_-NONE-_-NONE-",
        "CONT_AWD_P2_7012_-NONE-_-NONE-",
        "CONT_AWD_P3_7012_-NONE-_-NONE-",
    ]


def test_fetch_switches_to_the_keyset_cursor_past_the_result_window():
    with ScriptedServer() as server:
        server.add(
            SEARCH_PATH,
            page_json([row(1), row(2)], True, 2, "50.0"),
            page_json([row(3), row(4)], True, 4, "40.0"),
            page_json([row(5), row(6)], True, 6, "30.0"),
            page_json([row(7)], False, None, "None"),
            EMPTY,
        )
        add_awards(server, *range(1, 8))
        server.add(TRANSACTIONS_PATH, NO_TRANSACTIONS)
        list(
            usaspending.fetch(
                client_for(server),
                Query(),
                base_url=server.url("/"),
                page_size=2,
                result_window=4,
                today=dt.date(2024, 5, 2),
            )
        )
        searches = [r.json() for r in server.requests_to(SEARCH_PATH)]
    assert [s["page"] for s in searches] == [1, 2, 3, 4, 1]
    assert [
        (s.get("last_record_unique_id"), s.get("last_record_sort_value")) for s in searches
    ] == [
        (None, None),
        (None, None),
        (4, "40.0"),
        (6, "30.0"),
        (None, None),
    ]
    assert searches[0]["filters"]["time_period"][0]["start_date"] == "2024-05-01"  # yesterday
    assert "keywords" not in searches[0]["filters"]


def test_fetch_stops_when_the_cursor_is_missing_instead_of_asking_past_the_window():
    with ScriptedServer() as server:
        server.add(
            SEARCH_PATH,
            page_json([row(1), row(2)], True, 2, "5.0"),
            page_json([row(3), row(4)], True, None, "None"),
            EMPTY,
        )
        add_awards(server, 1, 2, 3, 4)
        server.add(TRANSACTIONS_PATH, NO_TRANSACTIONS)
        list(
            usaspending.fetch(
                client_for(server), Query(), base_url=server.url("/"), page_size=2, result_window=4
            )
        )
        assert [r.json()["page"] for r in server.requests_to(SEARCH_PATH)] == [1, 2, 1]


def test_fetch_pages_transactions_and_respects_max_pages():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, page_json([row(1)], True, 1, "9.0"))
        add_awards(server, 1)
        server.add(
            TRANSACTIONS_PATH,
            Reply.json({"results": [{"id": "t1"}], "page_metadata": {"page": 1, "hasNext": True}}),
            NO_TRANSACTIONS,
        )
        pages = list(
            usaspending.fetch(client_for(server), Query(max_pages=1), base_url=server.url("/"))
        )
        assert [r.json()["page"] for r in server.requests_to(TRANSACTIONS_PATH)] == [1, 2]
        assert len(server.requests_to(SEARCH_PATH)) == 1
    assert [p.meta["kind"] for p in pages] == ["search", "detail", "transactions", "transactions"]
    assert pages[3].meta == {
        "kind": "transactions",
        "award_id": "CONT_AWD_P1_7012_-NONE-_-NONE-",
        "page": 2,
    }


def test_fetch_runs_keywords_psc_and_naics_as_separate_searches_and_fetches_an_award_once():
    query = Query(
        keywords=("facial recognition",),
        psc_codes=("6350",),
        naics_codes=("334290",),
        agency_codes=("U.S. Customs and Border Protection", "7014"),
    )
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, page_json([row(1)], False))
        add_awards(server, 1)
        server.add(TRANSACTIONS_PATH, NO_TRANSACTIONS)
        list(usaspending.fetch(client_for(server), query, base_url=server.url("/")))
        filters = [r.json()["filters"] for r in server.requests_to(SEARCH_PATH)]
        assert len(server.requests_to("/api/v2/awards/CONT_AWD_P1_7012_-NONE-_-NONE-/")) == 1
    assert len(filters) == 6
    assert [
        sorted(set(f) - {"time_period", "agencies", "award_type_codes"}) for f in filters[:3]
    ] == [
        ["keywords"],
        ["psc_codes"],
        ["naics_codes"],
    ]
    assert filters[1]["psc_codes"] == ["6350"]
    assert filters[2]["naics_codes"] == {"require": ["334290"]}
    # The API filters agencies by name; a bare code cannot be sent.
    assert filters[0]["agencies"] == [
        {"type": "awarding", "tier": "subtier", "name": "U.S. Customs and Border Protection"}
    ]


def test_fetch_retries_a_500_then_succeeds():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply(status=500, body=b"busy"), page_json([], False))
        pages = list(usaspending.fetch(client_for(server), Query(), base_url=server.url("/")))
        assert len(server.requests_to(SEARCH_PATH)) == 3  # 500, 200 (contracts), 200 (IDVs)
    assert [p.meta["kind"] for p in pages] == ["search", "search"]
    assert usaspending.parse(pages[0]).records == []


def test_fetch_escapes_award_ids_in_the_detail_path():
    hostile = {"internal_id": 9, "generated_internal_id": "../../admin?x=1"}
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, page_json([hostile], False), EMPTY)
        server.add(
            "/api/v2/awards/..%2F..%2Fadmin%3Fx%3D1/",
            Reply.json({"piid": "X", "category": "contract"}),
        )
        server.add(TRANSACTIONS_PATH, NO_TRANSACTIONS)
        list(usaspending.fetch(client_for(server), Query(), base_url=server.url("/")))
        paths = [r.path for r in server.requests]
    assert "/api/v2/awards/..%2F..%2Fadmin%3Fx%3D1/" in paths
    assert not any(p.startswith("/admin") for p in paths)


def test_fetch_skips_an_award_whose_detail_is_refused_and_goes_on():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, page_json([row(1), row(2)], False), EMPTY)
        add_awards(server, 2)
        server.add("/api/v2/awards/CONT_AWD_P1_7012_-NONE-_-NONE-/", Reply(status=404))
        server.add(TRANSACTIONS_PATH, NO_TRANSACTIONS)
        pages = list(usaspending.fetch(client_for(server), QUERY, base_url=server.url("/")))
    kinds = [(p.meta["kind"], p.meta.get("award_id", "")[9:11]) for p in pages]
    assert ("detail", "P2") in kinds and ("detail", "P1") not in kinds
