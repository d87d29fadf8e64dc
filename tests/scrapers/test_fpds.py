"""FPDS ATOM feed: safe XML parsing, real and hand-written pages, fetching over loopback."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import fpds
from scrapers.base import Page, ParseError, Query, SourceUnavailable
from scrapers.http import HttpClient
from scrapers.xmlsafe import find, find_descendant, local_name, parse_xml, text_at
from tests.support.server import Reply, ScriptedServer

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "fixtures" / "fpds"
OWN = REPO / "tests" / "fixtures" / "fpds"
FEED_PATH = "/ezsearch/FEEDS/ATOM"
REAL_HOST = "https://www.fpds.gov"


def shared(name: str) -> bytes:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"real FPDS sample not available at {path} (shared fixtures absent)")
    return path.read_bytes()


def own(name: str) -> bytes:
    return (OWN / name).read_bytes()


def parse(body: bytes) -> fpds.Parsed:
    return fpds.parse(Page(url=REAL_HOST + FEED_PATH, body=body))


def chain(agency):
    """Return the (name, code, code_type, role) path from the top of an agency chain down."""
    levels = []
    while agency is not None:
        levels.append((agency.name, agency.code, agency.code_type, agency.role))
        agency = agency.parent
    return levels[::-1]


# ---------------------------------------------------------------- xmlsafe


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&secret;</title></entry></feed>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol9;</title></feed>"""


def test_doctype_with_external_entity_is_refused_and_the_file_never_appears():
    with pytest.raises(ParseError, match="DOCTYPE/entity declarations are not allowed") as caught:
        parse(XXE)
    assert "root:" not in str(caught.value)


def test_doctype_in_utf16_is_refused_too():
    body = XXE.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    with pytest.raises(ParseError, match="DOCTYPE"):
        parse_xml(body.encode("utf-16"))


def test_billion_laughs_is_refused_quickly():
    started = time.monotonic()
    with pytest.raises(ParseError, match="DOCTYPE"):
        parse(LAUGHS)
    assert time.monotonic() - started < 1.0


def test_undeclared_entity_is_a_parse_error_not_an_expansion():
    with pytest.raises(ParseError, match="invalid XML"):
        parse_xml(b"<feed><title>&secret;</title></feed>")


def test_truncated_real_feed_is_a_parse_error():
    body = shared("atom_lastmod_2020-04-02_start0.xml")
    with pytest.raises(ParseError, match="invalid XML"):
        parse(body[: len(body) // 2])


def test_truncated_own_feed_is_a_parse_error():
    body = own("feed_surveillance_page1.xml")
    with pytest.raises(ParseError, match="invalid XML"):
        parse(body[:-40])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<feed><title>a\x00b</title></feed>", "invalid XML"),
        (b"<a>" * 5000 + b"</a>" * 5000, "invalid XML"),
        (b"not xml at all", "invalid XML"),
        (b"<html><body><h1>503 Service Unavailable</h1></body></html>", "expected an Atom <feed>"),
        (b'{"results": []}', "invalid XML"),
    ],
)
def test_hostile_bodies_are_parse_errors(body, reason):
    with pytest.raises(ParseError, match=reason):
        parse(body)


def test_oversized_body_is_refused_before_parsing():
    with pytest.raises(ParseError, match="over the 100-byte limit"):
        parse_xml(b"<feed>" + b" " * 200 + b"</feed>", max_bytes=100)


def test_lookups_ignore_prefix_and_namespace_and_comments_are_dropped():
    root = parse_xml(
        b'<a xmlns:x="urn:one" xmlns:y="urn:two"><!-- note -->'
        b"<x:b><y:c> hi\n there </y:c></x:b></a>"
    )
    assert [local_name(child) for child in root] == ["b"]
    assert text_at(root, "b", "c") == "hi there"
    assert find(root, "b", "missing") is None
    assert find_descendant(root, "c") is find(root, "b", "c")


# ---------------------------------------------------------------- real: DOL NuAxis order (1.4)


