"""Every source's own fixtures through the real replay path, checked in the database."""

import pytest

from tracker.models import Agency, Event, ScrapeRun, SourceRecord
from tracker.services.outcomes import event_outcome
from tracker.services.scraping import scrape_run

pytestmark = pytest.mark.django_db


def replay(source, *paths):
    run = scrape_run(source=source, replay=[str(p) for p in paths])
    assert run.status in ("succeeded", "partial"), (run.message, run.errors)
    return run


def test_seed_story_article_becomes_a_flagged_pitch_with_no_contract(starter, own_fixtures):
    replay("news", own_fixtures / "news" / "article_rekognition_pitch.html")
    event = SourceRecord.objects.get(source="news").event
    assert event.kind == "pitch" and event.review_state == "needs_review"
    assert "aws" in event.vendors.values_list("slug", flat=True)
    assert {"ice", "hsi"} & set(event.agencies.values_list("slug", flat=True))
    assert "face-recognition" in event.technologies.values_list("slug", flat=True)
    message = event_outcome(event).message
    assert message.startswith("No contract found between ") and "ICE and Amazon.com" in message


def test_news_feed_items_naming_nothing_tracked_are_skipped(starter, own_fixtures):
    run = replay(
        "news",
        own_fixtures / "news" / "rss_two_items.xml",
        own_fixtures / "news" / "atom_two_entries.xml",
    )
    assert run.inserted + run.skipped == 4


def test_hostile_feeds_fail_their_page_and_the_run_goes_on(starter, own_fixtures):
    run = replay(
        "news",
        own_fixtures / "news" / "feed_xxe.xml",
        own_fixtures / "news" / "article_rekognition_pitch.html",
    )
    assert run.failed == 1 and run.inserted == 1 and run.status == "partial"
    assert "root:" not in str(run.errors)


def test_sam_notices_get_their_descriptions_and_agency_path(starter, own_fixtures):
    run = replay(
        "sam",
        own_fixtures / "sam" / "search_face_recognition.json",
        own_fixtures / "sam" / "description_face_recognition.json",
    )
    assert run.failed == 1  # the notice without an id
    sought = SourceRecord.objects.get(
        source="sam", external_id="3f1c9a7be2d84c0f9a51c6e8d2b7a410"
    ).event
    assert sought.kind == "solicitation" and sought.summary
    office = sought.agencies.get()
    assert [a.slug for a in office.ancestors()][:2] == ["dhs", "ice"]
    award = SourceRecord.objects.get(
        source="sam", external_id="a07d55e1c93b4f6c8f2e0b4d6c1e9f32"
    ).event
    assert award.amount is not None and award.vendors.exists()


def test_lda_filing_and_its_amendment_are_one_lobbying_event(starter, own_fixtures):
    replay("lda", own_fixtures / "lda")
    aws = Event.objects.filter(kind="lobbying", vendors__slug="aws").distinct()
    assert aws.count() == 1
    event = aws.get()
    assert event.sources.count() == 2
    assert {"ice", "dhs"} <= set(event.agencies.values_list("slug", flat=True))
    assert set(event.vendor_links.values_list("role", flat=True)) == {"client", "intermediary"}
    assert event_outcome(event) is not None


def test_foia_sources(starter, own_fixtures):
    replay("documentcloud", own_fixtures / "documentcloud")
    replay("muckrock", own_fixtures / "muckrock")
    assert Event.objects.filter(kind="foia", sources__source="documentcloud").exists()
    foia = Event.objects.filter(kind="foia", sources__source="muckrock")
    assert foia.exists() and Agency.objects.filter(events__in=foia).exists()
    again = replay("muckrock", own_fixtures / "muckrock")
    assert again.inserted == 0


def test_atlas_rows_create_local_agencies_with_their_place(starter, own_fixtures):
    run = replay("atlas", own_fixtures / "atlas")
    assert run.failed >= 1  # rows without an agency or id
    el_paso = Agency.objects.get(name="El Paso Police Department")
    assert (el_paso.level, el_paso.state, el_paso.place) == ("local", "TX", "El Paso")
    event = el_paso.events.get()
    assert "automated-license-plate-readers" in event.technologies.values_list("slug", flat=True)
    assert {"motorola-solutions", "flock-safety", "vigilant-solutions"} <= set(
        event.vendors.values_list("slug", flat=True)
    )
    assert "javascript:" not in str(event.sources.get().url)
    assert ScrapeRun.objects.filter(source="atlas").count() == 1
