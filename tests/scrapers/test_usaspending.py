"""USAspending API v2: search, award-detail and transactions pages, and fetching over loopback."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import fpds, usaspending
from scrapers.base import Page, ParseError, Query
from scrapers.http import HttpClient, HTTPStatusError
from scrapers.usaspending_fields import award_match_key, transaction_parts
from tests.support.server import Reply, ScriptedServer

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "fixtures" / "usaspending"
OWN = REPO / "tests" / "fixtures" / "usaspending"
OWN_FPDS = REPO / "tests" / "fixtures" / "fpds"
SEARCH_PATH = "/api/v2/search/spending_by_transaction/"
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


# ---------------------------------------------------------------- action pages (one row per action)


def actions(name: str, **meta) -> usaspending.Parsed:
    return parse(own(name), kind="actions", **meta)


def test_own_action_page_field_by_field():
    parsed = actions("transaction_search_ice_cbp.json")
    assert parsed.problems == [] and parsed.drift == []
    base, option, closeout, lpr, bpa = parsed.records
    assert (base.external_id, base.kind) == (ICE_AWS, "award")
    assert base.match_key == "contract:7012:70CMSD21F00000123:0:GS35F0119Y"
    assert base.amount == Decimal("2035750.5")  # this action's obligation, as FPDS reports it
    assert base.date == dt.date(2021, 3, 12)
    assert base.title.startswith("CLOUD HOSTING AND FACE RECOGNITION")
    assert base.url == f"https://www.usaspending.gov/award/{ICE_AWS}"
    assert [chain(a) for a in base.agencies] == [
        [
            ("Department of Homeland Security", "", "toptier", ""),
            ("U.S. Immigration and Customs Enforcement", "7012", "subtier", ""),
        ]
    ]
    (vendor,) = base.vendors
    assert (vendor.name, vendor.uei, vendor.role) == (
        "AMAZON WEB SERVICES, INC.",
        "RV56EEQKQ4Y5",
        "vendor",
    )
    assert base.codes == {"naics": "518210", "psc": "DB10"}
    assert base.extra["psc_description"] == "IT AND TELECOM - COMPUTE AS A SERVICE"
    assert base.extra["naics_description"].startswith("COMPUTING INFRASTRUCTURE PROVIDERS")
    assert base.extra["variant"] == "action"
    assert base.extra["parent_award_piid"] == "GS35F0119Y"
    assert (option.kind, option.external_id) == (
        "modification",
        "CONT_TX_7012_4732_70CMSD21F00000123_P00001_GS35F0119Y_0",
    )
    assert option.amount == Decimal("0")
    assert closeout.amount == Decimal("-48250.0")
    assert closeout.title == "DEOBLIGATE UNUSED FUNDS AND CLOSE OUT"
    assert closeout.extra["modification_number"] == "P00002"
    assert [(a.name, a.role) for a in lpr.agencies] == [
        ("U.S. Customs and Border Protection", "buyer"),
        ("Science and Technology Directorate", "funder"),
    ]
    assert "parent_award_piid" not in lpr.extra  # -NONE-: a definitive contract
    assert (bpa.kind, bpa.match_key) == ("award", "idv:7014:70B02C22A00000010:0")
    assert bpa.extra["award_category"] == "idv"


def test_action_rows_keep_the_ids_earlier_usaspending_records_used():
    """Re-importing the same actions from the new endpoint must not duplicate them."""
    by_actions = {
        r.match_key: r.external_id for r in actions("transaction_search_ice_cbp.json").records
    }
    old = [
        *parse(own("search_surveillance_contracts.json")).records,
        *parse(own("transactions_ice_aws.json"), award_id=ICE_AWS).records,
    ]
    assert old and all(by_actions[r.match_key] == r.external_id for r in old)


def test_action_match_keys_equal_fpds_keys_for_the_same_actions():
    feed = fpds.parse(Page(url="x", body=(OWN_FPDS / "feed_surveillance_page1.xml").read_bytes()))
    ours = {r.match_key for r in actions("transaction_search_ice_cbp.json").records}
    assert [r.match_key for r in feed.records] == [
        "contract:7012:70CMSD21F00000123:0:GS35F0119Y",
        "idv:7014:70B02C22A00000010:0",
        "contract:7012:70CMSD21F00000123:P00002:GS35F0119Y",
    ]
    assert {r.match_key for r in feed.records} <= ours
    base = fpds.contract_match_key("7012", "70CMSD21F00000123", "0", "GS35F0119Y")
    assert base in ours


def test_grant_row_is_an_award_of_the_granting_agency_to_a_local_government():
    parsed = actions("transaction_search_grants_local.json", recipient_level="local")
    assert parsed.problems == [] and parsed.drift == []
    grant, extension = parsed.records
    assert (grant.kind, grant.external_id) == ("award", "ASST_NON_15PBJA23GG01234JAGX_1550")
    assert grant.amount == Decimal("148512.0")
    assert grant.date == dt.date(2023, 9, 20)
    assert grant.match_key == "" and grant.vendors == []
    funder, recipient = grant.agencies
    assert chain(funder) == [
        ("Department of Justice", "", "toptier", ""),
        ("Office of Justice Programs", "1550", "subtier", ""),
    ]
    assert (funder.role, funder.level) == ("funder", "federal")
    assert (recipient.name, recipient.role, recipient.level) == (
        "CITY OF NORTH HAVENFORD",
        "requester",
        "local",
    )
    assert (recipient.state, recipient.place, recipient.parent) == ("OH", "NORTH HAVENFORD", None)
    assert grant.extra["assistance_listing"] == "16.738"
    assert grant.extra["fain"] == "15PBJA23GG01234JAGX"
    assert (extension.kind, extension.external_id) == (
        "modification",
        "ASST_NON_15PBJA23GG01234JAGX_1550:1",
    )


def test_a_state_grant_recipient_has_no_place():
    (grant, _) = actions("transaction_search_grants_local.json", recipient_level="state").records
    recipient = grant.agencies[1]
    assert (recipient.level, recipient.state, recipient.place) == ("state", "OH", "")


def test_action_rows_that_cannot_be_keyed_are_problems():
    page = json.loads(own("transaction_search_ice_cbp.json"))
    good = page["results"][0]
    page["results"] = [
        {**good, "generated_internal_id": "CONT_AWD_ONLYPIID"},
        {**good, "generated_internal_id": None},
        {**good, "generated_internal_id": "ASST_NON_X_1550", "Transaction Amount": "lots"},
        good,
    ]
    parsed = parse(page)
    assert parsed.problems == [
        "CONT_AWD_ONLYPIID: award id 'CONT_AWD_ONLYPIID' is not a contract or IDV id",
        "70CMSD21F00000123: no generated_internal_id",
        "ASST_NON_X_1550: Transaction Amount is not a number: 'lots'",
    ]
    assert [r.external_id for r in parsed.records] == [ICE_AWS]


def test_renamed_action_field_is_reported_as_drift():
    page = json.loads(own("transaction_search_ice_cbp.json"))
    for row in page["results"]:
        row["Modification"] = row.pop("Mod")
    parsed = parse(page)
    assert parsed.drift == ["actions rows lack 'Mod'"]


def test_repeated_rows_named_in_the_page_meta_are_not_read_again():
    parsed = actions("transaction_search_ice_cbp.json", repeats=[0, 2, "x"])
    assert [r.extra["modification_number"] for r in parsed.records] == ["P00001", "0", "0"]


# ---------------------------------------------------------------- fetch over loopback


def client_for(server: ScriptedServer) -> HttpClient:
    return HttpClient(
        trusted_hosts=[server.host], min_interval=0, backoff_base=0.01, sleep=lambda s: None
    )


def action_row(n: int, mod: str = "0") -> dict:
    return {
        "Award ID": f"P{n}",
        "Mod": mod,
        "Action Date": "2024-01-02",
        "Transaction Amount": 10.0 * n,
        "generated_internal_id": f"CONT_AWD_P{n}_7012_-NONE-_-NONE-",
        "internal_id": n,
    }


def action_page(rows, has_next: bool = False, number: int = 1) -> Reply:
    meta = {"page": number, "hasNext": has_next, "hasPrevious": number > 1}
    return Reply.json({"limit": 100, "results": rows, "page_metadata": meta, "messages": []})


EMPTY = action_page([])
CONTRACT_TYPES = ["A", "B", "C", "D", *usaspending.IDV_CODES]
JANUARY = [
    {"start_date": "2024-01-01", "end_date": "2024-01-31", "date_type": "last_modified_date"}
]
QUERY = Query(
    since=dt.date(2024, 1, 1),
    until=dt.date(2024, 1, 31),
    keywords=("face recognition", "license plate reader"),
)


def fetched(server: ScriptedServer, query: Query, **kwargs) -> tuple[list[Page], list[dict]]:
    pages = list(usaspending.fetch(client_for(server), query, base_url=server.url("/"), **kwargs))
    return pages, [r.json() for r in server.requests_to(SEARCH_PATH)]


def test_fetch_asks_one_action_search_per_page_of_100_rows():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, action_page([action_row(1)], True), action_page([action_row(2)]))
        pages, bodies = fetched(server, QUERY)
        assert [r.path for r in server.requests] == [SEARCH_PATH, SEARCH_PATH]
    assert bodies[0] == {
        "filters": {
            "time_period": JANUARY,
            "keywords": ["face recognition", "license plate reader"],
            "award_type_codes": CONTRACT_TYPES,
        },
        "fields": list(usaspending.CONTRACT_FIELDS),
        "limit": 100,
        "page": 1,
        "sort": "Transaction Amount",
        "order": "desc",
    }
    assert bodies[1] == {**bodies[0], "page": 2}
    assert [p.meta for p in pages] == [
        {"kind": "actions", "sweep": "keywords", "page": 1},
        {"kind": "actions", "sweep": "keywords", "page": 2},
    ]
    assert [r.external_id for p in pages for r in usaspending.parse(p).records] == [
        "CONT_AWD_P1_7012_-NONE-_-NONE-",
        "CONT_AWD_P2_7012_-NONE-_-NONE-",
    ]


def test_fetch_runs_each_sweep_as_its_own_series_with_its_own_filters():
    names = tuple(f"VENDOR {n}" for n in range(usaspending.VENDOR_CHUNK + 1))
    query = Query(
        keywords=("facial recognition", "AI"),
        agency_names=(
            "U.S. Customs and Border Protection",
            "U.S. Immigration and Customs Enforcement",
        ),
        agency_codes=("7014", "7012"),
        psc_codes=("6350", "d3", "R4X9Z"),
        naics_codes=("334290", "54151"),
        vendor_names=names,
        vendor_ueis=("RV56EEQKQ4Y5",),
        grant_programs=("16.738", "16.710"),
    )
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, EMPTY)
        pages, bodies = fetched(server, query, today=dt.date(2024, 5, 2))
    filters = [b["filters"] for b in bodies]
    assert [p.meta["sweep"] for p in pages] == [
        "keywords", "agency-psc", "agency-naics", "vendors", "vendors", "grants", "grants",
    ]  # fmt: skip
    yesterday = [
        {"start_date": "2024-05-01", "end_date": "2024-05-01", "date_type": "last_modified_date"}
    ]
    assert all(f["time_period"] == yesterday for f in filters)
    agencies = [
        {"type": "awarding", "tier": "subtier", "name": "U.S. Customs and Border Protection"},
        {"type": "awarding", "tier": "subtier", "name": "U.S. Immigration and Customs Enforcement"},
    ]
    no_period = [{k: v for k, v in f.items() if k != "time_period"} for f in filters]
    assert no_period[:5] == [
        {"keywords": ["facial recognition"], "award_type_codes": CONTRACT_TYPES},
        # Codes the API would refuse (a 422 for the whole request) are left out.
        {"agencies": agencies, "psc_codes": ["6350", "D3"], "award_type_codes": CONTRACT_TYPES},
        {
            "agencies": agencies,
            "naics_codes": {"require": ["334290"]},
            "award_type_codes": CONTRACT_TYPES,
        },
        {"recipient_search_text": list(names[:-1]), "award_type_codes": CONTRACT_TYPES},
        {"recipient_search_text": [names[-1], "RV56EEQKQ4Y5"], "award_type_codes": CONTRACT_TYPES},
    ]
    assert no_period[5:] == [
        {
            "program_numbers": ["16.738", "16.710"],
            "recipient_type_names": [level],
            "award_type_codes": ["02", "03", "04", "05"],
        }
        for level in ("regional_and_state_government", "local_government")
    ]
    assert bodies[5]["fields"] == list(usaspending.GRANT_FIELDS)
    assert [p.meta.get("recipient_level") for p in pages[5:]] == ["state", "local"]
    assert all(b["sort"] in b["fields"] and b["limit"] == 100 for b in bodies)


def test_multi_line_vendors_are_searched_at_the_buying_units_only():
    name = "U.S. Immigration and Customs Enforcement"
    ice = {"type": "awarding", "tier": "subtier", "name": name}
    query = Query(agency_names=(name,), unit_vendor_names=("Amazon Web Services",))
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, EMPTY)
        pages, bodies = fetched(server, query, today=dt.date(2024, 5, 2))
    assert [p.meta["sweep"] for p in pages] == ["agency-vendors"]
    filters = {k: v for k, v in bodies[0]["filters"].items() if k != "time_period"}
    assert filters == {
        "agencies": [ice],
        "recipient_search_text": ["Amazon Web Services"],
        "award_type_codes": CONTRACT_TYPES,
    }
    with ScriptedServer() as server:  # no buying units: not swept everywhere instead
        server.add(SEARCH_PATH, EMPTY)
        pages, bodies = fetched(server, Query(unit_vendor_names=("Amazon Web Services",)))
    assert bodies == []


def test_fetch_runs_no_sweep_for_empty_query_fields():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, EMPTY)
        pages, bodies = fetched(server, Query(agency_names=("FBI",), vendor_names=(" ",)))
    assert pages == [] and bodies == []


def test_fetch_gives_each_action_once_across_sweeps():
    query = Query(keywords=("rekognition",), vendor_names=("AMAZON WEB SERVICES",))
    ice = own("transaction_search_ice_cbp.json")
    page = json.loads(ice)
    new_row = {**page["results"][0], "generated_internal_id": "CONT_AWD_X9_7012_-NONE-_-NONE-"}
    page["results"] = [page["results"][2], new_row, page["results"][0]]
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply(body=ice, headers={"Content-Type": "application/json"}))
        server.add(SEARCH_PATH, Reply.json(page))
        pages, _ = fetched(server, query)
    assert [p.meta.get("repeats") for p in pages] == [None, [0, 2]]
    records = [r for p in pages for r in usaspending.parse(p).records]
    assert len(records) == 6
    assert len({r.external_id for r in records}) == 6
    assert records[-1].external_id == "CONT_AWD_X9_7012_-NONE-_-NONE-"


def test_fetch_halves_a_date_window_too_big_to_page_through():
    rows = [action_row(n) for n in range(1, 7)]
    with ScriptedServer() as server:
        server.add(
            SEARCH_PATH,
            action_page(rows[0:2], True),
            action_page(rows[2:4], True),  # page*size reaches the window: ask again in halves
            action_page(rows[0:2], False),
            action_page(rows[4:6], False),
        )
        pages, bodies = fetched(server, QUERY, page_size=2, result_window=4)
    periods = [(b["page"], b["filters"]["time_period"][0]) for b in bodies]
    assert [(n, p["start_date"], p["end_date"]) for n, p in periods] == [
        (1, "2024-01-01", "2024-01-31"),
        (2, "2024-01-01", "2024-01-31"),
        (1, "2024-01-01", "2024-01-16"),
        (1, "2024-01-17", "2024-01-31"),
    ]
    assert pages[2].meta["repeats"] == [0, 1]
    ids = [r.external_id for p in pages for r in usaspending.parse(p).records]
    assert len(ids) == len(set(ids)) == 6


def test_fetch_stops_a_one_day_series_at_the_result_window():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, action_page([action_row(1), action_row(2)], True))
        _, bodies = fetched(
            server,
            Query(keywords=("lpr",)),
            page_size=2,
            result_window=4,
            today=dt.date(2024, 5, 2),
        )
    assert [b["page"] for b in bodies] == [1, 2]  # page 3 would be refused with HTTP 422


@pytest.mark.parametrize(
    "body", [b"{}", b'{"results": []}', b'{"page_metadata": {"hasNext": true}}']
)
def test_fetch_ends_each_series_on_an_empty_answer(body):
    """A planning client answers every request with {}: one request per series is listed."""
    query = Query(keywords=("lpr",), vendor_names=("AXON",), grant_programs=("16.738",))
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply(body=body, headers={"Content-Type": "application/json"}))
        pages, bodies = fetched(server, query)
    assert [p.meta["sweep"] for p in pages] == ["keywords", "vendors", "grants", "grants"]
    assert [b["page"] for b in bodies] == [1, 1, 1, 1]


def test_fetch_skips_a_refused_series_and_goes_on():
    query = Query(keywords=("lpr",), vendor_names=("AXON",))
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply.json({"detail": "bad filter"}, status=422))
        server.add(SEARCH_PATH, action_page([action_row(1)]))
        pages, bodies = fetched(server, query)
    assert len(bodies) == 2
    assert [p.meta["sweep"] for p in pages] == ["vendors"]


def test_fetch_fails_when_the_source_stays_down():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply(status=503, body=b"busy"))
        with pytest.raises(HTTPStatusError):
            fetched(server, QUERY)


def test_fetch_retries_a_500_then_succeeds():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, Reply(status=500, body=b"busy"), action_page([action_row(1)]))
        pages, bodies = fetched(server, QUERY)
    assert len(bodies) == 2  # the 500, then the page
    assert len(pages) == 1 and len(usaspending.parse(pages[0]).records) == 1


def test_fetch_respects_max_pages():
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, action_page([action_row(1)], True))
        pages, bodies = fetched(
            server, Query(keywords=("lpr",), vendor_names=("AXON",), max_pages=2)
        )
    assert [b["page"] for b in bodies] == [1, 2]
    assert len(pages) == 2


def test_requests_per_contract_event_on_a_replay_of_recorded_pages():
    """The fetch cost: one request gives up to 100 contract actions (events)."""
    pages = [own("transaction_search_fbi_page1.json"), own("transaction_search_fbi_page2.json")]
    json_headers = {"Content-Type": "application/json"}
    with ScriptedServer() as server:
        server.add(SEARCH_PATH, *(Reply(body=body, headers=json_headers) for body in pages))
        fetched_pages, bodies = fetched(server, Query(keywords=("forensic",)))
        requests = len(server.requests)
    assert [b["page"] for b in bodies] == [1, 2]
    records = [r for p in fetched_pages for r in usaspending.parse(p).records]
    assert (requests, len(records), len({r.match_key for r in records})) == (2, 130, 130)
    assert {r.kind for r in records} == {"award", "modification"}
    assert requests / len(records) <= 0.05  # 0.015 here; the old pattern cost over 2
