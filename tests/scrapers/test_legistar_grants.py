"""A council's grant acceptance and the federal grant it accepts, linked when the pages are
read: by the award number it names, or by its programme for the same city within a year."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.urls import reverse

from scrapers.legistar_parse import matter_record
from scrapers.usaspending_records import grant_action_record
from tracker.models import Event, SourceRecord
from tracker.services.grants import compact, grant_acceptances, related_federal_grants
from tracker.services.importer import records_import
from tracker.services.scraping import scrape_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def replay_dir(own_fixtures):
    return own_fixtures / "legistar" / "replay"


@pytest.fixture
def council(replay_dir) -> dict[str, Any]:
    meta = json.loads((replay_dir / "000001.json.meta.json").read_text("utf-8"))
    return meta["council"]


@pytest.fixture
def grant_row(own_fixtures) -> dict[str, Any]:
    """A JAG award to a city, as USAspending's transaction search lists it."""
    path = own_fixtures / "usaspending" / "transaction_search_grants_local.json"
    return json.loads(path.read_text("utf-8"))["results"][0]


def federal_grant(
    row: dict[str, Any],
    *,
    fain: str,
    date: str,
    city: str = "OAKLAND",
    state: str = "CA",
    listing: tuple[str, str] = ("16.738", "Edward Byrne Memorial Justice Assistance Grant Program"),
) -> Event:
    """Import one grant action (mod 0) to the city of ``city`` and return its event."""
    row = copy.deepcopy(row)
    row.update(
        {
            "Award ID": fain,
            "generated_internal_id": f"ASST_NON_{fain}_1550",
            "Action Date": date,
            "Recipient Name": f"CITY OF {city}",
            "Assistance Listing": {"cfda_number": listing[0], "cfda_title": listing[1]},
        }
    )
    row["Recipient Location"].update(state_code=state, city_name=city, county_name="")
    counts = records_import([grant_action_record(row, "local")])
    assert counts.inserted == 1, counts.summary()
    return SourceRecord.objects.get(
        source="usaspending", external_id=row["generated_internal_id"]
    ).event


def council_vote(council: dict[str, Any], matter_id: int, title: str, passed: str) -> Event:
    """Import one adopted council matter and return its event."""
    matter = {
        "MatterId": matter_id,
        "MatterGuid": "",
        "MatterFile": f"26-{matter_id}",
        "MatterTitle": title,
        "MatterTypeName": "City Resolution",
        "MatterStatusName": "Adopted",
        "MatterBodyName": "City Council",
        "MatterPassedDate": f"{passed}T00:00:00",
    }
    counts = records_import([matter_record("oakland", matter, council=council)])
    assert counts.inserted == 1, counts.summary()
    return SourceRecord.objects.get(source="legistar", external_id=f"oakland:{matter_id}").event


JAG_TITLE = (
    "Resolution Accepting And Appropriating The FY 2023 Edward Byrne Memorial Justice Assistance"
    " Grant (JAG) Award No. {number} In The Amount Of $148,512 For License Plate Reader Cameras"
)


def test_award_numbers_compare_without_separators():
    assert compact("15PBJA-23-GG-01234-JAGX") == "15PBJA23GG01234JAGX"
    assert compact("2019-DJ-BX-0123") == compact("2019DJBX0123")


def test_the_parser_keeps_the_award_number_and_programme_on_the_event(starter, council):
    record = matter_record(
        "oakland",
        {"MatterId": 990301, "MatterTitle": JAG_TITLE.format(number="15PBJA-23-GG-01234-JAGX")},
        council=council,
    )
    assert record.codes == {
        "assistance_listing": "16.738",
        "award_number": "15PBJA-23-GG-01234-JAGX",
    }
    assert record.extra["award_numbers"] == ["15PBJA-23-GG-01234-JAGX"]


def test_an_acceptance_naming_the_award_number_links_the_federal_grant(
    starter, council, grant_row, client
):
    # A grant to another city, so only the award number can pair them.
    grant = federal_grant(grant_row, fain="15PBJA23GG01234JAGX", date="2023-09-20", city="FRESNO")
    vote = council_vote(
        council, 990301, JAG_TITLE.format(number="15PBJA-23-GG-01234-JAGX"), "2023-11-14"
    )
    assert vote.codes["award_number"] == "15PBJA-23-GG-01234-JAGX"

    (link,) = related_federal_grants(vote)
    assert (link.event, link.reason) == (grant, "award number 15PBJA23GG01234JAGX")
    (back,) = grant_acceptances(grant)
    assert (back.event, back.reason) == (vote, "award number 15PBJA-23-GG-01234-JAGX")

    page = client.get(reverse("event-detail", args=[vote.pk])).content.decode()
    assert "The federal grant" in page and grant.get_absolute_url() in page
    page = client.get(reverse("event-detail", args=[grant.pk])).content.decode()
    assert "acceptance</h2>" in page and vote.get_absolute_url() in page


def test_a_programme_named_alone_links_the_citys_grant_of_that_programme(
    starter, replay_dir, grant_row
):
    """Oakland's UASI acceptance (97.067, adopted 2026-02-17) names no award number."""
    scrape_run(source="legistar", replay=[replay_dir])
    vote = SourceRecord.objects.get(source="legistar", external_id="oakland:990104").event
    assert vote.codes == {"assistance_listing": "97.067"}
    uasi = ("97.067", "Homeland Security Grant Program")
    ours = federal_grant(grant_row, fain="EMW2025SS00011", date="2025-09-01", listing=uasi)
    federal_grant(grant_row, fain="EMW2025SS00012", date="2025-09-01", listing=uasi, city="FRESNO")
    federal_grant(grant_row, fain="EMW2021SS00013", date="2021-09-01", listing=uasi)  # long ago
    federal_grant(grant_row, fain="15PBJA25GG00014JAGX", date="2025-09-01")  # JAG, not UASI

    links = related_federal_grants(vote)
    assert [(link.event, link.reason) for link in links] == [
        (ours, "programme 97.067 to the same recipient")
    ]
    assert [link.event for link in grant_acceptances(ours)] == [vote]


def test_no_link_when_the_numbers_differ(starter, council, grant_row, client):
    grant = federal_grant(grant_row, fain="15PBJA23GG09999JAGX", date="2023-09-20", city="FRESNO")
    vote = council_vote(
        council, 990302, JAG_TITLE.format(number="15PBJA-23-GG-01234-JAGX"), "2023-11-14"
    )
    assert related_federal_grants(vote) == []
    assert grant_acceptances(grant) == []
    page = client.get(reverse("event-detail", args=[vote.pk])).content.decode()
    assert "The federal grant" not in page
