"""Legistar through the real replay path into the database: events, links, tags, idempotency,
a later vote; the starter councils and the query and plan built from them."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from tracker.models import Council, Event, SourceRecord
from tracker.services.councils import council_refs
from tracker.services.plan import scrape_plan
from tracker.services.scraping import scrape_run, source_query
from tracker.services.starter import starter_data_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def replay_dir(own_fixtures):
    return own_fixtures / "legistar" / "replay"


def event_of(client_matter: str) -> Event:
    return SourceRecord.objects.get(source="legistar", external_id=client_matter).event


def test_replayed_samples_become_linked_tagged_events(starter, replay_dir):
    run = scrape_run(source="legistar", replay=[replay_dir])
    assert (run.status, run.inserted, run.failed) == ("succeeded", 7, 0), run.errors

    flock = event_of("oakland:990101")
    assert (flock.kind, flock.date, int(flock.amount)) == ("award", dt.date(2026, 2, 17), 1250000)
    assert {(a.agency.slug, a.role) for a in flock.agency_links.select_related("agency")} >= {
        ("oakland", "buyer"),
        ("oakland-pd", "buyer"),
    }
    assert "flock-safety" in flock.vendors.values_list("slug", flat=True)
    alpr = flock.technology_links.get(technology__slug="automated-license-plate-readers")
    assert alpr.evidence and {e["field"] for e in alpr.evidence} & {"title", "text", "vendor"}
    assert flock.sources.get().url.startswith("https://oakland.legistar.com/LegislationDetail")

    drones = event_of("oakland:990104")
    assert "drones" in drones.technologies.values_list("slug", flat=True)
    assert ("dhs", "funder") in {
        (a.agency.slug, a.role) for a in drones.agency_links.select_related("agency")
    }

    solicitation = event_of("oakland:990102")
    assert solicitation.kind == "solicitation"
    assert "gunshot-detection" in solicitation.technologies.values_list("slug", flat=True)

    report = event_of("oakland:990103")
    assert report.kind == "report"
    assert "automated-license-plate-readers" in report.technologies.values_list("slug", flat=True)

    renewal = event_of("oakland:990105")
    assert renewal.summary.startswith("Failed (City Council, 2026-02-17")
    assert "soundthinking" in renewal.vendors.values_list("slug", flat=True)

    axon = event_of("oakland:990107")  # found on the committee's agenda only
    assert "axon" in axon.vendors.values_list("slug", flat=True)
    assert "body-worn-cameras" in axon.technologies.values_list("slug", flat=True)


def test_the_traffic_surveillance_system_stays_untagged(starter, replay_dir):
    scrape_run(source="legistar", replay=[replay_dir])
    traffic = event_of("oakland:990106")
    assert "Automated Traffic Surveillance And Control System" in traffic.title
    assert traffic.kind == "other"
    assert not traffic.technologies.exists()


def test_replaying_twice_changes_nothing(starter, replay_dir):
    scrape_run(source="legistar", replay=[replay_dir])
    again = scrape_run(source="legistar", replay=[replay_dir])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 7)
    assert Event.objects.filter(sources__source="legistar").count() == 7


def test_a_later_vote_updates_the_same_event(starter, replay_dir, tmp_path):
    """The Axon agreement leaves committee pending, then the council adopts it."""
    first = tmp_path / "first"
    shutil.copytree(replay_dir, first)
    scrape_run(source="legistar", replay=[first / "000004.json"])
    pending = event_of("oakland:990107")
    assert pending.summary.startswith("Pending.") and pending.date == dt.date(2026, 2, 10)

    body = json.loads((first / "000004.json").read_text("utf-8"))
    body.update(MatterStatusName="Adopted", MatterPassedDate="2026-03-03T00:00:00")
    (first / "000004.json").write_text(json.dumps(body), "utf-8")
    meta_path = first / "000004.json.meta.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    vote = dict(meta["histories"]["990107"][0])
    vote.update(
        MatterHistoryId=7772,
        MatterHistoryActionDate="2026-03-03T00:00:00",
        MatterHistoryActionBodyName="City Council",
        MatterHistoryActionName="Adopted",
    )
    meta["histories"]["990107"].append(vote)
    meta_path.write_text(json.dumps(meta), "utf-8")

    run = scrape_run(source="legistar", replay=[first / "000004.json"])
    assert (run.inserted, run.updated) == (0, 1)
    adopted = event_of("oakland:990107")
    assert adopted.pk == pending.pk
    assert adopted.date == dt.date(2026, 3, 3)
    assert adopted.summary.startswith("Approved (City Council, 2026-03-03: Adopted).")


def test_starter_councils_load_once_and_keep_curator_edits(starter):
    clients = set(Council.objects.values_list("client", flat=True))
    assert {"oakland", "seattle", "sanjose", "sfgov", "nyc"} <= clients
    oakland = Council.objects.get(client="oakland")
    assert (oakland.jurisdiction.slug, oakland.police.slug) == ("oakland", "oakland-pd")
    assert [a.slug for a in oakland.police.ancestors()] == ["state-ca", "oakland"]
    assert Council.objects.get(client="nyc").token == "LEGISTAR_NYC_TOKEN"
    Council.objects.filter(client="seattle").update(active=False, name="Edited")
    starter_data_load()
    assert Council.objects.count() == len(clients)
    assert Council.objects.get(client="seattle").name == "Edited"


def test_the_query_carries_active_councils_and_only_legistar_gets_tokens(starter, monkeypatch):
    monkeypatch.setenv("LEGISTAR_NYC_TOKEN", "t0ken")
    Council.objects.filter(client="seattle").update(active=False)
    refs = {c.client: c for c in source_query("legistar", since=None, until=None).councils}
    assert "seattle" not in refs and refs["nyc"].token == "t0ken"
    assert refs["oakland"].police.parent.name == "City of Oakland"
    others = {c.client: c for c in source_query("news", since=None, until=None).councils}
    assert others["nyc"].token == ""
    monkeypatch.delenv("LEGISTAR_NYC_TOKEN")
    (nyc,) = [c for c in council_refs(with_tokens=True) if c.client == "nyc"]
    assert (nyc.token, nyc.missing_token) == ("", "LEGISTAR_NYC_TOKEN")


def test_the_plan_lists_each_councils_requests(starter, monkeypatch):
    monkeypatch.delenv("LEGISTAR_NYC_TOKEN", raising=False)
    plan = scrape_plan(source="legistar", since=dt.date(2026, 2, 17), until=dt.date(2026, 2, 17))
    clients = {r.url.split("/v1/")[1].split("/")[0] for r in plan.requests}
    active = set(Council.objects.filter(active=True).values_list("client", flat=True))
    assert clients == active - {"nyc"}  # nyc's token is not set: skipped
    per_client = len(plan.requests) // len(clients)
    assert all(
        sum(r.url.split("/v1/")[1].startswith(c + "/") for r in plan.requests) == per_client
        for c in clients
    )
    assert any(r.url.endswith("/events") for r in plan.requests)


def test_a_vendor_named_without_its_legal_form_is_linked_from_the_title(starter):
    from scrapers.base import AgencyRef, Record
    from tracker.services.importer import records_import

    record = Record(
        source="legistar",
        external_id="oakland:990999",
        kind="award",
        title="Resolution Authorizing An Agreement With ShotSpotter For Gunshot Detection",
        url="https://oakland.legistar.com/LegislationDetail.aspx?ID=990999",
        raw={},
        date=dt.date(2021, 6, 1),
        agencies=[AgencyRef(name="City of Oakland", role="buyer")],
    )
    counts = records_import([record])
    assert counts.inserted == 1, counts.summary()
    event = event_of("oakland:990999")
    assert "soundthinking" in event.vendors.values_list("slug", flat=True)
