import pytest
from django.db import IntegrityError

from tracker.models import Agency, Event, Technology, Vendor, VendorAlias

pytestmark = pytest.mark.django_db


def test_paths_follow_the_hierarchy_and_reparenting():
    dhs = Agency.objects.create(name="Department of Homeland Security", acronym="DHS")
    ice = Agency.objects.create(
        name="Immigration and Customs Enforcement", acronym="ICE", parent=dhs
    )
    hsi = Agency.objects.create(name="Homeland Security Investigations", acronym="HSI", parent=ice)
    assert hsi.path == f"/{dhs.pk}/{ice.pk}/{hsi.pk}/"
    assert list(dhs.descendants().order_by("pk")) == [ice, hsi]
    assert hsi.ancestors() == [dhs, ice]

    doj = Agency.objects.create(name="Department of Justice", acronym="DOJ")
    ice.parent = doj
    ice.save()
    hsi.refresh_from_db()
    assert hsi.path == f"/{doj.pk}/{ice.pk}/{hsi.pk}/"
    assert not dhs.descendants().exists()


def test_a_node_cannot_become_its_own_ancestor():
    a = Technology.objects.create(name="Biometrics")
    b = Technology.objects.create(name="Face recognition", parent=a)
    a.parent = b
    with pytest.raises(ValueError):
        a.save()


def test_slugs_are_generated_and_unique():
    first = Vendor.objects.create(name="Acme Surveillance")
    second = Vendor.objects.create(name="Acme Surveillance", uei="ABCDEFGHJKL1")
    assert first.slug == "acme-surveillance"
    assert second.slug == "acme-surveillance-2"


def test_strong_identifiers_are_unique_and_blank_is_not_a_value():
    Vendor.objects.create(name="A", uei="abcdefghjkl1")
    Vendor.objects.create(name="B", uei="", duns="")
    Vendor.objects.create(name="C")
    assert Vendor.objects.get(name="A").uei == "ABCDEFGHJKL1"
    with pytest.raises(IntegrityError):
        Vendor.objects.create(name="D", uei="ABCDEFGHJKL1")


def test_str_and_urls(starter):
    ice = Agency.objects.get(slug="ice")
    assert str(ice) == "U.S. Immigration and Customs Enforcement (ICE)"
    assert ice.get_absolute_url() == "/agencies/ice/"
    assert Vendor.objects.get(slug="aws").get_absolute_url() == "/vendors/aws/"
    assert (
        Technology.objects.get(slug="face-recognition").get_absolute_url()
        == "/technologies/face-recognition/"
    )
    event = Event.objects.get(match_key="story:2018:aws-pitch-rekognition-ice-hsi")
    assert event.get_absolute_url() == f"/events/{event.pk}/"
    assert str(event).startswith("2018-06-01 pitch: Amazon Web Services pitches")
    assert (
        str(VendorAlias.objects.filter(vendor__slug="soundthinking").order_by("name").first())
        == "ShotSpotter, Inc."
    )


def test_the_models_speak_the_scrapers_record_vocabulary():
    from scrapers.base import DATE_PRECISIONS, EVENT_KINDS

    assert tuple(Event.Kind.values) == EVENT_KINDS
    assert tuple(Event.Precision.values) == DATE_PRECISIONS
