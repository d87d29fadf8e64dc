"""Why each technology is on the event page, and the curators' confirm / reject buttons."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.support.evidence import CLEARVIEW
from tests.web import factories
from tracker.models import (
    EntityTotal,
    EventTechnology,
    Product,
    TaggingRule,
    TagRejection,
    Technology,
)
from tracker.services.tag_review import tag_reject, tag_unreject
from tracker.stats import refresh_stats

pytestmark = pytest.mark.django_db

HOSTILE = {
    "kind": "keyword",
    "field": "title",
    "match": "<script>alert(1)</script>",
    "strength": "supporting",
    "rule": None,
    "product": None,
    "why": "'<script>alert(1)</script>' in the title",
}


@pytest.fixture
def tagged():
    event = factories.event(title="Licences", agencies=[factories.agency("Border Office")])
    face = factories.technology("Face recognition")
    EventTechnology.objects.create(event=event, technology=face, evidence=[CLEARVIEW, HOSTILE])
    return event, face


def url(event, technology, action: str) -> str:
    return f"/events/{event.pk}/technologies/{technology.pk}/{action}/"


def test_the_page_says_why_with_strengths_and_escapes_the_evidence(client, tagged):
    event, _ = tagged
    html = client.get(event.get_absolute_url()).content.decode()
    assert (
        'Face recognition</a> — <span class="why">vendor Clearview AI is a face recognition vendor'
        ' <span class="muted">(strong)</span>; &#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;'
        ' in the title <span class="muted">(supporting)</span></span>'
    ) in html
    assert "<script>alert" not in html
    assert "Confirm</button>" not in html and "tag-review" not in html


def test_staff_see_the_buttons_with_a_csrf_token(admin_client, tagged):
    event, face = tagged
    html = admin_client.get(event.get_absolute_url()).content.decode()
    assert f'action="{url(event, face, "confirm")}"' in html
    assert f'action="{url(event, face, "reject")}"' in html
    assert html.count('name="csrfmiddlewaretoken"') >= 2


@pytest.mark.parametrize("action", ["confirm", "reject", "unreject"])
def test_anonymous_and_non_staff_users_are_sent_to_log_in(
    client, django_user_model, tagged, action
):
    event, face = tagged
    response = client.post(url(event, face, action))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    user = django_user_model.objects.create_user("reader", password="pw-not-staff")
    client.force_login(user)
    response = client.post(url(event, face, action))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    link = EventTechnology.objects.get(event=event, technology=face)
    assert link.tagged_by == "rule" and not TagRejection.objects.exists()


def test_buttons_need_post_and_a_csrf_token(admin_client, admin_user, tagged):
    event, face = tagged
    assert admin_client.get(url(event, face, "confirm")).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(url(event, face, "reject")).status_code == 403
    assert EventTechnology.objects.filter(event=event, technology=face).exists()


def test_confirm_makes_it_a_curators_tag_and_keeps_the_evidence(admin_client, tagged):
    event, face = tagged
    for _ in range(2):
        response = admin_client.post(url(event, face, "confirm"))
        assert response.status_code == 302
        assert response["Location"] == f"/events/{event.pk}/#tech-h"
    link = EventTechnology.objects.get(event=event, technology=face)
    assert link.tagged_by == "curator"
    assert link.evidence[:2] == [CLEARVIEW, HOSTILE]
    assert [item["why"] for item in link.evidence[2:]] == ["confirmed by a curator"]
    html = admin_client.get(event.get_absolute_url()).content.decode()
    assert "; confirmed by a curator</span>" in html and "Confirmed: Face recognition." in html


def test_confirm_of_a_tag_the_event_lacks_is_404(admin_client, tagged):
    event, _ = tagged
    other = factories.technology("Drones")
    assert admin_client.post(url(event, other, "confirm")).status_code == 404
    assert admin_client.post(f"/events/{event.pk + 999}/technologies/1/reject/").status_code == 404


def test_reject_deletes_the_tag_records_why_and_refreshes_the_counts(
    admin_client, tagged, django_capture_on_commit_callbacks
):
    event, face = tagged
    refresh_stats()
    assert EntityTotal.objects.get(entity_type="technology", entity_id=face.pk).events == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url(event, face, "reject"), {"note": "a chair <b>order</b>"})
    assert response.status_code == 302
    assert not EventTechnology.objects.filter(event=event, technology=face).exists()
    rejection = TagRejection.objects.get(event=event, technology=face)
    assert rejection.note == "a chair <b>order</b>"
    assert not EntityTotal.objects.filter(entity_type="technology", entity_id=face.pk).exists()
    html = admin_client.get(event.get_absolute_url()).content.decode()
    assert "Not tagged with a technology yet." in html
    assert "a chair &lt;b&gt;order&lt;/b&gt;" in html
    assert f'action="{url(event, face, "unreject")}"' in html
    tag_reject(event.pk, face.pk, note="again")  # idempotent: the first note stays
    assert TagRejection.objects.get().note == "a chair <b>order</b>"


def test_unreject_forgets_the_rejection(admin_client, tagged):
    event, face = tagged
    tag_reject(event.pk, face.pk)
    response = admin_client.post(url(event, face, "unreject"))
    assert response.status_code == 302 and not TagRejection.objects.exists()
    tag_unreject(event.pk, face.pk)  # idempotent


def test_next_is_followed_only_to_this_site(admin_client, tagged):
    event, face = tagged
    admin_page = f"/admin/tracker/event/{event.pk}/change/"
    response = admin_client.post(url(event, face, "confirm"), {"next": admin_page})
    assert response["Location"] == admin_page
    response = admin_client.post(url(event, face, "confirm"), {"next": "https://evil.example/"})
    assert response["Location"] == f"/events/{event.pk}/#tech-h"


@pytest.mark.parametrize(
    ("old", "new"),
    [("alpr", "automated-license-plate-readers"), ("location-data-brokers", "location-data")],
)
def test_old_technology_slugs_redirect_for_good(client, old, new):
    Technology.objects.create(name=new, slug=new)
    response = client.get(f"/technologies/{old}/?kind=award")
    assert response.status_code == 301
    assert response["Location"] == f"/technologies/{new}/?kind=award"
    assert client.get(f"/technologies/{old}/").status_code == 301
    assert client.get("/technologies/not-a-slug-we-know/").status_code == 404


def test_admin_shows_evidence_and_its_buttons_post_back_to_the_event_form(admin_client, tagged):
    event, face = tagged
    change = f"/admin/tracker/event/{event.pk}/change/"
    html = admin_client.get(change).content.decode()
    assert "vendor Clearview AI is a face recognition vendor; &#x27;&lt;script&gt;" in html
    assert f'formaction="{url(event, face, "reject")}" formmethod="post" name="next"' in html
    response = admin_client.post(url(event, face, "reject"), {"next": change, "title": "x"})
    assert response["Location"] == change
    assert TagRejection.objects.filter(event=event, technology=face).exists()


def test_admin_tag_actions_and_deleting_a_rejection(admin_client, tagged):
    event, face = tagged
    link = EventTechnology.objects.get(event=event, technology=face)
    listing = admin_client.get("/admin/tracker/eventtechnology/").content.decode()
    assert "vendor Clearview AI is a face recognition vendor" in listing
    data = {"action": "confirm", "_selected_action": [link.pk]}
    admin_client.post("/admin/tracker/eventtechnology/", data)
    assert EventTechnology.objects.get(pk=link.pk).tagged_by == "curator"
    admin_client.post("/admin/tracker/eventtechnology/", {**data, "action": "reject"})
    rejection = TagRejection.objects.get(event=event, technology=face)
    assert not EventTechnology.objects.filter(pk=link.pk).exists()
    assert admin_client.get("/admin/tracker/tagrejection/add/").status_code == 403
    admin_client.post(f"/admin/tracker/tagrejection/{rejection.pk}/delete/", {"post": "yes"})
    assert not TagRejection.objects.exists()


def test_admin_rule_and_product_lists_show_strength_and_vendor(admin_client):
    face = factories.technology("Face recognition")
    clearview = factories.vendor("Clearview AI")
    TaggingRule.objects.create(technology=face, kind="vendor", value="Clearview", vendor=clearview)
    Product.objects.create(name="GrayKey", slug="graykey", technology=face, strength="supporting")
    rule_list = admin_client.get("/admin/tracker/taggingrule/").content.decode()
    assert "column-strength" in rule_list and "column-vendor" in rule_list
    assert "By kind" in rule_list and "By strength" in rule_list
    assert "column-strength" in admin_client.get("/admin/tracker/product/").content.decode()
    rule_form = admin_client.get("/admin/tracker/taggingrule/add/").content.decode()
    assert 'name="strength"' in rule_form and 'name="vendor"' in rule_form
