"""End to end in headless Chromium: from the home page to the 2018 pitch and its relationship.

Screenshots of the main pages are saved to test-artifacts/screenshots/ for a human to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tracker.services.starter import starter_data_load

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PITCH = (
    "Amazon Web Services pitches Rekognition face recognition to ICE's "
    "Homeland Security Investigations"
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium():
    """A headless Chromium browser; skipped when not installed (unless CI requires it)."""
    if not CHROMIUM.exists():
        if os.environ.get("SPYGLASS_REQUIRE_SERVICES"):
            pytest.fail(f"{CHROMIUM} is required (SPYGLASS_REQUIRE_SERVICES is set) but missing")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server):
    """The live server's URL with the starter data loaded (before any browser starts)."""
    starter_data_load()
    return live_server.url


def test_from_home_to_the_pitch_and_what_followed(site, chromium):
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Spyglass")
    expect(page.get_by_text("Pitches with no contract (yet)")).to_be_visible()
    page.screenshot(path=SHOTS / "home.png", full_page=True)

    # Keyboard users get a visible skip link first.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Timeline").click()
    expect(page).to_have_url(site + "/events/")
    page.get_by_label("Agency").select_option("ice")
    page.get_by_label("Technology", exact=True).select_option("face-recognition")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(
        f"{site}/events/?q=&agency=ice&vendor=&technology=face-recognition"
        "&since=&until=&amount_min=&amount_max=&level=&order=newest"
    )
    expect(page.locator(".chip")).to_have_count(2)
    expect(
        page.get_by_text("Agency: U.S. Immigration and Customs Enforcement (ICE)")
    ).to_be_visible()
    expect(page.locator(".count")).to_have_text("2 events")
    expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", "/events.csv?agency=ice&technology=face-recognition"
    )
    page.screenshot(path=SHOTS / "timeline-filtered.png", full_page=True)

    page.get_by_role("link", name=PITCH).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PITCH)
    expect(page.get_by_text("No contract found between ICE and Amazon.com as of")).to_be_visible()
    expect(page.get_by_text("June 2018").first).to_be_visible()
    page.get_by_text("Raw record as retrieved").first.click()
    expect(page.locator("pre.raw").first).to_contain_text('"note"')
    page.screenshot(path=SHOTS / "event.png", full_page=True)

    page.get_by_role("link", name="Everything between HSI and Amazon Web Services, Inc.").click()
    expect(page).to_have_url(site + "/agencies/hsi/vendors/aws/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Homeland Security Investigations")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amazon Web Services")
    expect(page.get_by_role("link", name=PITCH)).to_be_visible()
    expect(page.get_by_role("img", name="Events by year")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("2018")
    page.screenshot(path=SHOTS / "relationship.png", full_page=True)

    # Removing a chip on the timeline goes back to the wider search.
    page.goto(site + "/events/?agency=ice&technology=face-recognition")
    page.get_by_role("link", name="Technology: Face recognition").click()
    expect(page).to_have_url(site + "/events/?agency=ice")

    for name, path in [
        ("agency", "/agencies/ice/"),
        ("vendor", "/vendors/aws/"),
        ("about", "/about/"),
    ]:
        page.goto(site + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.screenshot(path=SHOTS / f"{name}.png", full_page=True)
    page.close()


def test_phone_width_layout(site, chromium):
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(site + "/events/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Timeline")
    # The filter panel folds away on phones (it stays open without JavaScript).
    expect(page.locator("details.filters")).not_to_have_attribute("open", "")
    expect(page.get_by_role("link", name=PITCH)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=SHOTS / "timeline-phone.png", full_page=True)
    page.get_by_text("Filters", exact=True).click()
    expect(page.get_by_label("Agency")).to_be_visible()
    page.get_by_role("link", name=PITCH).click()
    expect(page.get_by_text("No contract found between ICE and Amazon.com as of")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=SHOTS / "event-phone.png", full_page=True)
    page.close()