def test_real_dol_order_base_action_field_by_field():
    parsed = parse(shared("atom_piid_DOLOPS15T00043.xml"))
    assert parsed.problems == []
    assert parsed.drift == []
    assert fpds.next_link(parse_xml(shared("atom_piid_DOLOPS15T00043.xml"))) == ""
    base, _ = parsed.records
    assert base.source == "fpds"
    assert base.external_id == "1605:DOLOPS15T00043:0:0:DOLOPS14D0002"
    assert base.kind == "award"
    assert base.match_key == "contract:1605:DOLOPS15T00043:0:DOLOPS14D0002"
    assert base.date == dt.date(2015, 1, 12)
    assert base.amount == Decimal("62190.40")
    assert base.currency == "USD"
    assert base.title == (
        "New DELIVERY ORDER DOLOPS15T00043 awarded to NUAXIS LLC for the amount of $62,190.4"
    )
    assert base.summary == (
        "IGF::OT::IGF NEW ENTERPRISE SERVICE DESK TASK ORDER (#4) FOR REGIONAL SUPPORT"
    )
    assert base.url.startswith("https://www.fpds.gov/ezsearch/search.do?s=FPDS&indexName=awardfull")
    assert [chain(a) for a in base.agencies] == [
        [
            ("LABOR, DEPARTMENT OF", "1600", "fpds_department", "buyer"),
            (
                "OFFICE OF THE ASSISTANT SECRETARY FOR ADMIN AND MANAGEMENT",
                "1605",
                "subtier",
                "buyer",
            ),
        ]
    ]
    assert base.agencies[0].level == "federal"
    (vendor,) = base.vendors
    assert (vendor.name, vendor.uei, vendor.duns, vendor.cage) == (
        "NUAXIS LLC",
        "",
        "130477032",
        "",
    )
    assert (vendor.parent_name, vendor.parent_uei, vendor.parent_duns) == (
        "NUAXIS LLC",
        "",
        "130477032",
    )
    assert base.codes == {"naics": "541519", "psc": "D399"}
    assert base.extra["contract_action_type_description"] == "DELIVERY ORDER"
    assert base.extra["last_modified_date"] == "2015-01-14 12:01:43"
    assert base.extra["total_obligated_amount"] == "189480.72"
    assert base.extra["contracting_office_id"] == "ACBBD"
    assert base.extra["ref_idv_piid"] == "DOLOPS14D0002"
    assert "solicitation_id" not in base.extra  # the 1.4 record has none
    assert base.raw["piid"] == "DOLOPS15T00043"
    assert base.raw["schema_version"] == "1.4"
    assert "DOLOPS15T00043" in base.raw["xml"]
    json.dumps(base.raw)


def test_real_dol_order_modification():
    _, mod = parse(shared("atom_piid_DOLOPS15T00043.xml")).records
    assert mod.external_id == "1605:DOLOPS15T00043:1:0:DOLOPS14D0002"
    assert mod.kind == "modification"
    assert mod.match_key == "contract:1605:DOLOPS15T00043:1:DOLOPS14D0002"
    assert mod.date == dt.date(2015, 2, 12)
    assert mod.amount == Decimal("127290.32")
    assert mod.extra["reason_for_modification"] == "FUNDING ONLY ACTION"
    assert mod.title.endswith("was modified for the amount of $127,290.32")


# ---------------------------------------------------------------- real: 2020-04-02 page (1.5.2)


def test_real_lastmod_page_parses_all_ten_entries_and_has_a_next_link():
    body = shared("atom_lastmod_2020-04-02_start0.xml")
    parsed = parse(body)
    assert parsed.problems == []
    assert parsed.drift == []
    assert len(parsed.records) == 10
    assert fpds.next_link(parse_xml(body)) == (
        "https://www.fpds.gov/ezsearch/FEEDS/ATOM?s=FPDS&FEEDNAME=PUBLIC&VERSION=1.5.2"
        "&q=LAST_MOD_DATE%3A%5B2020%2F04%2F02%2C2020%2F04%2F02%5D&start=10"
    )
    assert [r.kind for r in parsed.records] == ["award"] * 9 + ["modification"]
    assert len({r.external_id for r in parsed.records}) == 10


