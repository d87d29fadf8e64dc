"""CSV and JSON Lines exports: the same rows as the timeline, safe cells, streamed in chunks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict, StreamingHttpResponse
from django.test import override_settings
from django.utils import timezone

from tests.export import factories as make
from tracker.exports import COLUMNS, export_rows
from tracker.exports.views import csv_filename
from tracker.models import Agency, Event, EventAgency, EventVendor, SourceRecord, Vendor
from tracker.selectors import EventFilters, event_search

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.export.urls_for_test")]


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def download(client, url: str) -> tuple[StreamingHttpResponse, str]:
    response = client.get(url)
    assert response.status_code == 200
    return response, b"".join(response.streaming_content).decode("utf-8-sig")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "agency=ice&technology=face-recognition",
        "agency=dhs",
        "vendor=amazon&kind=pitch&kind=meeting",
        "since=2018-06-10&order=oldest",
        "order=amount",
        "q=rekognition&agency=ice",
    ],
)
def test_csv_twin_has_the_timelines_rows_in_its_order(client, starter, query):
    ice = Agency.objects.get(slug="ice")
    for day in (1, 1, 2):  # equal dates, and an undated one below
        make.event(date=dt.date(2018, 6, day), agencies=[ice], amount="10.00")
    make.event(date=None, agencies=[ice])
    response, text = download(client, f"/events.csv?{query}")
    expected = list(
        event_search(EventFilters.from_params(QueryDict(query))).values_list("id", flat=True)
    )
    assert [int(row["id"]) for row in parse(text)] == expected
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    name = csv_filename(EventFilters.from_params(QueryDict(query)), timezone.localdate())
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert name.startswith("spyglass-events-") and name.endswith(f"{timezone.localdate()}.csv")


def test_header_row_and_values(client, settings):
    settings.SITE_URL = "https://spyglass.example"
    agency = make.agency("Zeta Police", acronym="ZPD")
    alpha = make.agency("Alpha Office")
    vendor = make.vendor("Vigilant Solutions, LLC")
    tech = make.technology("License plate readers")
    made = make.event(
        kind="award",
        date=dt.date(2021, 3, 4),
        title="ALPR award",
        amount="1234.50",
        agencies=[agency, alpha, (agency, "funder")],
        vendors=[vendor],
        technologies=[tech],
        sources=[
            ("usaspending", "B-2", "https://x.test/b"),
            ("fpds", "Z", ""),
            ("usaspending", "A-1", "https://x.test/a"),
        ],
    )
    _, text = download(client, "/events.csv")
    assert text.startswith(",".join(COLUMNS) + "\r\n")
    (row,) = parse(text)
    assert row == {
        "id": str(made.pk),
        "date": "2021-03-04",
        "date_precision": "day",
        "kind": "award",
        "title": "ALPR award",
        "summary": "",
        "amount": "1234.50",
        "currency": "USD",
        "agencies": "Alpha Office; Zeta Police",
        "agency_ids": f"{alpha.slug}; {agency.slug}",
        "vendors": "Vigilant Solutions, LLC",
        "vendor_ids": vendor.slug,
        "technologies": "License plate readers",
        "sources": "fpds; usaspending",
        "external_ids": "fpds:Z; usaspending:A-1; usaspending:B-2",
        "source_urls": "; https://x.test/a; https://x.test/b",
        "review_state": "auto",
        "url": f"https://spyglass.example/events/{made.pk}/",
        "outcome": "",
        "technology_evidence": "License plate readers: tagged by rule (no evidence recorded; "
        "run retag)",
    }


def test_agencies_with_the_same_name_are_ordered_by_id_with_ids_alongside(client):
    first, second = make.agency("Police"), make.agency("Police")
    make.event(agencies=[second, first])
    (row,) = parse(download(client, "/events.csv?all=1")[1])
    assert row["agencies"] == "Police; Police"
    assert row["agency_ids"] == f"{first.slug}; {second.slug}"


def test_hostile_cells_are_inert_and_numbers_stay_numbers(client):
    hostile = make.vendor('=HYPERLINK("http://x")')
    make.event(title="@SUM(1)", summary="-5 cameras", amount="-1234.50", vendors=[hostile])
    make.event(title="+1 555", summary="\tindented", date=dt.date(2019, 1, 1))
    make.event(title="\rreturn", summary="plain", date=dt.date(2018, 1, 1))
    rows = parse(download(client, "/events.csv?all=1")[1])
    assert rows[0]["vendors"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["title"] == "'@SUM(1)"
    assert rows[0]["summary"] == "'-5 cameras"
    assert rows[0]["amount"] == "-1234.50"
    assert Decimal(rows[0]["amount"]) == Decimal("-1234.50")
    assert rows[1]["title"] == "'+1 555" and rows[1]["summary"] == "'\tindented"
    assert rows[2]["title"] == "'\rreturn"


def test_rfc4180_quoting_of_commas_quotes_and_newlines(client):
    title = 'Cameras, "smart" ones\nand more'
    made = make.event(title=title, summary="ünïcödé — ok")
    response = client.get("/events.csv?all=1")
    raw = b"".join(response.streaming_content)
    assert b'"Cameras, ""smart"" ones\nand more"' in raw
    assert raw.count(b"\r\n") == 2  # header and one row; the embedded newline stays inside quotes
    (row,) = parse(raw.decode("utf-8-sig"))
    assert row["title"] == title and row["summary"] == "ünïcödé — ok" and row["id"] == str(made.pk)


def test_jsonl_has_the_same_keys_lists_and_exact_amounts():
    tech = make.technology("Drones")
    make.event(title="=not a formula here", amount="-0.10", technologies=[tech])
    lines = "".join(export_rows(EventFilters(), fmt="jsonl")).splitlines()
    (row,) = [json.loads(line) for line in lines]
    assert list(row) == list(COLUMNS)
    assert row["amount"] == "-0.10" and row["title"] == "=not a formula here"
    assert row["technologies"] == ["Drones"] and row["agencies"] == [] and row["outcome"] is None
    assert row["technology_evidence"] == "Drones: tagged by rule (no evidence recorded; run retag)"


def test_entity_csvs_filter_by_the_entity_and_keep_the_other_parameters(client, starter):
    _, text = download(client, "/agencies/ice/events.csv?kind=pitch")
    assert [row["kind"] for row in parse(text)] == ["pitch"]
    _, text = download(client, "/vendors/amazon/events.csv")
    assert len(parse(text)) == 3
    _, text = download(client, "/technologies/biometrics/events.csv?order=oldest")
    assert [row["date"] for row in parse(text)] == ["2018-06-01", "2018-06-15", "2018-07-26"]
    response, text = download(client, "/agencies/dhs/vendors/aws/events.csv")
    assert {row["kind"] for row in parse(text)} == {"pitch", "meeting"}
    name = f"spyglass-events-agency-dhs-vendor-aws-{timezone.localdate().isoformat()}.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert client.get("/agencies/nope/events.csv").status_code == 404
    assert client.get("/agencies/dhs/vendors/nope/events.csv").status_code == 404
    assert client.post("/events.csv").status_code == 405


def test_outcome_column_for_pitch_like_rows(client, starter):
    ice, hsi = Agency.objects.get(slug="ice"), Agency.objects.get(slug="hsi")
    amazon, aws = Vendor.objects.get(slug="amazon"), Vendor.objects.get(slug="aws")
    pitch, meeting, report = (
        str(Event.objects.get(match_key__contains=key).pk)
        for key in ("aws-pitch", "dhs-meeting", "aclu-rekognition")
    )
    make.event(kind="award", date=dt.date(2017, 1, 1), agencies=[ice], vendors=[aws])  # before

    def outcomes() -> dict[str, str]:
        return {row["id"]: row["outcome"] for row in parse(download(client, "/events.csv")[1])}

    found = outcomes()
    assert found[pitch].startswith("No contract found between ICE and Amazon.com as of ")
    assert found[meeting].startswith("No contract found between ICE and Amazon.com as of ")
    assert found[report] == ""  # a report has no outcome
    make.event(kind="award", date=dt.date(2019, 5, 1), agencies=[hsi], vendors=[amazon])
    make.event(
        kind="modification", date=dt.date(2018, 6, 1), agencies=[ice], vendors=[(aws, "awardee")]
    )
    found = outcomes()
    assert found[pitch].startswith("2 contract actions followed (as of ")
    # month precision: the June 1 modification follows the mid-June meeting; 2017 precedes both
    assert found[meeting].startswith("2 contract actions followed (as of ")


def test_outcome_when_nothing_is_linked():
    make.event(kind="lobbying", title="lonely")
    (row,) = [json.loads(line) for line in export_rows(EventFilters(all=True), fmt="jsonl")]
    assert row["outcome"] == "No agency and vendor are linked to this event yet."


def test_queries_are_bounded_per_chunk_not_per_row(django_assert_max_num_queries):
    agencies = [make.agency(f"Agency {i}", subtier_code=str(i)) for i in range(5)]
    vendors = [make.vendor(f"Vendor {i}") for i in range(5)]
    tech = make.technology("Cameras")
    events = Event.objects.bulk_create(
        Event(
            kind=("pitch", "award")[i % 2],
            title=f"e{i}",
            date=dt.date(2020, 1, 1 + i % 28),
            amount=Decimal(i),
        )
        for i in range(3000)
    )
    EventAgency.objects.bulk_create(
        EventAgency(event=e, agency=agencies[i % 5]) for i, e in enumerate(events)
    )
    EventVendor.objects.bulk_create(
        EventVendor(event=e, vendor=vendors[i % 3]) for i, e in enumerate(events)
    )
    Event.technologies.through.objects.bulk_create(
        Event.technologies.through(event=e, technology=tech) for e in events
    )
    SourceRecord.objects.bulk_create(
        SourceRecord(
            event=e,
            source="usaspending",
            external_id=str(e.pk),
            retrieved_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        )
        for e in events
    )
    filters = EventFilters()
    # 1 streamed event query, then per 2,000-row chunk 4 link queries and at most 4 outcome
    # queries (agencies twice, vendors, family names), plus 3 per 500 new (unit, family) pairs
    # (members, subtrees, actions); PostgreSQL sets and resets around each streamed read.
    streamed = 2 if connection.vendor == "postgresql" else 0
    with django_assert_max_num_queries(1 + 2 * (4 + 4) + 3 + 2 * streamed):
        rows = list(csv.reader(io.StringIO("".join(export_rows(filters)), newline="")))
    assert len(rows) == 3001
    assert all(row[COLUMNS.index("outcome")] for row in rows[1:] if row[3] == "pitch")


@override_settings(SITE_URL="https://example.org")
def test_export_rows_rejects_an_unknown_format():
    with pytest.raises(ValueError, match="unknown export format"):
        list(export_rows(EventFilters(), fmt="xlsx"))


def test_outcome_cells_match_the_outcome_service(starter):
    from tracker.services.outcomes import event_outcome

    ice, dhs = Agency.objects.get(slug="ice"), Agency.objects.get(slug="dhs")
    amazon, aws = Vendor.objects.get(slug="amazon"), Vendor.objects.get(slug="aws")
    palantir = Vendor.objects.get(slug="palantir")
    make.event(kind="award", date=dt.date(2018, 9, 1), agencies=[ice], vendors=[aws])
    make.event(kind="modification", date=None, agencies=[dhs], vendors=[amazon])
    make.event(kind="solicitation", date=dt.date(2018, 7, 1), agencies=[ice], vendors=[palantir])
    make.event(
        kind="lobbying",
        date=dt.date(2018, 1, 1),
        agencies=[dhs, ice],
        vendors=[(palantir, "client"), (aws, "intermediary")],
    )
    make.event(kind="pitch", date=None, agencies=[ice], vendors=[amazon])
    rows = [
        json.loads(line)
        for line in "".join(export_rows(EventFilters(all=True), fmt="jsonl")).splitlines()
    ]
    checked = 0
    for row in rows:
        outcome = event_outcome(Event.objects.get(pk=row["id"]))
        assert row["outcome"] == (outcome.message if outcome else None), row["title"]
        checked += outcome is not None
    assert checked == 5


def test_a_downloads_name_says_its_filters_and_day():
    filters = EventFilters(agency="ice", technology="face-recognition", kind=("award",))
    assert csv_filename(filters, dt.date(2026, 12, 3)) == (
        "spyglass-events-agency-ice-technology-face-recognition-kind-award-2026-12-03.csv"
    )
    searched = EventFilters(q='"Rekognition" OR "ID/100"', since=dt.date(2018, 1, 1))
    assert csv_filename(searched, dt.date(2026, 12, 3)) == (
        "spyglass-events-since-2018-01-01-search-rekognition-or-id100-2026-12-03.csv"
    )
