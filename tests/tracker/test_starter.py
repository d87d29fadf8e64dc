import pytest

from tracker.models import Agency, Event, Product, TaggingRule, Technology, Vendor
from tracker.services.starter import starter_data_load

pytestmark = pytest.mark.django_db


def test_starter_data_is_idempotent():
    first = starter_data_load()
    assert first.technologies >= 20 and first.agencies >= 20 and first.vendors >= 20
    assert first.events == 3
    counts = (
        Agency.objects.count(),
        Vendor.objects.count(),
        Event.objects.count(),
        TaggingRule.objects.count(),
    )
    second = starter_data_load()
    assert str(second) == "technologies=0 rules=0 agencies=0 vendors=0 products=0 events=0 feeds=0"
    assert counts == (
        Agency.objects.count(),
        Vendor.objects.count(),
        Event.objects.count(),
        TaggingRule.objects.count(),
    )


def test_starter_hierarchies_and_crosswalk(starter):
    hsi = Agency.objects.get(slug="hsi")
    assert [a.slug for a in hsi.ancestors()] == ["dhs", "ice"]
    assert Vendor.objects.get(slug="aws").parent.slug == "amazon"
    assert Technology.objects.get(slug="face-recognition").parent.slug == "biometrics"
    atlas = set(
        Technology.objects.exclude(atlas_category="").values_list("atlas_category", flat=True)
    )
    assert {
        "Automated License Plate Readers",
        "Cell-site Simulator",
        "Face Recognition",
        "Gunshot Detection",
    } <= atlas
    rekognition = Product.objects.get(slug="rekognition")
    assert (rekognition.vendor.slug, rekognition.technology.slug) == ("aws", "face-recognition")


def test_curator_edits_survive_a_reload(starter):
    Agency.objects.filter(slug="ice").update(description="Edited by a curator")
    starter_data_load()
    assert Agency.objects.get(slug="ice").description == "Edited by a curator"


def test_story_events_have_sources(starter):
    pitch = Event.objects.get(match_key="story:2018:aws-pitch-rekognition-ice-hsi")
    assert pitch.kind == "pitch" and pitch.date_precision == "month"
    assert {s.url.split("/")[2] for s in pitch.sources.all()} == {
        "www.pogo.org",
        "www.huffpost.com",
    }
    meeting = Event.objects.get(match_key="story:2018:aws-dhs-meeting-mckinsey")
    roles = {
        (link.vendor.slug, link.role) for link in meeting.vendor_links.select_related("vendor")
    }
    assert ("mckinsey", "intermediary") in roles
