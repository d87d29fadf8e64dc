"""The technology classifier: clue strengths, exclusions, vendors, codes, evidence, rejections."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from scrapers.base import Record, VendorRef
from tracker.models import Event, EventTechnology, TaggingRule, TagRejection, Technology, Vendor
from tracker.services.classifier import Tagger, fold, words
from tracker.services.importer import records_import
from tracker.services.retag import events_retag
from tracker.services.tagging_report import labelled_rows, rows_tag, tagging_report

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "tagging" / "labelled_sample.jsonl"


@pytest.fixture
def tagger(starter) -> Tagger:
    return Tagger()


def slugs(tagger: Tagger, **kwargs) -> set[str]:
    names = dict(Technology.objects.values_list("pk", "slug"))
    return {names[t] for t in tagger.tag(**kwargs).technologies}


def evidence(tagger: Tagger, slug: str, **kwargs) -> list[dict]:
    tech = Technology.objects.get(slug=slug)
    return tagger.tag(**kwargs).evidence[tech.pk]


def test_words_join_single_letters_and_fold_plurals():
    assert words("B.I. INCORPORATED, U.S. Border") == ["BI", "INCORPORATED", "US", "Border"]
    assert [fold(w) for w in ("Readers", "BATTERIES", "glass", "UAS")] == [
        "reader",
        "battery",
        "glass",
        "uas",
    ]


def test_a_strong_phrase_tags_alone_and_says_why(tagger):
    found = evidence(
        tagger, "automated-license-plate-readers", fields={"summary": "TWO LICENSE PLATE READERS"}
    )
    assert found[0]["strength"] == "strong"
    assert found[0]["why"] == "'LICENSE PLATE READERS' in the description"


def test_a_single_purpose_vendor_tags_a_terse_description(tagger):
    kwargs = {"fields": {"summary": "RENEWAL OF LICENSES"}, "vendors": ["CLEARVIEW AI, INC."]}
    assert slugs(tagger, **kwargs) == {"face-recognition"}
    why = [e["why"] for e in evidence(tagger, "face-recognition", **kwargs)]
    assert "vendor Clearview AI is a face recognition vendor" in why


def test_a_product_name_is_evidence(tagger):
    found = evidence(tagger, "forensic-extraction", fields={"summary": "GRAYKEY LICENSE RENEWAL"})
    assert "product name 'GrayKey' in the description" in [e["why"] for e in found]


def test_a_reseller_proves_nothing_and_a_multi_line_vendor_needs_the_text(tagger):
    assert slugs(tagger, text="SOFTWARE LICENSES", vendors=["CARAHSOFT TECHNOLOGY CORP"]) == set()
    west = ["WEST PUBLISHING CORPORATION"]
    assert slugs(tagger, text="LAW BOOKS FOR DETAINEES", vendors=west) == set()
    assert slugs(tagger, text="CLEAR SUBSCRIPTION SERVICE", vendors=west) == {
        "third-party-investigative-platforms"
    }


def test_supporting_clues_need_a_second_one(tagger):
    assert slugs(tagger, text="SUSTAINMENT TOWERS UNDER DO16") == set()
    assert slugs(
        tagger, text="SUSTAINMENT TOWERS UNDER DO16", vendors=["ANDURIL INDUSTRIES, INC."]
    ) == {"surveillance-towers"}
    # One vendor named by two rules is still one clue.
    assert slugs(tagger, text="USER LICENSES FOR LEGAL EDUCATION", vendors=west_family()) == set()


def west_family() -> list[str]:
    return ["WEST PUBLISHING CORPORATION"]


def test_an_exclusion_hides_the_match_inside_it(tagger):
    assert slugs(tagger, text="SOLAR LIGHT TOWERS", vendors=["ANDURIL INDUSTRIES"]) == set()
    assert slugs(tagger, text="FALCON ENDPOINT RENEWAL") == set()
    assert "drones" not in slugs(tagger, text="DRONE FORENSICS SOFTWARE")
    assert "forensic-extraction" in slugs(tagger, text="DRONE FORENSICS SOFTWARE")


def test_contextual_cameras_need_a_surveillance_context(tagger):
    assert slugs(tagger, text="POLYCOM CAMERA CABLE") == set()
    assert slugs(tagger, text="CAMERAS") == set()
    assert slugs(tagger, text="CAMERA FOR THE UNATTENDED GROUND SENSOR PROGRAM") == {
        "video-surveillance",
        "other-surveillance",
    }
    # A longer phrase owns its camera: LPR cameras are plate readers, not CCTV.
    assert slugs(tagger, text="LPR CAMERAS") == {"automated-license-plate-readers"}


def test_capital_acronyms_match_capitals_only(tagger):
    assert slugs(tagger, text="CLEAR TRASH BAGS") == set()
    assert slugs(tagger, text="the results were clear, said the agency") == set()
    assert slugs(tagger, text="AST DO 11", vendors=["ANDURIL INDUSTRIES, INC."]) == {
        "surveillance-towers"
    }
    assert slugs(tagger, text="the city bought lpr units") == {"automated-license-plate-readers"}


def test_a_one_letter_slip_in_a_long_word_still_matches(tagger):
    assert slugs(tagger, text="SMALL UNMMANED AIRCRAFT SYSTEMS") == {"drones"}
    assert slugs(tagger, text="FINGERPTINT READER") == {"biometrics"}
    assert slugs(tagger, text="TRUCKING SERVICES") == set()


def test_codes_support_or_decide(tagger):
    assert slugs(tagger, text="OPA X10D ORDER", codes={"psc": "1550"}) == {"drones"}
    drone_psc = {"psc_description": "UNMANNED AIRCRAFT"}
    assert slugs(tagger, text="AWARD OF MAINTENANCE AND PARTS", codes=drone_psc) == {"drones"}
    cameras = {"psc": "6710", "psc_description": "CAMERAS, MOTION PICTURE"}
    assert slugs(tagger, text="TRAILERS", codes=cameras) == set()  # a code and its name: one clue
    assert slugs(tagger, text="SURVEILLANCE SYSTEMS FOR THE GROUP", codes=cameras) == {
        "video-surveillance"
    }


def test_a_vendor_rule_covers_the_vendor_family(tagger):
    palantir = Vendor.objects.get(slug="palantir")
    assert TaggingRule.objects.filter(kind="vendor", vendor=palantir).exists()
    assert slugs(tagger, text="O&M SUPPORT", vendors=["PALANTIR USG, INC."]) == {"data-analytics"}


def test_rules_are_data_a_curator_can_change(starter):
    tech = Technology.objects.get(slug="other-surveillance")
    assert slugs(Tagger(), text="PURCHASE OF GADGETRON UNITS") == set()
    TaggingRule.objects.create(technology=tech, kind="keyword", value="Gadgetron")
    assert slugs(Tagger(), text="PURCHASE OF GADGETRON UNITS") == {"other-surveillance"}
    TaggingRule.objects.create(technology=tech, kind="exclude", value="gadgetron units")
    assert slugs(Tagger(), text="PURCHASE OF GADGETRON UNITS") == set()
    TaggingRule.objects.create(technology=tech, kind="pattern", value=r"\bsnoop-?o-?matic\b")
    TaggingRule.objects.create(technology=tech, kind="pattern", value="(unclosed")
    assert slugs(Tagger(), text="TWO SNOOPOMATIC KITS") == {"other-surveillance"}


def test_labelled_sample_report(starter):
    rows = labelled_rows(SAMPLE)
    report = tagging_report(rows).as_dict()
    assert report["misses"] == [] and report["false_positives"] == []
    assert report["row_recall"] == 1.0 and report["false_positive_rate"] == 0.0
    # The terse modification takes its base award's technology.
    by_key = dict(zip([r["row_key"] for r in rows], rows_tag(rows), strict=True))
    assert by_key["sample:a12"] == {"surveillance-towers"}


def test_tagging_report_command(starter, capsys):
    call_command("tagging_report", "--labelled", str(SAMPLE), "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["labels"]["drones"]["recall"] == 1.0
    call_command("tagging_report", "--labelled", str(SAMPLE))
    assert "row_recall=1.000" in capsys.readouterr().out


def test_real_labelled_awards_reach_the_targets(starter, shared_fixtures):
    """The development set of real ICE and CBP award rows (see its README)."""
    rows = labelled_rows(shared_fixtures / "tagging" / "dev_awards.jsonl")
    report = tagging_report(rows)
    assert report.row_recall >= 0.95, report.as_dict()["misses"]
    assert report.false_positive_rate <= 0.05, report.as_dict()["false_positives"]
    for slug, score in report.labels.items():
        if score.support >= 10:
            assert score.recall >= 0.9, slug
            assert score.precision >= 0.9, slug


def _search_row(row: dict, number: int) -> dict:
    """A spending_by_award result built from a labelled row, as the API publishes one."""
    return {
        "internal_id": number,
        "generated_internal_id": f"CONT_AWD_LABELLED{number:05d}_7014_-NONE-_-NONE-",
        "Award ID": f"LABELLED{number:05d}",
        "Recipient Name": row["vendor"],
        "Description": row["description"],
        "Award Amount": 1000.0,
        "Base Obligation Date": row.get("action_date") or "2024-01-02",
        "Awarding Agency": "Department of Homeland Security",
        "Awarding Agency Code": "070",
        "Awarding Sub Agency": row.get("agency") or "U.S. Customs and Border Protection",
        "PSC": {"code": row.get("psc_code"), "description": row.get("psc_description")},
        "NAICS": {"code": row.get("naics_code"), "description": row.get("naics_description")},
    }


def test_replayed_through_the_importer_real_rows_get_the_same_tags(
    starter, shared_fixtures, tmp_path
):
    rows = labelled_rows(shared_fixtures / "tagging" / "dev_awards.jsonl")
    page = {
        "results": [_search_row(r, n) for n, r in enumerate(rows, start=1)],
        "page_metadata": {"page": 1, "hasNext": False},
    }
    (tmp_path / "page.json").write_text(json.dumps(page))
    call_command("scrape", "usaspending", "--replay", str(tmp_path / "page.json"))
    direct = Tagger()
    names = dict(Technology.objects.values_list("pk", "slug"))
    found = labelled = 0
    for number, row in enumerate(rows, start=1):
        event = Event.objects.get(match_key__contains=f"LABELLED{number:05d}")
        tagged = set(event.technologies.values_list("slug", flat=True))
        codes = {"psc_description": row.get("psc_description") or ""}
        want = {
            names[t]
            for t in direct.tag(
                fields={"summary": row["description"]},
                vendors=[row["vendor"]],
                codes={k: v for k, v in codes.items() if v}
                | ({"psc": row["psc_code"]} if row.get("psc_code") else {}),
            ).technologies
        }
        assert tagged == want, row["row_key"]
        assert all(link.evidence for link in event.technology_links.all())
        if row["labels"]:
            labelled += 1
            found += bool(tagged & set(row["labels"]))
    assert found / labelled >= 0.95


def _award(description: str, vendor: str = "SAMPLE SUPPLIER LLC") -> Record:
    return Record(
        source="usaspending",
        external_id="CONT_AWD_REJECT0001_7012_-NONE-_-NONE-",
        kind="award",
        title=description,
        summary=description,
        url="https://www.usaspending.gov/award/CONT_AWD_REJECT0001_7012_-NONE-_-NONE-",
        raw={"description": description},
        vendors=[VendorRef(name=vendor)],
        match_key="award:REJECT0001",
    )


def test_a_rejected_tag_never_comes_back(starter):
    records_import([_award("MOBILE LICENSE PLATE READER SYSTEMS")])
    event = Event.objects.get(match_key="award:REJECT0001")
    link = EventTechnology.objects.get(event=event)
    assert link.technology.slug == "automated-license-plate-readers"
    assert link.evidence[0]["why"] == "'LICENSE PLATE READER' in the title"
    link.delete()
    TagRejection.objects.create(event=event, technology=link.technology)
    assert events_retag().added == 0
    records_import([_award("MOBILE LICENSE PLATE READER SYSTEMS AND INSTALLATION")])
    assert not event.technology_links.exists()


def test_retag_dry_run_writes_nothing_and_retag_fills_evidence(starter):
    records_import([_award("HANDHELD FINGERPRINT SCANNERS")])
    event = Event.objects.get(match_key="award:REJECT0001")
    EventTechnology.objects.filter(event=event).update(evidence=[])
    Event.objects.filter(pk=event.pk).update(summary="IRIS SCANNERS AND FINGERPRINT SCANNERS")
    before = list(EventTechnology.objects.values_list("event_id", "technology_id", "evidence"))
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    Event.objects.update(updated_at=long_ago)
    result = events_retag(dry_run=True)
    assert result.updated >= 1
    assert list(EventTechnology.objects.values_list("event_id", "technology_id", "evidence")) == (
        before
    )
    assert Event.objects.get(pk=event.pk).updated_at == long_ago
    events_retag()
    assert EventTechnology.objects.get(event=event).evidence != []
    assert Event.objects.get(pk=event.pk).updated_at > long_ago  # an API sync sees the new tags
    assert not Event.objects.exclude(pk=event.pk).filter(updated_at__gt=long_ago).exists()


def test_the_2018_story_pitch_is_face_recognition(starter):
    pitch = Event.objects.get(match_key="story:2018:aws-pitch-rekognition-ice-hsi")
    assert "face-recognition" in set(pitch.technologies.values_list("slug", flat=True))
    assert "face-recognition" in slugs(Tagger(), text=pitch.title + "\n" + pitch.summary)