def test_real_lastmod_first_entry_uses_the_award_agency_id_not_the_office_agency():
    first = parse(shared("atom_lastmod_2020-04-02_start0.xml")).records[0]
    assert first.external_id == "9701:0001:0:0:N0017811D6668"
    assert first.match_key == "contract:9701:0001:0:N0017811D6668"
    assert first.date == dt.date(2011, 6, 28)
    assert first.amount == Decimal("2501.00")
    assert [chain(a) for a in first.agencies] == [
        [
            ("DEPT OF DEFENSE", "9700", "fpds_department", "buyer"),
            ("DEPT OF THE NAVY", "1700", "subtier", "buyer"),
        ]
    ]
    (vendor,) = first.vendors
    assert vendor.name == "SARAS AMERICA INC."
    assert (vendor.uei, vendor.duns, vendor.parent_uei) == (
        "J8CPXM4ELEB2",
        "044273592",
        "J8CPXM4ELEB2",
    )
    assert vendor.parent_name == "SARAS AMERICA INC."
    assert first.codes == {"naics": "541330", "psc": "AD25"}
    assert first.extra["solicitation_id"] == "N0017808R4001"
    assert first.extra["contracting_office_name"] == "NSWC DAHLGREN"
    assert first.summary == "SEAPORT ENHANCED"


def test_real_lastmod_cage_code_parent_and_modification():
    records = parse(shared("atom_lastmod_2020-04-02_start0.xml")).records
    aranea = records[3].vendors[0]
    assert (aranea.name, aranea.cage, aranea.uei) == (
        "ARANEA SOLUTIONS, INC.",
        "3CMK8",
        "YG55KE3JLZ97",
    )
    ntt = records[4].vendors[0]
    assert (ntt.parent_uei, ntt.parent_duns) == ("MBF8BNJR3AN9", "690626718")
    last = records[-1]
    assert last.external_id == "9700:0001:11:0:W91RUS15D0015"
    assert last.match_key == "contract:9700:0001:11:W91RUS15D0015"
    assert last.amount == Decimal("323256.60")
    assert last.date == dt.date(2020, 1, 3)
    assert last.extra["reason_for_modification"] == "FUNDING ONLY ACTION"
    assert last.vendors[0].name == "BY LIGHT, PROFESSIONAL IT SERVICES, INC."
    assert records[8].extra["contract_action_type_description"] == "BPA CALL"


# ---------------------------------------------------------------- own: ns0 prefix, IDV, negative


def test_own_page_one_award_idv_and_negative_modification():
    body = own("feed_surveillance_page1.xml")
    parsed = parse(body)
    assert parsed.problems == [] and parsed.drift == []
    award, idv, mod = parsed.records
    assert award.external_id == "7012:70CMSD21F00000123:0:0:GS35F0119Y"
    assert award.match_key == "contract:7012:70CMSD21F00000123:0:GS35F0119Y"
    assert award.kind == "award"
    assert award.amount == Decimal("2035750.50")
    assert award.date == dt.date(2021, 3, 12)
    assert award.summary.startswith("CLOUD HOSTING AND FACE RECOGNITION (AMAZON REKOGNITION)")
    assert award.codes == {"naics": "518210", "psc": "DB10"}
    (aws,) = award.vendors
    assert (aws.name, aws.uei, aws.duns, aws.cage) == (
        "AMAZON WEB SERVICES, INC.",
        "RV56EEQKQ4Y5",
        "965137223",
        "66AJ3",
    )
    assert (aws.parent_name, aws.parent_uei, aws.parent_duns) == (
        "AMAZON.COM, INC.",
        "LMJ4NU8CXAE1",
        "884745530",
    )
    assert len(award.agencies) == 1  # the funder is the buyer itself

    assert idv.external_id == "IDV:7014:70B02C22A00000010:0"
    assert idv.match_key == "idv:7014:70B02C22A00000010:0"
    assert idv.kind == "award"
    assert idv.amount == Decimal("0.00")
    assert idv.date == dt.date(2023, 9, 27)
    assert idv.extra["document_type"] == "IDV"
    assert idv.vendors[0].cage == "0Z4P1"
    assert idv.agencies[0].code == "7014"

    assert mod.kind == "modification"
    assert mod.external_id == "7012:70CMSD21F00000123:P00002:0:GS35F0119Y"
    assert mod.match_key == "contract:7012:70CMSD21F00000123:P00002:GS35F0119Y"
    assert mod.amount == Decimal("-48250.00")
    assert mod.extra["reason_for_modification"] == "CLOSE OUT"
    assert mod.extra["total_obligated_amount"] == "1987500.50"
    assert fpds.next_link(parse_xml(body)).endswith("&start=10")


