"""The importer: idempotent upserts, cross-source folding, resolution, failure isolation."""

import datetime as dt
from decimal import Decimal

import pytest

from scrapers.base import AgencyRef, Record, VendorRef
from tracker.models import Agency, Event, EventTechnology, SourceRecord, Vendor, VendorMatchFlag
from tracker.services.importer import Importer, records_import
from tracker.services.retag import events_retag

pytestmark = pytest.mark.django_db

ICE = AgencyRef(
    name="U.S. Immigration and Customs Enforcement",
    code="7012",
    code_type="subtier",
    parent=AgencyRef(name="Department of Homeland Security", code="070", code_type="toptier"),
)


def award(**changes) -> Record:
    values = dict(
        source="usaspending",
        external_id="CONT_AWD_70CMSD21F0000012_7012_-NONE-_-NONE-",
        kind="award",
        title="CLOUD HOSTING AND FACE RECOGNITION SERVICES",
        url="https://www.usaspending.gov/award/CONT_AWD_70CMSD21F0000012_7012_-NONE-_-NONE-",
        raw={"Award ID": "70CMSD21F0000012"},
        date=dt.date(2021, 3, 12),
        amount=Decimal("1987500.50"),
        agencies=[ICE],
        vendors=[VendorRef(name="AMAZON WEB SERVICES, INC.", uei="ABCDEFGHJK12")],
        codes={"psc": "D310", "naics": "518210"},
        match_key="contract:7012:70CMSD21F0000012:0:-NONE-",
    )
    values.update(changes)
    return Record(**values)


def test_import_twice_is_unchanged_and_a_change_updates(starter):
    first = records_import([award()])
    assert (first.inserted, first.updated, first.unchanged) == (1, 0, 0)
    second = records_import([award()])
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 1)
    third = records_import([award(amount=Decimal("2000000.00"))])
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 0)
    assert Event.objects.filter(kind="award").count() == 1
    assert SourceRecord.objects.filter(source="usaspending").count() == 1
    assert Event.objects.get(kind="award").amount == Decimal("2000000.00")


def test_resolution_links_known_entities_and_tags_technology(starter):
    records_import([award()])
    event = Event.objects.get(kind="award")
    assert [a.slug for a in event.agencies.all()] == ["ice"]
    assert [v.slug for v in event.vendors.all()] == ["aws"]
    assert Vendor.objects.get(slug="aws").uei == "ABCDEFGHJK12"  # learnt from the source
    tags = {
        t.technology.slug: t.tagged_by for t in event.technology_links.select_related("technology")
    }
    assert tags == {"face-recognition": "rule"}


def test_same_action_from_two_sources_is_one_event(starter):
    records_import([award()])
    fpds = award(
        source="fpds",
        external_id="7012:70CMSD21F0000012:0:0:-NONE-",
        title="New DELIVERY ORDER 70CMSD21F0000012 awarded to AMAZON WEB SERVICES, INC.",
        raw={"PIID": "70CMSD21F0000012"},
    )
    counts = records_import([fpds])
    assert counts.updated == 1 and counts.inserted == 0
    event = Event.objects.get(kind="award")
    assert sorted(event.sources.values_list("source", flat=True)) == ["fpds", "usaspending"]
    assert event.title == "CLOUD HOSTING AND FACE RECOGNITION SERVICES"  # USAspending outranks FPDS


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_two_records_of_one_source_end_the_same_in_either_order(starter, order):
    """An award's search row and its base transaction (one source, two ids, one event):
    the record that ranks first owns the fields whichever was imported first."""
    records = [
        award(external_id="CONT_AWD_A", title="FROM THE AWARD SEARCH"),
        award(external_id="CONT_TX_B", title="FROM THE TRANSACTION", amount=Decimal("5.00")),
    ]
    for index in order:
        records_import([records[index]])
    event = Event.objects.get(kind="award")
    assert event.sources.count() == 2
    assert (event.title, event.amount) == ("FROM THE AWARD SEARCH", Decimal("1987500.50"))


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_variants_of_one_id_end_the_same_in_any_order(starter, order):
    """One id seen three ways (an award's detail, its search row, a transaction-search row):
    the detail owns the fields and the source record keeps every payload, in any order."""
    records = [
        award(title="FROM THE DETAIL", raw={"v": "detail"}, extra={"variant": "detail"}),
        award(title="FROM THE SEARCH ROW", raw={"v": "search"}, amount=Decimal("7.00")),
        award(title="FROM THE ACTION", raw={"v": "action"}, extra={"variant": "action"}),
    ]
    for index in order:
        records_import([records[index]])
    event = Event.objects.get(kind="award")
    assert event.title == "FROM THE DETAIL"
    assert event.amount == Decimal("1987500.50")
    source_record = event.sources.get()
    assert sorted(source_record.raw["_hashes"]) == ["", "action", "detail"]
    assert {source_record.raw[name]["v"] for name in ("detail", "record", "action")} == {
        "detail", "search", "action"
    }


