"""News and documents: known vendors are linked however they are spelt; unknown organisations
are proposed to curators (once per name, counted per event), never silently dropped."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from scrapers.base import Record
from tracker.models import Event, EventVendor, OrganisationProposal, SourceRecord, Vendor
from tracker.services.importer import records_import
from tracker.services.organisations import (
    organisations_spot,
    proposal_accept,
    proposals_dismiss,
)

pytestmark = pytest.mark.django_db
ADMIN = "/admin/tracker/organisationproposal/"


def article(slug: str, text: str, source: str = "news") -> Record:
    url = f"https://example.org/{slug}"
    return Record(
        source=source,
        external_id=url,
        kind="foia" if source != "news" else "report",
        title=f"Story {slug}",
        url=url,
        raw={},
        text=text,
    )


def event_of(slug: str) -> Event:
    return SourceRecord.objects.get(external_id=f"https://example.org/{slug}").event


ACME = (
    "ICE bought face recognition from Acme Biometrics LLC, a small contractor, in 2023. "
    "Immigration and Customs Enforcement said the system was a pilot."
)


def test_an_article_naming_a_contract_vendor_links_it(starter):
    paragon = Vendor.objects.create(name="PARAGON SOLUTIONS INC")
    text = "ICE signed a contract with Paragon Solutions for its Graphite spyware."
    records_import([article("paragon", text)])
    assert paragon in event_of("paragon").vendors.all()
    assert not OrganisationProposal.objects.exists()  # known: never proposed


def test_a_vendor_alias_links_the_vendor(starter):
    fog = Vendor.objects.create(name="FOG DATA SCIENCE LLC")
    fog.aliases.create(name="Fog Reveal")
    records_import([article("fog", "Police used Fog Reveal to track phones, records show.")])
    assert fog in event_of("fog").vendors.all()


def test_ice_in_lower_case_does_not_link_the_agency(starter):
    records_import(
        [article("storm", "Roads were covered in ice as Cellebrite phone extraction kits arrived.")]
    )
    assert not event_of("storm").agencies.filter(slug="ice").exists()


def test_an_unknown_organisation_is_one_open_proposal_counted_per_event(starter):
    records_import([article("a", ACME)])
    records_import([article("b", "Acme Biometrics, Inc. also pitched CBP on face recognition.")])
    records_import([article("a", ACME + " Updated.")])  # the same article again: counted once
    proposal = OrganisationProposal.objects.get()
    assert (proposal.name, proposal.normalized, proposal.status) == (
        "Acme Biometrics LLC",
        "acme biometrics",
        "open",
    )
    assert proposal.times_seen == 2
    assert proposal.first_event == event_of("a")
    assert set(proposal.events.all()) == {event_of("a"), event_of("b")}
    assert "face recognition from Acme Biometrics LLC, a small contractor" in proposal.snippet


def test_documents_are_searched_too(starter):
    records_import([article("doc", ACME, source="muckrock")])
    assert OrganisationProposal.objects.get().normalized == "acme biometrics"


def test_a_dismissed_name_is_never_proposed_again(starter):
    records_import([article("a", ACME)])
    assert proposals_dismiss(OrganisationProposal.objects.all()) == 1
    records_import([article("b", "Acme Biometrics LLC pitched face recognition to ICE.")])
    proposal = OrganisationProposal.objects.get()
    assert (proposal.status, proposal.times_seen) == ("dismissed", 1)
    assert list(proposal.events.all()) == [event_of("a")]


def test_accepting_creates_a_vendor_linked_to_the_events(starter):
    records_import([article("a", ACME), article("b", "Acme Biometrics LLC pitched ICE drones.")])
    vendor = proposal_accept(OrganisationProposal.objects.get())
    assert vendor.name == "Acme Biometrics LLC"
    links = EventVendor.objects.filter(vendor=vendor, role="vendor")
    assert set(links.values_list("event_id", flat=True)) == {event_of("a").pk, event_of("b").pk}
    assert proposal_accept(OrganisationProposal.objects.get()) == vendor  # twice: no change
    assert Vendor.objects.filter(normalized="acme biometrics").count() == 1
    # Later articles now link the vendor instead of proposing it.
    records_import([article("c", "Acme Biometrics demonstrated face recognition to CBP.")])
    assert vendor in event_of("c").vendors.all()


@pytest.mark.parametrize(
    "text",
    [
        "ICE bought face recognition from Security Solutions and Cyber Security LLC.",
        "The Department of Homeland Security and National Security officials used drones.",
        "Artificial Intelligence Systems are used for face recognition by Global Services Inc.",
    ],
)
def test_generic_words_and_public_bodies_are_not_proposed(starter, text):
    records_import([article("generic", text)])
    assert Event.objects.filter(sources__external_id="https://example.org/generic").exists()
    assert not OrganisationProposal.objects.exists()


def test_what_is_spotted_as_an_organisation():
    text = (
        "Yesterday Acme Biometrics LLC said so. Israeli firm Paragon Solutions, which "
        'makes spyware, and the surveillance company "Blue Lantern" met ICE. '
        '"Fog Data Science," a data broker firm, sold location data. '
        "Homeland Security Investigations paid Babel Street, Inc.\n"
        "Police Use Example Robotics Dogs To Patrol Cities\n"
    )
    assert [m.name for m in organisations_spot(text)] == [
        "Acme Biometrics LLC",
        "Paragon Solutions",
        "Babel Street, Inc.",
        "Blue Lantern",
        "Fog Data Science",
    ]


def test_curators_create_a_vendor_or_dismiss_from_the_admin(client, starter):
    user = get_user_model().objects.create_superuser("curator", "c@example.org", "pw-long-enough")
    client.force_login(user)
    records_import([article("a", ACME), article("b", "Wonder Labs Inc pitched drones to ICE.")])
    acme = OrganisationProposal.objects.get(normalized="acme biometrics")
    wonder = OrganisationProposal.objects.get(normalized="wonder labs")
    listing = client.get(ADMIN, {"status__exact": "open", "q": "acme"})
    assert listing.status_code == 200
    assert "Acme Biometrics LLC" in listing.content.decode()
    assert "Wonder Labs" not in listing.content.decode()
    client.post(ADMIN, {"action": "create_vendor", "_selected_action": [acme.pk]})
    client.post(ADMIN, {"action": "dismiss", "_selected_action": [wonder.pk]})
    acme.refresh_from_db()
    wonder.refresh_from_db()
    assert (acme.status, wonder.status) == ("accepted", "dismissed")
    assert acme.vendor in event_of("a").vendors.all()
    assert client.get(f"{ADMIN}{acme.pk}/change/").status_code == 200


def test_events_imported_before_are_proposed_by_the_command(starter):
    records_import([article("a", ACME)])
    OrganisationProposal.objects.all().delete()
    call_command("propose_organisations", stdout=io.StringIO())
    call_command("propose_organisations", stdout=io.StringIO())
    proposal = OrganisationProposal.objects.get()
    assert (proposal.normalized, proposal.times_seen) == ("acme biometrics", 1)