def test_own_page_two_has_no_next_link_and_a_separate_funder():
    body = own("feed_surveillance_page2.xml")
    (order,) = parse(body).records
    assert fpds.next_link(parse_xml(body)) == ""
    assert order.match_key == "contract:7014:70B02C23F00000451:0:70B02C22A00000010"
    assert [(a.code, a.role) for a in order.agencies] == [("7014", "buyer"), ("7067", "funder")]
    assert order.agencies[1].name == "SCIENCE AND TECHNOLOGY DIRECTORATE"
    assert order.agencies[1].parent.code == "7000"


# ---------------------------------------------------------------- bad entries inside a good page


def entry_feed(*entries: str) -> bytes:
    body = "".join(
        f"<entry><title>t{i}</title><content>{e}</content></entry>" for i, e in enumerate(entries)
    )
    return f'<feed xmlns="http://www.w3.org/2005/Atom">{body}</feed>'.encode()


def award(
    piid: str = "<n:PIID>70CMSD24C00000001</n:PIID>",
    amount: str = "100.00",
    signed: str = "2024-01-02 00:00:00",
) -> str:
    return (
        '<n:award xmlns:n="https://www.fpds.gov/FPDS"><n:awardID><n:awardContractID>'
        f'<n:agencyID name="ICE">7012</n:agencyID>{piid}<n:modNumber>0</n:modNumber>'
        "</n:awardContractID></n:awardID>"
        f"<n:relevantContractDates><n:signedDate>{signed}</n:signedDate></n:relevantContractDates>"
        f"<n:dollarValues><n:obligatedAmount>{amount}</n:obligatedAmount></n:dollarValues></n:award>"
    )


def test_entry_without_piid_is_a_problem_and_the_rest_parse():
    parsed = parse(entry_feed(award(piid=""), award()))
    assert parsed.problems == ["entry 1: no PIID"]
    assert [r.external_id for r in parsed.records] == ["7012:70CMSD24C00000001:0:0:-NONE-"]
    assert parsed.records[0].match_key == "contract:7012:70CMSD24C00000001:0:-NONE-"


BAD_ID = "7012:70CMSD24C00000001:0:0:-NONE-"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            award(amount="abc"),
            f"{BAD_ID}: obligatedAmount is not a number: 'abc'",
        ),
        (
            award(amount="NaN"),
            f"{BAD_ID}: obligatedAmount is not a plausible amount: 'NaN'",
        ),
        (
            award(amount="1E+999999"),
            f"{BAD_ID}: obligatedAmount is not a plausible amount: '1E+999999'",
        ),
        (
            award(signed="yesterday"),
            f"{BAD_ID}: signedDate is not a date: 'yesterday'",
        ),
        ("<p>no award here</p>", "no FPDS award or IDV in <content>"),
    ],
)
def test_bad_values_are_problems_naming_the_entry(entry, problem):
    parsed = parse(entry_feed(entry, award()))
    assert parsed.problems == [f"entry 1: {problem}"]
    assert len(parsed.records) == 1


def test_unknown_fpds_namespace_parses_with_a_drift_note():
    entry = award().replace("https://www.fpds.gov/FPDS", "https://www.fpds.gov/FPDS/v2")
    parsed = parse(entry_feed(entry))
    assert len(parsed.records) == 1
    assert parsed.drift == ["FPDS content in unexpected namespace 'https://www.fpds.gov/FPDS/v2'"]