def test_modification_inherits_the_base_award_parties(starter):
    records_import([award()])
    mod = award(
        external_id="CONT_TX_1",
        kind="modification",
        title="EXERCISE AN OPTION",
        agencies=[],
        vendors=[],
        codes={},
        amount=Decimal("-100.00"),
        match_key="contract:7012:70CMSD21F0000012:P00001:-NONE-",
    )
    records_import([mod])
    event = Event.objects.get(kind="modification")
    assert event.amount == Decimal("-100.00")
    assert [a.slug for a in event.agencies.all()] == ["ice"]
    assert [t.slug for t in event.technologies.all()] == ["face-recognition"]


def test_vendor_spellings_with_one_duns_are_one_vendor(starter):
    one = award(
        external_id="a", match_key="", vendors=[VendorRef(name="NUAXIS LLC", duns="123456789")]
    )
    two = award(
        external_id="b",
        match_key="",
        vendors=[VendorRef(name="NUAXIS LIMITED LIABILITY COMPANY", duns="123456789")],
    )
    records_import([one, two])
    assert Vendor.objects.filter(normalized="nuaxis").count() == 1


def test_a_strong_identifier_beats_a_name(starter):
    records_import(
        [
            award(
                external_id="x",
                match_key="",
                vendors=[VendorRef(name="Acme Vision LLC", uei="AAAAAAAAAAA1")],
            )
        ]
    )
    records_import(
        [
            award(
                external_id="y",
                match_key="",
                vendors=[VendorRef(name="ACME VISION, L.L.C.", uei="BBBBBBBBBBB2")],
            )
        ]
    )
    assert sorted(
        Vendor.objects.filter(normalized="acme vision").values_list("uei", flat=True)
    ) == ["AAAAAAAAAAA1", "BBBBBBBBBBB2"]
    assert VendorMatchFlag.objects.filter(vendor__uei="BBBBBBBBBBB2").exists()


def test_near_names_are_flagged_never_merged(starter):
    records_import(
        [award(external_id="z", match_key="", vendors=[VendorRef(name="Amazon Web Service Inc")])]
    )
    new = Vendor.objects.get(name="Amazon Web Service Inc")
    assert new.needs_review
    assert VendorMatchFlag.objects.filter(vendor=new, candidate__slug="aws").exists()


def test_vendor_parent_from_source_identifiers(starter):
    ref = VendorRef(
        name="Rekon Analytics LLC",
        uei="CCCCCCCCCCC3",
        parent_name="Amazon.com, Inc.",
        parent_uei="DDDDDDDDDDD4",
    )
    records_import([award(external_id="p", match_key="", vendors=[ref])])
    child = Vendor.objects.get(uei="CCCCCCCCCCC3")
    assert child.parent.slug == "amazon" and child.parent.uei == "DDDDDDDDDDD4"


def test_unknown_agency_is_created_under_its_parent_and_flagged(starter):
    office = AgencyRef(
        name="Science and Technology Directorate",
        code="7067",
        code_type="subtier",
        parent=AgencyRef(name="Department of Homeland Security", code="070", code_type="toptier"),
    )
    records_import([award(external_id="q", match_key="", agencies=[office])])
    created = Agency.objects.get(subtier_code="7067")
    assert created.parent.slug == "dhs" and created.needs_review
    records_import([award(external_id="r", match_key="", agencies=[office])])
    assert Agency.objects.filter(subtier_code="7067").count() == 1


def test_lda_style_agency_names_resolve_through_aliases(starter):
    refs = [
        AgencyRef(name="Immigration & Customs Enforcement (ICE)", role="pitched-to"),
        AgencyRef(name="Homeland Security, Dept of (DHS)", role="pitched-to"),
    ]
    records_import(
        [award(source="lda", external_id="uuid-1", kind="lobbying", match_key="", agencies=refs)]
    )
    event = Event.objects.get(kind="lobbying")
    assert sorted(event.agencies.values_list("slug", flat=True)) == ["dhs", "ice"]


