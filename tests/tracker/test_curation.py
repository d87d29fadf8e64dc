"""The curator's "add from a link" form: extract, suggest, confirm."""

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from tests.support.server import Reply, ScriptedServer
from tracker.models import Agency, SourceRecord, Technology, Vendor

pytestmark = pytest.mark.django_db
URL = "/admin/tracker/event/add-from-link/"


@pytest.fixture
def curator(client, starter):
    user = get_user_model().objects.create_superuser("curator", "c@example.org", "pw-long-enough-1")
    client.force_login(user)
    return client


def test_the_page_is_linked_from_the_event_list(curator):
    assert URL in curator.get(reverse("admin:tracker_event_changelist")).content.decode()
    assert curator.get(URL).status_code == 200


def test_anonymous_users_are_sent_to_login(client, starter):
    assert client.get(URL).status_code == 302


def test_a_private_address_is_refused_without_a_request(curator):
    with ScriptedServer() as server:
        server.add("/story", Reply(body=b"<html><title>x</title></html>"))
        response = curator.post(URL, {"url": server.url("/story")})
        assert server.requests == []
    assert "Could not read that" in response.content.decode()
    assert "private" in response.content.decode()
    assert response.context.get("confirm") is None


def test_a_link_is_read_suggested_and_confirmed_once(curator, own_fixtures):
    page = (own_fixtures / "news" / "article_rekognition_pitch.html").read_bytes()
    with (
        ScriptedServer() as server,
        override_settings(SCRAPER_TRUSTED_HOSTS=[server.host], SCRAPER_MIN_INTERVAL=0.0),
    ):
        server.add("/story", Reply(body=page, headers={"Content-Type": "text/html; charset=utf-8"}))
        server.add("/robots.txt", Reply(status=404))
        step_one = curator.post(URL, {"url": server.url("/story")})
    form = step_one.context["confirm"]
    suggested = step_one.context["suggested"]
    assert form.initial["kind"] == "pitch"
    assert Vendor.objects.get(slug="aws").pk in suggested["vendors"]
    assert Agency.objects.get(slug="ice").pk in suggested["agencies"]
    assert Technology.objects.get(slug="face-recognition").pk in suggested["technologies"]
    data = {
        "confirm": "1",
        "title": form.initial["title"],
        "date": form.initial["date"] or "",
        "kind": "pitch",
        "url": form.initial["url"],
        "text": form.initial["text"],
        "agencies": suggested["agencies"],
        "vendors": [Vendor.objects.get(slug="aws").pk],
        "technologies": suggested["technologies"],
        **{f"suggested_{name}": ids for name, ids in suggested.items()},
    }
    created = curator.post(URL, data)
    assert created.status_code == 302
    event = SourceRecord.objects.get(source="curator", external_id=form.initial["url"]).event
    assert event.kind == "pitch" and event.review_state == "verified"
    assert list(event.vendors.values_list("slug", flat=True)) == ["aws"]
    assert set(event.technology_links.values_list("tagged_by", flat=True)) == {"curator"}
    curator.post(URL, data)
    assert (
        SourceRecord.objects.filter(source="curator", external_id=form.initial["url"]).count() == 1
    )


def test_pasted_text_works_without_a_link(curator):
    text = "Clearview AI demonstrated its face recognition app to the FBI, officials said."
    response = curator.post(URL, {"text": text})
    suggested = response.context["suggested"]
    assert Vendor.objects.get(slug="clearview-ai").pk in suggested["vendors"]
    assert Agency.objects.get(slug="fbi").pk in suggested["agencies"]
    assert response.context["confirm"].initial["kind"] == "pitch"


def test_nothing_pasted_is_an_error(curator):
    assert "Paste a link or some text." in curator.post(URL, {}).content.decode()