def test_raw_xml_is_capped():
    long_description = "<n:contractData><n:descriptionOfContractRequirement>" + "X " * 20000
    entry = award().replace(
        "</n:award>",
        long_description + "</n:descriptionOfContractRequirement></n:contractData></n:award>",
    )
    (record,) = parse(entry_feed(entry)).records
    assert len(record.raw["xml"]) == fpds.RAW_XML_LIMIT


# ---------------------------------------------------------------- match keys


def test_match_keys_normalise_case_spaces_and_missing_parts():
    assert fpds.contract_match_key("7012", " 70cmsd21f00000123 ", "", "") == (
        "contract:7012:70CMSD21F00000123:0:-NONE-"
    )
    assert fpds.idv_match_key("4732", "gs35f0119y") == "idv:4732:GS35F0119Y:0"


# ---------------------------------------------------------------- fetch over loopback


def client_for(server: ScriptedServer) -> HttpClient:
    return HttpClient(
        trusted_hosts=[server.host], min_interval=0, backoff_base=0.01, sleep=lambda s: None
    )


def page_pointing_at(server: ScriptedServer, name: str) -> bytes:
    return own(name).replace(REAL_HOST.encode(), server.url("").rstrip("/").encode())


def test_fetch_follows_next_links_across_two_pages():
    with ScriptedServer() as server:
        server.add(
            FEED_PATH,
            Reply(body=page_pointing_at(server, "feed_surveillance_page1.xml")),
            Reply(body=own("feed_surveillance_page2.xml")),
        )
        query = Query(
            since=dt.date(2023, 9, 28), until=dt.date(2023, 9, 28), keywords=("face recognition",)
        )
        pages = list(fpds.fetch(client_for(server), query, base_url=server.url(FEED_PATH)))
        first, second = server.requests_to(FEED_PATH)
    assert len(pages) == 2
    assert first.query == {
        "FEEDNAME": "PUBLIC",
        "VERSION": "1.5.3",
        "s": "FPDS",
        "q": 'LAST_MOD_DATE:[2023/09/28,2023/09/28] DESCRIPTION_OF_REQUIREMENT:"face recognition"',
    }
    assert second.query["start"] == "10"
    assert [len(fpds.parse(p).records) for p in pages] == [3, 1]
    assert pages[0].meta["q"] == first.query["q"]


def test_fetch_runs_one_series_per_keyword_and_psc_code_over_the_range():
    with ScriptedServer() as server:
        server.add(FEED_PATH, Reply(body=own("feed_surveillance_page2.xml")))
        query = Query(
            since=dt.date(2024, 1, 1),
            until=dt.date(2024, 1, 7),
            keywords=("license plate reader", 'face "recognition"'),
            psc_codes=("6350",),
        )
        pages = list(fpds.fetch(client_for(server), query, base_url=server.url(FEED_PATH)))
        queries = [r.query["q"] for r in server.requests_to(FEED_PATH)]
    assert len(pages) == 3
    assert queries == [
        'LAST_MOD_DATE:[2024/01/01,2024/01/07] DESCRIPTION_OF_REQUIREMENT:"license plate reader"',
        'LAST_MOD_DATE:[2024/01/01,2024/01/07] DESCRIPTION_OF_REQUIREMENT:"face recognition"',
        'LAST_MOD_DATE:[2024/01/01,2024/01/07] PRODUCT_OR_SERVICE_CODE:"6350"',
    ]


def test_fetch_defaults_to_yesterday_and_respects_max_pages():
    with ScriptedServer() as server:
        server.add(FEED_PATH, Reply(body=page_pointing_at(server, "feed_surveillance_page1.xml")))
        pages = list(
            fpds.fetch(
                client_for(server),
                Query(max_pages=1),
                base_url=server.url(FEED_PATH),
                today=dt.date(2024, 3, 1),
            )
        )
        (request,) = server.requests_to(FEED_PATH)
    assert len(pages) == 1
    assert request.query["q"] == "LAST_MOD_DATE:[2024/02/29,2024/02/29]"


def test_fetch_does_not_follow_a_next_link_to_another_host():
    with ScriptedServer() as server:
        server.add(
            FEED_PATH, Reply(body=own("feed_surveillance_page1.xml"))
        )  # next -> www.fpds.gov
        pages = list(fpds.fetch(client_for(server), Query(), base_url=server.url(FEED_PATH)))
        assert len(server.requests) == 1
    assert len(pages) == 1


