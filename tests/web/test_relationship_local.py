"""A local agency's relationship page shows the vendor's federal contracts and pitches beside
the city's own history with it; a federal agency's page does not."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from django.urls import reverse

from tests.web import factories
from tracker.models import Agency, SourceRecord, Technology, Vendor
from tracker.services.scraping import scrape_run
from tracker.views.pages import ELSEWHERE_ROWS

pytestmark = pytest.mark.django_db

HEADING = "The same vendor elsewhere"


@pytest.fixture
def oakland(starter, own_fixtures):
    """Oakland's council samples replayed: Flock, Skydio (a DHS-funded purchase) and others."""
    scrape_run(source="legistar", replay=[own_fixtures / "legistar" / "replay"])
    return Agency.objects.get(slug="oakland")


def page(client, agency: str, vendor: str) -> str:
    response = client.get(reverse("relationship", args=[agency, vendor]))
    assert response.status_code == 200
    return unescape(response.content.decode())


def section(html: str) -> str:
    return html.split(HEADING, 1)[1] if HEADING in html else ""


def test_a_city_page_lists_the_vendors_federal_events(client, oakland):
    flock = Vendor.objects.get(slug="flock-safety")
    alpr = Technology.objects.get(slug="automated-license-plate-readers")
    cbp = factories.agency("Border Patrol Test Unit", level="federal")
    county = factories.agency("County Sheriff Test Office", level="local")
    factories.event(
        title="CBP buys Flock cameras", agencies=[cbp], vendors=[flock], technologies=[alpr]
    )
    factories.event(
        kind="pitch",
        title="Flock pitches CBP",
        date=dt.date(2021, 3, 1),
        agencies=[(cbp, "pitched-to")],
        vendors=[(flock, "vendor")],
    )
    factories.event(
        title="Sheriff buys Flock cameras", agencies=[county], vendors=[flock], technologies=[alpr]
    )
    factories.event(
        kind="solicitation",
        title="CBP asks for plate readers",
        agencies=[cbp],
        vendors=[flock],
        technologies=[alpr],
    )

    html = page(client, "oakland", "flock-safety")
    assert "Their history" in html and "Flock Group" in html.split(HEADING)[0]
    shown = section(html)
    assert "Federal contracts and pitches of" in shown
    assert "CBP buys Flock cameras" in shown and "Flock pitches CBP" in shown
    assert "Sheriff buys Flock cameras" not in shown  # not federal
    assert "CBP asks for plate readers" not in shown  # not a contract or pitch
    assert "Automated License Plate Reader Cameras" not in shown  # Oakland's own, listed above
    kinds = "award%2Cmodification%2Cpitch%2Cmeeting%2Clobbying"
    assert f"/vendors/flock-safety/?level=federal&kind={kinds}" in shown

    # The police department is in the council's jurisdiction: the same section.
    assert "CBP buys Flock cameras" in section(page(client, "oakland-pd", "flock-safety"))


def test_the_citys_own_federally_funded_purchase_is_not_listed_as_elsewhere(client, oakland):
    """Oakland's UASI purchase from Skydio has DHS as funder, a federal agency."""
    uasi = SourceRecord.objects.get(source="legistar", external_id="oakland:990104").event
    skydio = uasi.vendors.get()
    shown = section(page(client, "oakland", skydio.slug))
    assert "Urban Area Security Initiative" not in shown
    assert "None tracked" in shown


def test_the_list_is_bounded_and_links_to_the_vendor_timeline(client, oakland):
    flock = Vendor.objects.get(slug="flock-safety")
    cbp = factories.agency("Border Patrol Test Unit", level="federal")
    for day in range(ELSEWHERE_ROWS + 2):
        factories.event(
            kind="meeting",
            title=f"Flock meets CBP, round {day}",
            date=dt.date(2022, 1, day + 1),
            agencies=[(cbp, "pitched-to")],
            vendors=[(flock, "vendor")],
        )
    shown = section(page(client, "oakland", "flock-safety"))
    assert shown.count('class="event"') == ELSEWHERE_ROWS
    assert f"round {ELSEWHERE_ROWS + 1}" in shown and "round 0<" not in shown  # newest first
    assert "All federal contracts and pitches of" in shown


def test_a_federal_agencys_page_is_unchanged(client, oakland):
    flock = Vendor.objects.get(slug="flock-safety")
    cbp = factories.agency("Border Patrol Test Unit", level="federal")
    factories.event(
        kind="pitch",
        title="Flock pitches CBP",
        agencies=[(cbp, "pitched-to")],
        vendors=[(flock, "vendor")],
    )
    html = page(client, cbp.slug, "flock-safety")
    assert "Flock pitches CBP" in html and HEADING not in html


def test_empty_state_when_the_vendor_has_no_federal_events(client, oakland):
    local_only = factories.vendor("Neighbourhood Cameras LLC")
    factories.event(title="Oakland buys cameras", agencies=[oakland], vendors=[local_only])
    shown = section(page(client, "oakland", local_only.slug))
    assert "None tracked" in shown
    assert f"/vendors/{local_only.slug}/?level=federal" in shown
