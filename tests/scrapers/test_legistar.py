"""Legistar parsing, offline: the real responses in ../shared/fixtures/legistar (shapes, quirks;
they hold no surveillance item) and our invented samples in tests/fixtures/legistar/replay."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from scrapers import legistar
from scrapers.base import Page, ParseError, Query, replay_pages
from scrapers.legistar_parse import (
    actions,
    agenda_matter_ids,
    grant_programmes,
    matter_kind,
    matter_record,
    named_counterparties,
    stated_amount,
)


@pytest.fixture
def real(shared_fixtures):
    folder = shared_fixtures / "legistar"
    if not folder.is_dir():
        pytest.skip(f"real Legistar fixtures not available: {folder} is absent")
    return folder


def page(folder, name, client="nyc"):
    url = f"https://webapi.legistar.com/v1/{client}/{name}"
    return Page(url=url, body=(folder / name).read_bytes())


def load(folder, name):
    return json.loads((folder / name).read_text("utf-8"))


@pytest.fixture
def samples(own_fixtures):
    return {p.url: p for p in replay_pages([own_fixtures / "legistar" / "replay"])}


def sample_records(samples):
    return {r.external_id: r for p in samples.values() for r in legistar.parse(p).records}


# ------------------------------------------------------------------ real responses


def test_real_nyc_matters_parse_field_by_field(real):
    parsed = legistar.parse(
        page(real, "nyc_matters_filter_type2_status35_intro-ge-2022_top10.json")
    )
    assert (parsed.problems, parsed.drift) == ([], [])
    assert len(parsed.records) == 10
    first = parsed.records[0]
    assert first.source == "legistar" and first.external_id == "nyc:64960"
    assert first.url == (
        "https://nyc.legistar.com/LegislationDetail.aspx?ID=64960"
        "&GUID=7BCF4A99-0E16-44C0-82B9-378619848E1B"
    )
    assert first.date == dt.date(2023, 10, 15)  # MatterPassedDate: the passing action
    assert first.extra["file"] == "Int 0760-2022" and first.extra["status"] == "Enacted"
    assert first.extra["outcome"] == "passed"
    # A local law amending the code buys nothing: not an award, no amount, no vendor.
    assert {r.kind for r in parsed.records} == {"other"}
    assert all(r.amount is None and not r.vendors for r in parsed.records)
    assert "\\rtf" not in first.text  # MatterNotes hold RTF source


def test_real_single_matter_is_the_same_record_as_in_a_list(real):
    single = legistar.parse(page(real, "nyc_matter-17071.json")).records
    listed = legistar.parse(page(real, "nyc_matters_top10_skip0.json")).records
    assert [r.external_id for r in single] == ["nyc:17071"]
    assert single[0].external_id in {r.external_id for r in listed}


def test_real_histories_give_the_deciding_action(real):
    matter = load(real, "nyc_matter-17071.json")
    record = matter_record("nyc", matter, histories=load(real, "nyc_matter-17071_histories.json"))
    assert record.extra["outcome"] == "passed"
    assert record.extra["actions"][-1]["action"] == "Approved by Council"
    assert record.date == dt.date(1998, 1, 7)


def test_real_duplicate_history_rows_count_once(real):
    dupes = actions(load(real, "chicago_matter-38768_histories.json"))
    clean = actions(load(real, "chicago_matter-38769_histories.json"))
    assert len(load(real, "chicago_matter-38768_histories.json")) == 4
    assert len(dupes) == 3 == len(clean)
    assert [a["action"] for a in dupes].count("Passed") == 1


def test_real_attachments_are_sources_in_the_clerks_order(real):
    rows = load(real, "metro_matter-10881_attachments.json")
    record = matter_record(
        "metro", load(real, "metro_matters_minutes-search_1.json")[0], attachments=rows
    )
    files = record.extra["attachments"]
    assert len(files) == 4
    assert all(f["url"].startswith("https://metro.legistar1.com/metro/attachments/") for f in files)
    first = min(rows, key=lambda r: r["MatterAttachmentSort"])
    assert files[0]["name"] == first["MatterAttachmentName"]


def test_real_events_and_agenda_items_give_no_records_but_lead_to_matters(real):
    events = legistar.parse(page(real, "oakland_events_unfiltered_first1000.json", "oakland"))
    assert (events.records, events.problems, events.drift) == ([], [], [])
    agenda = page(real, "oakland_event-8172_eventitems_public-safety-2019-04-23.json", "oakland")
    assert legistar.parse(agenda).records == []
    ids = agenda_matter_ids(agenda)
    assert len(ids) == len(set(ids)) >= 7
    assert "30070" in ids  # 18-1646; procedural lines without a matter are left out
    assert legistar.parse(page(real, "nyc_event-7.json")).records == []


def test_real_grant_titles_name_the_federal_programme_but_not_the_state_cops_grant(real):
    items = load(real, "oakland_event-8172_eventitems_public-safety-2019-04-23.json")
    titles = {
        i["EventItemMatterFile"]: i["EventItemTitle"] for i in items if i["EventItemMatterId"]
    }
    jag = grant_programmes(titles["18-1630"])
    assert [(p[0], p[2].acronym) for p in jag] == [("16.738", "DOJ")]
    # California's "State COPS" grant is not the DOJ's COPS programme.
    assert grant_programmes(titles["18-1634"]) == []
    # A bearcat and trauma plates are a grant acceptance (an award), with no tracked vendor.
    assert matter_kind(titles["18-1634"]) == "award"


def test_real_composite_contract_award_names_the_low_bidder(real):
    """The San José file is a composite (see its README row): its nested matters only."""
    composite = load(real, "sanjose_COMPOSITE_event-1080_items-matters-attachments.json")
    matters = [i["Matter"] for i in composite[0]["items"] if isinstance(i.get("Matter"), dict)]
    award = next(m for m in matters if m["MatterFile"] == "17-037")
    assert matter_record("sanjose", award).kind == "award"
    # The bidder is named in the agenda item's action text only.
    action = next(
        i["EventItemActionText"]
        for i in composite[0]["items"]
        if isinstance(i.get("Matter"), dict) and i["Matter"]["MatterFile"] == "17-037"
    )
    assert named_counterparties(action) == ["Cratus, Inc."]
    assert stated_amount(action) == Decimal("1127268")


def test_real_traffic_surveillance_index_term_is_fetched_not_bought(real):
    """ "Automated Traffic Surveillance and Control System" carries "surveillance": the
    ordinance sweep asks for it, and nothing in it buys or names surveillance technology."""
    term = next(r["IndexName"] for r in load(real, "metro_indexes_all.json") if r["IndexId"] == 398)
    assert "SURVEILLANCE" in term
    assert matter_kind(term) == "other" and stated_amount(term) is None
    assert named_counterparties(term) == []


@pytest.mark.parametrize(
    "name", ["nyc_bodies_top50.json", "metro_indexes_all.json", "nyc_mattertypes.json"]
)
def test_pages_we_never_ask_for_are_refused(real, name):
    with pytest.raises(ParseError):
        legistar.parse(page(real, name))


# ------------------------------------------------------------------ our samples


def test_samples_give_award_solicitation_report_and_a_false_positive(samples):
    records = sample_records(samples)
    assert {k: r.kind for k, r in records.items()} == {
        "oakland:990101": "award",
        "oakland:990102": "solicitation",
        "oakland:990103": "report",
        "oakland:990104": "award",
        "oakland:990105": "award",
        "oakland:990106": "other",
        "oakland:990107": "award",
    }


def test_sample_flock_award_field_by_field(samples):
    flock = sample_records(samples)["oakland:990101"]
    assert flock.date == dt.date(2026, 2, 17)  # the council's adoption, not the committee's
    assert flock.amount == Decimal("1250000")
    assert [v.name for v in flock.vendors] == ["Flock Group, Inc."]
    assert [(a.name, a.role, a.parent.name if a.parent else "") for a in flock.agencies] == [
        ("City of Oakland", "buyer", "State of California"),
        ("Oakland Police Department", "buyer", "City of Oakland"),
    ]
    assert flock.url.startswith("https://oakland.legistar.com/LegislationDetail.aspx?ID=990101&")
    assert [f["name"] for f in flock.extra["attachments"]] == [
        "View Report",
        "Surveillance Impact Report - Automated License Plate Readers",
        "Legislation",
    ]
    assert "Surveillance Impact Report" in flock.text
    assert flock.summary.startswith("Approved (City Council, 2026-02-17: Adopted).")
    assert [a["body"] for a in flock.extra["actions"]] == [
        "Public Safety Committee",
        "City Council",
    ]


def test_sample_grant_acceptance_names_the_dhs_programme(samples):
    grant = sample_records(samples)["oakland:990104"]
    assert grant.amount == Decimal("480000")
    assert grant.extra["assistance_listings"] == ["97.067"]
    funders = [(a.name, a.role) for a in grant.agencies if a.role == "funder"]
    assert funders == [("Department of Homeland Security", "funder")]
    assert "Homeland Security Grant Program (97.067)" in grant.summary


def test_sample_failed_renewal_says_so(samples):
    failed = sample_records(samples)["oakland:990105"]
    assert failed.extra["outcome"] == "failed"
    assert failed.summary.startswith("Failed (City Council, 2026-02-17: Failed).")
    assert failed.date == dt.date(2026, 2, 17)


def test_a_received_report_is_not_a_withdrawal(samples):
    report = sample_records(samples)["oakland:990103"]
    assert report.extra["outcome"] == "passed"


def test_the_same_matter_on_an_agenda_and_in_the_sweep_is_one_record(samples):
    agenda = next(p for p in samples.values() if "eventitems" in p.url)
    assert agenda_matter_ids(agenda) == ["990107", "990101"]
    assert legistar.parse(agenda).records == []


@pytest.mark.parametrize(
    ("title", "amount"),
    [
        ("Contract With X, Inc. In An Amount Not To Exceed $1,250,000", Decimal("1250000")),
        ("Agreement, NTE $95,000.50, for cameras", Decimal("95000.50")),
        ("Purchase of drones for $1.2 million", Decimal("1200000")),
        ("JAG grants of $535,324 and $473,992", None),
        ("Purchase of one drone", None),
    ],
)
def test_stated_amount(title, amount):
    assert stated_amount(title) == amount


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Issue A Request For Proposals For Body-Worn Cameras", "solicitation"),
        ("Award Of Contract Pursuant To RFP No. 12 To Axon Enterprise, Inc.", "award"),
        ("Surveillance Impact Report And Use Policy For Drones", "report"),
        ("Approve The Surveillance Impact Report And Purchase Of Drones", "award"),
        ("Accept And Appropriate JAG Grant Funds", "award"),
        ("A Local Law to amend the administrative code", "other"),
    ],
)
def test_matter_kind(title, kind):
    assert matter_kind(title) == kind


def test_counterparties_stop_at_the_connecting_word():
    title = "Agreement With The County Of Alameda And Motorola Solutions, Inc. For Radios"
    assert named_counterparties(title) == ["Motorola Solutions, Inc."]
    assert named_counterparties("contract with Fusus, LLC for a real time crime center") == [
        "Fusus, LLC"
    ]


def test_search_terms_drop_legal_forms_repeats_short_and_covered_terms():
    query = Query(
        keywords=("license plate reader", "LPR", "drone", "drones"),
        vendor_names=("Flock Group Inc.", "Flock Safety", "Flock"),
        unit_vendor_names=("Axon Enterprise, Inc.",),
    )
    terms = legistar.search_terms(query)
    assert terms == (
        "Axon Enterprise",
        "CCOPS",
        "drone",
        "Flock",
        "license plate reader",
        "surveillance",
    )


def test_title_filters_batch_terms_under_the_query_limit():
    terms = tuple(f"term number {n:03d}" for n in range(120))
    filters = legistar.title_filters(terms, dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    assert len(filters) > 1
    assert all(
        f.startswith(
            "MatterLastModifiedUtc ge datetime'2026-01-01' and "
            "MatterLastModifiedUtc lt datetime'2026-01-02' and ("
        )
        for f in filters
    )
    assert sum(f.count("substringof(") for f in filters) == 120
    assert legistar.title_filters(("Sheriff's",), dt.date(2026, 1, 1), dt.date(2026, 1, 1))[
        0
    ].endswith("(substringof('Sheriff''s', MatterTitle))")
