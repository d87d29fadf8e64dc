"""EFF Atlas of Surveillance: the CSV export field by field, drift, and refusing error pages."""

import datetime as dt
import json

import pytest

from scrapers import atlas
from scrapers.base import AgencyRef, Page, ParseError, Query, VendorRef
from tests.support.server import Reply


def parse_file(path):
    return atlas.parse(Page(url="file:///replay/atlas.csv", body=path.read_bytes()))


def test_real_prefix(shared_fixtures):
    parsed = parse_file(shared_fixtures / "atlas" / "atlas_of_surveillance_prefix_30rows.csv")
    assert (len(parsed.records), parsed.problems, parsed.drift) == (30, [], [])
    ids = [r.external_id for r in parsed.records]
    assert ids[0] == "AOS000001"
    assert "AOS000007" not in ids  # absent in the source too
    first = parsed.records[0]
    assert first.source == "atlas"
    assert first.kind == "report"
    assert first.title == "Woodstock Police Department uses Body-worn Cameras"
    assert (
        first.summary
        == "The Woodstock Police Department has used body-worn cameras since at least 2012."
    )
    assert first.text == first.summary
    assert (first.date, first.date_precision) == (dt.date(2012, 12, 27), "day")
    assert first.url == (
        "https://www.vrsa.us/body-camera-footage-corroborates-police-accounts-in-woodstock-shooting/"
    )
    assert first.agencies == [
        AgencyRef(
            name="Woodstock Police Department",
            role="buyer",
            level="local",
            country="US",
            state="VA",
            place="Woodstock",
            agency_type="Police",
        )
    ]
    assert first.vendors == [VendorRef(name="VML Insurance Programs")]
    assert first.technology_hints == ["Body-worn Cameras"]
    assert first.extra == {
        "links": [
            {
                "url": first.url,
                "snapshot": "",
                "source": "Virgina Risk Sharing Association",
                "type": "",
                "date": "12/27/2012",
            }
        ],
        "county": "Shenandoah County",
        "jurisdiction_type": "Municipal",
        "ori9": "VA0850300BWC",
        "credit": "EFF Atlas of Surveillance (CC BY 4.0)",
    }
    assert first.raw["AOSNUMBER"] == "AOS000001"
    json.dumps([r.raw for r in parsed.records])
    by_id = {r.external_id: r for r in parsed.records}
    # Three links: the earliest date wins (03/01/2015, not 12/13/2019).
    assert by_id["AOS000004"].date == dt.date(2015, 3, 1)
    assert len(by_id["AOS000004"].extra["links"]) == 3
    assert (by_id["AOS000013"].date, by_id["AOS000013"].date_precision) == (
        dt.date(2016, 1, 1),
        "year",
    )
    assert by_id["AOS000009"].vendors == []


def test_quoted_header_multi_vendor_and_bad_rows(own_fixtures):
    parsed = parse_file(own_fixtures / "atlas" / "atlas_quoted_header.csv")
    assert parsed.problems == ["line 4: row AOS900003: no Agency", "line 5: row has no AOSNUMBER"]
    assert parsed.drift == ["new column 'Last Updated'"]
    el_paso, arizona = parsed.records
    assert el_paso.external_id == "AOS900001"
    assert [v.name for v in el_paso.vendors] == [
        "Motorola Solutions, Inc.",
        "Flock Safety",
        "Vigilant Solutions",
    ]
    # "2018" on the second link is the earliest year; year precision says how much is known.
    assert (el_paso.date, el_paso.date_precision) == (dt.date(2018, 1, 1), "year")
    assert el_paso.url == "https://news.example.org/el-paso-alpr"
    assert [link["url"] for link in el_paso.extra["links"]] == [
        "https://news.example.org/el-paso-alpr",
        "",  # the javascript: link is dropped, its source kept
        "https://records.example.gov/elpaso-alpr.pdf",
        "https://council.example.gov/minutes.pdf",
    ]
    assert el_paso.extra["links"][0]["snapshot"].startswith("https://web.archive.org/")
    assert arizona.agencies[0].level == "state"
    assert arizona.agencies[0].agency_type == "State Police"
    assert arizona.url == "https://atlasofsurveillance.org/"
    assert (arizona.date, arizona.date_precision) == (dt.date(2016, 1, 1), "year")


def test_missing_optional_columns_are_drift_not_failure():
    body = b"AOSNUMBER,Agency,Technology\r\nAOS1,Tucson Police Department,Drones\r\n"
    parsed = atlas.parse(Page(url="x", body=body))
    assert parsed.records[0].title == "Tucson Police Department uses Drones"
    assert parsed.records[0].date is None
    assert "column 'Vendor' missing" in parsed.drift
    assert "column 'Technology' missing" not in parsed.drift


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12/27/2012", (dt.date(2012, 12, 27), "day")),
        ("4/20/2016", (dt.date(2016, 4, 20), "day")),
        ("2016", (dt.date(2016, 1, 1), "year")),
        ("6/2019", (dt.date(2019, 6, 1), "month")),
        ("2019-06-03", (dt.date(2019, 6, 3), "day")),
        ("", None),
        ("13/45/2016", None),
        ("sometime", None),
    ],
)
def test_atlas_dates(value, expected):
    assert atlas.atlas_date(value) == expected


def test_vendor_split():
    assert atlas.split_vendors("Axon/Taser; Cellebrite and Grayshift, LLC") == [
        "Axon",
        "Taser",
        "Cellebrite",
        "Grayshift, LLC",
    ]
    assert atlas.split_vendors("") == []


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body>Service unavailable</body></html>",
        b'"Agency","AOSNUMBER"\r\n',
        b"",
        b"AOSNUMBER,City\r\nAOS1,Tucson\r\n",  # no Agency column
    ],
)
def test_not_the_csv_raises_parse_error(body):
    with pytest.raises(ParseError):
        atlas.parse(Page(url="x", body=body))


def test_hostile_cells_are_cleaned():
    body = b'AOSNUMBER,Agency,Summary\r\nAOS1,"Tucson\x00 PD","a &amp; b\x07 \xe9t\xe9"\r\n'
    record = atlas.parse(Page(url="x", body=body)).records[0]
    assert record.agencies[0].name == "Tucson PD"
    assert record.summary == "a & b été"
    assert "\x00" not in json.dumps(record.raw)


# --- fetch -------------------------------------------------------------------------------


def test_fetch_html_error_page_then_parse_refuses_it(server, http_client):
    server.add("/download.csv", Reply(body=b"<html><body>Too many requests</body></html>"))
    pages = list(atlas.fetch(http_client, Query(), url=server.url("/download.csv")))
    assert len(pages) == 1
    assert pages[0].meta == {"kind": "csv"}
    with pytest.raises(ParseError, match="AOSNUMBER"):
        atlas.parse(pages[0])


def test_fetch_real_csv(server, http_client, own_fixtures):
    body = (own_fixtures / "atlas" / "atlas_quoted_header.csv").read_bytes()
    server.add(
        "/download.csv", Reply(body=body, headers={"Content-Type": "text/csv; charset=utf-8"})
    )
    (page,) = atlas.fetch(http_client, Query(), url=server.url("/download.csv"))
    assert [r.external_id for r in atlas.parse(page).records] == ["AOS900001", "AOS900002"]