def test_nul_bytes_are_cleaned(starter):
    records_import([award(title="FACE\x00 RECOGNITION", summary="a\x00b", raw={"x": "y\x00"})])
    event = Event.objects.get(kind="award")
    assert "\x00" not in event.title + event.summary
    assert "\x00" not in str(event.sources.get().raw)


def test_a_bad_record_fails_alone(starter):
    good = award(external_id="good", match_key="")
    bad = award(external_id="bad", match_key="", amount=Decimal("1e30"))
    counts = records_import([good, bad, award(external_id="good2", match_key="")])
    assert counts.inserted == 2 and counts.failed == 1
    assert any("bad" in error for error in counts.errors)
    assert set(
        SourceRecord.objects.filter(source="usaspending").values_list("external_id", flat=True)
    ) == {"good", "good2"}


def test_a_crash_mid_batch_leaves_nothing_half_done(starter, monkeypatch):
    from tracker.services import importer as importer_module

    importer = Importer(batch_size=10)
    real_insert = importer_module.rows_insert

    def killed(objs):
        if isinstance(objs[0], SourceRecord):
            raise KeyboardInterrupt("process killed after the events were inserted")
        real_insert(objs)

    monkeypatch.setattr(importer_module, "rows_insert", killed)
    for n in range(3):
        importer.add(award(external_id=f"k{n}", match_key=""))
    with pytest.raises(KeyboardInterrupt):
        importer.finish()
    assert not SourceRecord.objects.filter(source="usaspending").exists()
    assert not Event.objects.filter(kind="award").exists()
    monkeypatch.undo()
    counts = records_import([award(external_id=f"k{n}", match_key="") for n in range(3)])
    assert counts.inserted == 3


def test_news_items_naming_nothing_tracked_are_skipped(starter):
    item = Record(
        source="news",
        external_id="https://example.org/a",
        kind="report",
        title="City council budget",
        url="https://example.org/a",
        raw={},
        text="The council discussed parks.",
    )
    tracked = Record(
        source="news",
        external_id="https://example.org/b",
        kind="pitch",
        review=True,
        title="Amazon pitched Rekognition to ICE",
        url="https://example.org/b",
        raw={},
        text="Amazon Web Services pitched Rekognition to Immigration and Customs Enforcement.",
    )
    counts = records_import([item, tracked])
    assert (counts.inserted, counts.skipped) == (1, 1)
    event = Event.objects.get(sources__external_id="https://example.org/b")
    assert event.review_state == "needs_review"
    assert set(event.agencies.values_list("slug", flat=True)) == {"ice"}
    assert "aws" in set(event.vendors.values_list("slug", flat=True))
    assert set(event.technologies.values_list("slug", flat=True)) == {"face-recognition"}


def test_retag_keeps_curator_tags_and_drops_stale_rule_tags(starter):
    records_import([award()])
    event = Event.objects.get(kind="award")
    Event.objects.filter(pk=event.pk).update(title="CLOUD HOSTING", summary="")
    pitch = Event.objects.get(match_key="story:2018:aws-pitch-rekognition-ice-hsi")
    curated = set(pitch.technologies.values_list("slug", flat=True))
    assert events_retag().removed >= 1
    assert not EventTechnology.objects.filter(
        event=event, technology__slug="face-recognition"
    ).exists()
    assert set(pitch.technologies.values_list("slug", flat=True)) >= curated


def test_a_record_another_import_wrote_meanwhile_becomes_unchanged(starter, monkeypatch):
    """Another import inserts the same key between our look-up and our insert: the batch's
    unique-key error is retried record by record, and the record is found, not duplicated."""
    from tracker.services import importer as importer_module

    records_import([award(external_id="raced", match_key="")])
    look_up = importer_module._look_up
    calls = []

    def blind_once(records):
        calls.append(len(records))
        found = look_up(records)
        if len(calls) == 1:
            found.records.clear()  # not there yet when we looked
        return found

    monkeypatch.setattr(importer_module, "_look_up", blind_once)
    counts = records_import([award(external_id="raced", match_key="")])
    assert (counts.inserted, counts.unchanged, counts.failed) == (0, 1, 0)
    assert any("retried one by one" in error for error in counts.errors)
    assert SourceRecord.objects.filter(external_id="raced").count() == 1
    assert Event.objects.filter(kind="award").count() == 1


