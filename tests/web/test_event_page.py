"""The event page: parties with hierarchy, technologies, sources, raw payload, what followed."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from django.db import connection

from tests.web import factories
from tracker.models import Agency, Event, EventTechnology, TaggingRule, Vendor

pytestmark = pytest.mark.django_db

PITCH = "story:2018:aws-pitch-rekognition-ice-hsi"


def page(client, event: Event) -> str:
    response = client.get(event.get_absolute_url())
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_curated_pitch_page_shows_everything(client, starter):
    pitch = Event.objects.get(match_key=PITCH)
    html = page(client, pitch)
    assert "<h1>Amazon Web Services pitches Rekognition face recognition" in html
    assert '<time datetime="2018-06">June 2018</time>' in html
    assert "(known to the month)" in html
    assert '<span class="badge kind-pitch">Pitch</span>' in html
    assert 'what the email called "a big HSI problem"' in html
    # hierarchy path DHS > ICE > HSI, each linked
    assert (
        '<a href="/agencies/dhs/" title="Department of Homeland Security">DHS</a>' in html
        and '<a href="/agencies/ice/"' in html
        and 'class="self" title="Homeland Security Investigations">HSI</a>' in html
    )
    assert '<span class="role">Pitched To</span>' in html
    # vendor with parent
    assert '<a href="/vendors/aws/">Amazon Web Services, Inc.</a>' in html
    assert 'part of <a href="/vendors/amazon/">Amazon.com, Inc.</a>' in html
    # technologies with how tagged
    assert 'Face recognition</a> — <span class="why">added by a curator</span>' in html
    # review state
    assert "✓" not in html  # the tick is CSS, not text
    assert '<dd class="review review-verified">verified</dd>' in html
    # sources
    assert "huffpost-amazon-ice-rekognition-2018" in html
    assert '<a href="https://www.pogo.org/" rel="nofollow noopener noreferrer">' in html
    assert "retrieved <time" in html
    assert '<details><summary>Raw record as retrieved</summary><pre class="raw">{' in html
    assert '"note": "AWS emails to ICE released' in html
    # what followed
    assert "No contract found between ICE and Amazon.com as of" in html
    assert 'href="/agencies/ice/vendors/amazon/">ICE \u00d7 Amazon.com</a>' in html
    # relationship for the pair the event joins
    assert (
        'href="/agencies/hsi/vendors/aws/">Everything between HSI and Amazon Web Services, Inc.</a>'
        in html
    )


def test_pitch_followed_by_award_lists_what_followed(client, starter):
    pitch = Event.objects.get(match_key=PITCH)
    award = factories.event(
        kind="award",
        amount=4_500_000,
        date=dt.date(2019, 2, 3),
        title="ICE cloud award",
        agencies=[Agency.objects.get(slug="ice")],
        vendors=[Vendor.objects.get(slug="aws")],
    )
    html = page(client, pitch)
    assert "1 contract action followed" in html
    assert f'<a href="/events/{award.pk}/">ICE cloud award</a>' in html
    assert '<time datetime="2019-02-03">February 3, 2019</time>' in html
    assert "$4,500,000" in html


def test_award_page_has_no_outcome_section_and_shows_automatic_review(client, db):
    rule = TaggingRule.objects.create(
        technology=factories.technology("Drones"), kind="keyword", value="quadcopter"
    )
    award = factories.event(
        kind="award",
        amount=12,
        agencies=[factories.agency("Buyer")],
        vendors=[factories.vendor("Seller")],
    )
    EventTechnology.objects.create(event=award, technology=rule.technology, rule=rule)
    html = page(client, award)
    assert "What followed" not in html
    assert "automatic — not yet checked by a curator" in html
    assert (
        "tagged by rule (no evidence recorded; run retag) <span class=\"muted\">(rule: keyword"
        " or phrase (whole words, any case) “quadcopter”)</span>" in html
    )
    assert "$12" in html


def test_non_http_source_url_is_not_a_link(client, db):
    event = factories.event(sources=[{"url": "ftp://example.org/file", "source": "news"}])
    html = page(client, event)
    assert 'href="ftp:' not in html
    assert "Link withheld (not a web address)" in html


def test_query_count_is_pinned(client, starter, django_assert_num_queries):
    award = factories.event(
        kind="award",
        agencies=[Agency.objects.get(slug="hsi"), Agency.objects.get(slug="fbi")],
        vendors=[Vendor.objects.get(slug="aws"), Vendor.objects.get(slug="palantir-usg")],
        technologies=[],
        sources=[{"external_id": "a"}, {"external_id": "b"}, {"external_id": "c"}],
    )
    # event + 4 prefetches + agency ancestors + vendor ancestors; no outcome for awards
    with django_assert_num_queries(7):
        assert client.get(award.get_absolute_url()).status_code == 200


def test_pitch_query_count_is_pinned(client, starter, django_assert_num_queries):
    pitch = Event.objects.get(match_key=PITCH)
    # 7 for the page itself, the rest for event_outcome: a batch of one for the export's
    # OutcomeMessages, which reads only this pitch's agencies, vendors, their families'
    # members and the buying unit's subtree (PostgreSQL also sets and resets the streaming
    # cursor's plan fraction)
    with django_assert_num_queries(21 if connection.vendor == "postgresql" else 19):
        assert client.get(pitch.get_absolute_url()).status_code == 200
