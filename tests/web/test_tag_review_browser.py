"""A curator rejects a tag from the event page on a phone, in headless Chromium."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.web.test_browser import PITCH, SHOTS, chromium, site  # noqa: F401 - fixtures
from tracker.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def curator(site, django_user_model) -> tuple[str, str]:  # noqa: F811
    """A staff session cookie and the pitch's path, made before the browser's event loop runs
    (the database is not usable from it)."""
    user = django_user_model.objects.create_user("curator", password="x", is_staff=True)
    client = Client()
    client.force_login(user)
    pitch = Event.objects.get(title__startswith=PITCH[:40])
    return client.cookies[settings.SESSION_COOKIE_NAME].value, pitch.get_absolute_url()


def test_a_curator_rejects_a_tag_on_a_phone(site, curator, chromium):  # noqa: F811
    from playwright.sync_api import expect

    session, path = curator
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": site}])
    page = context.new_page()
    page.goto(site + path)
    tag = page.locator("ul.tags li").filter(has_text="Face recognition")
    expect(tag.get_by_role("button", name="Reject")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=SHOTS / "event-curator-phone.png", full_page=True)
    tag.get_by_role("button", name="Reject").click()
    expect(page.get_by_text("Rejected: Face recognition")).to_be_visible()
    expect(page.get_by_role("button", name="Allow again")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("ul.tags li").filter(has_text="Face recognition")).to_have_count(1)
    context.close()