def test_in_batch_duplicates_and_new_then_updated_in_one_batch(starter):
    """A key twice in one batch is one row; a record updating an event inserted earlier in the
    same batch (same key, or same match key from another source) updates it."""
    first = award(external_id="dup", match_key="contract:7012:DUP1:0:-NONE-")
    again = award(external_id="dup", match_key="contract:7012:DUP1:0:-NONE-")
    changed = award(
        external_id="dup", match_key="contract:7012:DUP1:0:-NONE-", amount=Decimal("7.00")
    )
    other_source = award(
        source="fpds", external_id="7012:DUP1:0", match_key="contract:7012:DUP1:0:-NONE-"
    )
    counts = records_import([first, again, changed, other_source])
    assert (counts.inserted, counts.unchanged, counts.updated, counts.failed) == (1, 1, 2, 0)
    event = Event.objects.get(match_key="contract:7012:DUP1:0:-NONE-")
    assert event.amount == Decimal("7.00")
    assert sorted(event.sources.values_list("source", flat=True)) == ["fpds", "usaspending"]
    assert counts.event_ids == {event.pk}


def test_a_curators_rejected_tag_is_not_added_back(starter):
    from tracker.models import TagRejection

    records_import([award()])
    event = Event.objects.get(kind="award")
    link = event.technology_links.get(technology__slug="face-recognition")
    TagRejection.objects.create(event=event, technology=link.technology)
    link.delete()
    counts = records_import([award(amount=Decimal("3.00"))])
    assert counts.updated == 1
    assert not event.technology_links.filter(technology__slug="face-recognition").exists()


def test_a_failed_batch_counts_only_what_was_written(starter):
    records_import([award(external_id="seen", match_key="")])
    importer = Importer(batch_size=50)
    importer.add_many(
        [
            award(external_id="seen", match_key=""),
            award(external_id="fresh", match_key=""),
            award(external_id="bad", match_key="", amount=Decimal("1e30")),
        ]
    )
    counts = importer.finish()
    assert (counts.inserted, counts.unchanged, counts.failed) == (1, 1, 1)
    assert counts.event_ids == {SourceRecord.objects.get(external_id="fresh").event_id}
    assert counts.summary == "inserted=1 updated=0 unchanged=1 skipped=0 failed=1"


def test_vendors_created_in_one_batch_are_found_in_later_ones(starter):
    """A new vendor has a provisional id until its batch is written; later batches must see
    the real one, whether they name it by UEI, by name or as a parent."""
    new = VendorRef(
        name="Keystone Optics LLC", uei="KEYSTONE0001", parent_name="Keystone Holdings Inc"
    )

    def action(number: int, vendor: VendorRef) -> Record:
        return award(
            external_id=f"CONT_AWD_KEY{number}_7012_-NONE-_-NONE-",
            match_key=f"contract:7012:KEY{number}:0:-NONE-",
            vendors=[vendor],
        )

    importer = Importer(batch_size=1)
    importer.add_many(
        [
            action(1, new),
            action(2, VendorRef(name="Other Name", uei="KEYSTONE0001")),
            action(3, VendorRef(name="KEYSTONE OPTICS, L.L.C.")),
            action(4, VendorRef(name="Keystone Holdings, Inc.")),
        ]
    )
    counts = importer.finish()

    assert counts.inserted == 4 and counts.failed == 0
    optics = Vendor.objects.get(uei="KEYSTONE0001")
    holdings = Vendor.objects.get(name="Keystone Holdings Inc")
    assert optics.parent == holdings and optics.path == f"/{holdings.pk}/{optics.pk}/"
    linked = [
        list(Event.objects.get(match_key=f"contract:7012:KEY{n}:0:-NONE-").vendors.all())
        for n in range(1, 5)
    ]
    assert linked == [[optics], [optics], [optics], [holdings]]
    assert Vendor.objects.filter(name__startswith="Keystone").count() == 2


def _described(table: str) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


def test_a_bulk_load_refreshes_the_planner_statistics_as_it_grows_the_tables(starter, monkeypatch):
    from django.db import connection

    from tracker.services.bulk import PlannerStatistics

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's (SQLite plans without them)")
    monkeypatch.setattr(PlannerStatistics, "MIN_ROWS", 20)
    importer = Importer(batch_size=10)
    importer.add_many(
        award(external_id=f"CONT_AWD_{n}", match_key=f"contract:{n}") for n in range(60)
    )
    importer.finish()
    # Analyzed after 20 events, then once the events added outnumbered those described.
    assert _described("tracker_event") >= 40
    assert _described("tracker_sourcerecord") >= 40
    assert _described("tracker_eventagency") >= 40