def test_fetch_stops_at_a_broken_page_and_yields_it_for_parse_to_report():
    with ScriptedServer() as server:
        server.add(FEED_PATH, Reply(body=b"<feed><entry>"))
        pages = list(fpds.fetch(client_for(server), Query(), base_url=server.url(FEED_PATH)))
    assert len(pages) == 1
    with pytest.raises(ParseError):
        fpds.parse(pages[0])


def test_fetch_retries_a_500_then_succeeds():
    with ScriptedServer() as server:
        server.add(
            FEED_PATH,
            Reply(status=500, body=b"oops"),
            Reply(body=own("feed_surveillance_page2.xml")),
        )
        pages = list(fpds.fetch(client_for(server), Query(), base_url=server.url(FEED_PATH)))
        assert len(server.requests_to(FEED_PATH)) == 2
    assert len(pages) == 1
    assert (
        fpds.parse(pages[0]).records[0].external_id
        == "7014:70B02C23F00000451:0:0:70B02C22A00000010"
    )


# ---------------------------------------------------------------- the feed has gone


def fetch_once(server: ScriptedServer, client: HttpClient | None = None) -> list[Page]:
    query = Query(since=dt.date(2026, 3, 2), until=dt.date(2026, 3, 2))
    return list(fpds.fetch(client or client_for(server), query, base_url=server.url(FEED_PATH)))


@pytest.mark.parametrize("status", [404, 410])
def test_a_feed_answering_404_or_410_has_gone_in_one_line(status):
    with ScriptedServer() as server:
        server.add(FEED_PATH, Reply(status=status, body=b"Gone"))
        with pytest.raises(SourceUnavailable) as info:
            fetch_once(server)
    message = str(info.value)
    assert message.startswith(f"the FPDS ATOM feed has gone (HTTP {status} at http://")
    assert message.endswith("): use the sam_awards source")
    assert "\n" not in message


def test_a_redirect_to_another_host_means_the_feed_has_gone():
    with ScriptedServer() as server:
        elsewhere = f"localhost:{server.port}"
        server.add(FEED_PATH, Reply(status=301, headers={"Location": f"http://{elsewhere}/news"}))
        server.add("/news", Reply(body=b"<feed xmlns='http://www.w3.org/2005/Atom'/>"))
        client = HttpClient(
            trusted_hosts=[server.host, elsewhere], min_interval=0, sleep=lambda s: None
        )
        with pytest.raises(SourceUnavailable) as info:
            fetch_once(server, client)
    assert str(info.value) == (
        f"the FPDS ATOM feed has gone (redirected from {server.host} to {elsewhere}):"
        " use the sam_awards source"
    )


def test_an_html_page_instead_of_atom_means_the_feed_has_gone():
    page = b"<!DOCTYPE html><html><body>FPDS has moved to SAM.gov</body></html>"
    with ScriptedServer() as server:
        server.add(FEED_PATH, Reply(body=page, headers={"Content-Type": "text/html"}))
        with pytest.raises(SourceUnavailable, match=r"an HTML page instead of ATOM at http://"):
            fetch_once(server)


def test_a_500_is_still_an_outage_not_a_retirement():
    with ScriptedServer() as server:
        server.add(FEED_PATH, Reply(status=503))
        client = HttpClient(
            trusted_hosts=[server.host], min_interval=0, max_retries=0, sleep=lambda s: None
        )
        with pytest.raises(SourceUnavailable) as info:
            fetch_once(server, client)
    assert "has gone" not in str(info.value)


def test_terms_are_not_crossed_with_buying_units():
    """Agency sweeps run where agencies can be ORed; here each would multiply the series."""
    query = Query(keywords=("drone",), psc_codes=("1550",), agency_codes=("7012", "7014"))
    assert fpds._terms(query) == [
        'DESCRIPTION_OF_REQUIREMENT:"drone"',
        'PRODUCT_OR_SERVICE_CODE:"1550"',
    ]
