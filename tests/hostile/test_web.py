"""Every page, filter, feed, CSV and API endpoint under hostile data and hostile query strings:
no 500s, scraped text inert everywhere (pages, Atom, CSV, alert emails)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from tests.alerts.conftest import make_subscription
from tests.hostile import report
from tests.hostile.inert import inert_problems
from tests.hostile.payloads import FORMULAS, QUERY_VALUES, XSS
from tests.web import factories
from tracker.alerts.models import AlertSubscription
from tracker.alerts.sending import alerts_collect_and_send

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"
FILTERS = (
    "q", "kind", "since", "until", "amount_min", "amount_max", "level", "order",
    "agency", "vendor", "technology", "page", "page_size", "cursor", "format", "ordering",
)  # fmt: skip
EXEMPT_ROUTES = {None}  # admin routes are tested in test_security


@pytest.fixture
def world(db, settings):
    """Events whose every scraped field is hostile, linked to hostile entities."""
    settings.SPYGLASS_API_RATE = "100000/min"
    agencies = [
        factories.agency(payload, acronym=payload[:32], description=payload, place=payload[:120])
        for payload in XSS[:4]
    ]
    vendors = [
        factories.vendor(payload, description=payload, website="javascript:alert(1)")
        for payload in XSS[4:8]
    ]
    technologies = [factories.technology(payload) for payload in XSS[8:]]
    events = []
    for n, (payload, formula) in enumerate(zip(itertools.cycle(XSS), FORMULAS * 2, strict=False)):
        events.append(
            factories.event(
                kind=("award", "pitch", "foia", "lobbying")[n % 4],
                title=f"{formula} {payload}" if n % 2 else formula,
                summary=payload,
                body_text=payload * 3,
                amount=n * 1000 + 1,
                agencies=[agencies[n % len(agencies)]],
                vendors=[vendors[n % len(vendors)]],
                technologies=[technologies[n % len(technologies)]],
                codes={"psc": payload, payload: formula},
                sources=[
                    {
                        "source": "news",
                        "url": XSS[3 + n % 4],
                        "external_id": f"{payload}-{n}",
                        "raw": {"html": payload, payload: f"</pre>{payload}", "n": [formula]},
                    },
                    {
                        "source": "usaspending",
                        "url": f" https://x.example/{payload}",
                        "external_id": f"u-{n}",
                    },
                ],
            )
        )
    return {
        "agencies": agencies,
        "vendors": vendors,
        "technologies": technologies,
        "events": events,
    }


def pages(world) -> list[str]:
    """One URL per route, with hostile entities in every slot."""
    agency, vendor = world["agencies"][0], world["vendors"][0]
    technology, event = world["technologies"][0], world["events"][1]
    return [
        "/", "/events/", "/events/feed/", event.get_absolute_url(), "/agencies/",
        f"/agencies/{agency.slug}/", f"/agencies/{agency.slug}/vendors/{vendor.slug}/",
        "/vendors/", f"/vendors/{vendor.slug}/", "/technologies/",
        f"/technologies/{technology.slug}/", "/about/", "/data/", "/privacy/", "/sitemap.xml",
        "/sitemap-events.xml",
        "/events.csv", f"/agencies/{agency.slug}/events.csv", f"/vendors/{vendor.slug}/events.csv",
        f"/technologies/{technology.slug}/events.csv",
        f"/agencies/{agency.slug}/vendors/{vendor.slug}/events.csv",
        "/downloads/", "/downloads/events.csv.gz",
        "/api/", "/api/events/", f"/api/events/{event.pk}/", "/api/agencies/",
        f"/api/agencies/{agency.slug}/", "/api/vendors/", f"/api/vendors/{vendor.slug}/",
        "/api/technologies/", f"/api/technologies/{technology.slug}/", "/api/sources/",
        "/api/schema/", "/api/docs/", "/api/nothing/here/",
        "/alerts/subscribe/", "/alerts/subscribe/sent/", "/alerts/confirm/x/",
        "/alerts/manage/", "/alerts/manage/x/", "/alerts/unsubscribe/x/", "/healthz",
    ]  # fmt: skip


def _routes(patterns, prefix: str = "") -> set[str | None]:
    names: set[str | None] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue
            names |= _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            names.add(pattern.name)
    return names


def review_urls(world) -> list[str]:
    """The staff-only POST routes on a tag: confirm it, reject it, allow it again."""
    event = world["events"][1]
    technology = event.technologies.get()
    base = f"/events/{event.pk}/technologies/{technology.pk}"
    return [f"{base}/confirm/", f"{base}/reject/", f"{base}/unreject/"]


def test_every_route_is_covered(world):
    urls = pages(world) + review_urls(world)
    covered = {resolve(url.split("?")[0]).url_name for url in urls}
    missing = _routes(get_resolver().url_patterns) - covered - EXEMPT_ROUTES
    assert not missing, f"routes without a hostile test: {sorted(missing)}"


def test_tag_review_refuses_strangers_and_never_redirects_off_site(
    world, web, django_user_model
):
    event = world["events"][1]
    tags = list(event.technology_links.values_list("technology_id", "tagged_by"))
    for url in review_urls(world):
        response = web.post(url, {"next": "/"})
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    assert list(event.technology_links.values_list("technology_id", "tagged_by")) == tags
    web.force_login(django_user_model.objects.create_user("curator", is_staff=True))
    for url in review_urls(world):
        assert web.get(url).status_code == 405, url
        for target in ("javascript:alert(1)", "//evil.example/", "https://evil.example/x",
                       "/\\evil.example", XSS[0]):  # fmt: skip
            response = web.post(url, {"next": target})
            assert response.status_code in (302, 404), (url, target)
            if response.status_code == 302:
                location = urlsplit(response["Location"])
                assert not (location.scheme or location.netloc), (url, target, location)
                assert not location.path.startswith(("//", "/\\")), (url, target, location)


def test_every_page_renders_hostile_data_inert(world, web):
    for url in pages(world):
        for accept in ("text/html", "application/json"):
            response = web.get(url, HTTP_ACCEPT=accept)
            assert response.status_code in (200, 400, 404, 406), (url, response.status_code)
            if "html" in response.get("Content-Type", "") and hasattr(response, "content"):
                assert inert_problems(response.content.decode()) == [], url
            assert response["X-Content-Type-Options"] == "nosniff", url


def test_atom_feed_is_inert(world, web):
    for query in ("", "?q=script", "?kind=pitch", "?order=amount"):
        response = web.get(f"/events/feed/{query}")
        assert response.status_code == 200
        root = ET.fromstring(response.content)
        for entry in root.iter(f"{ATOM}entry"):
            for element in entry.iter():
                if element.get("type") == "html":
                    assert inert_problems(element.text or "") == [], element.text
                if element.tag == f"{ATOM}link":
                    assert element.get("href", "").startswith(("http://", "https://"))
            title = entry.findtext(f"{ATOM}title") or ""
            assert "<" not in title or entry.find(f"{ATOM}title").get("type") in (None, "text")


def test_csv_cells_cannot_run_as_formulas(world, web):
    agency, vendor = world["agencies"][0], world["vendors"][0]
    urls = [
        "/events.csv",
        "/events.csv?order=amount",
        f"/agencies/{agency.slug}/events.csv",
        f"/vendors/{vendor.slug}/events.csv",
    ]
    cells = 0
    for url in urls:
        response = web.get(url)
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) > 1, url
        for row in rows:
            for cell in row:
                cells += 1
                assert not cell.startswith(("=", "+", "@", "\t", "\r", "-")) or _number(cell), (
                    url,
                    cell,
                )
    assert cells > 100


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def filter_urls(world) -> list[str]:
    agency, vendor = world["agencies"][1], world["vendors"][1]
    technology = world["technologies"][1]
    return [
        "/", "/events/", "/events/feed/", "/events.csv", "/agencies/", "/vendors/",
        "/technologies/", f"/agencies/{agency.slug}/", f"/vendors/{vendor.slug}/",
        f"/technologies/{technology.slug}/", f"/agencies/{agency.slug}/vendors/{vendor.slug}/",
        f"/vendors/{vendor.slug}/events.csv", "/api/events/", "/api/agencies/", "/api/vendors/",
        "/api/technologies/", "/api/sources/", "/alerts/subscribe/",
    ]  # fmt: skip


def test_hostile_query_strings_on_every_filter_never_500(world, web):
    for url in filter_urls(world):
        for value in QUERY_VALUES:
            response = web.get(url, dict.fromkeys(FILTERS, value))
            assert response.status_code in (200, 400, 404), (url, value[:40])
        for name in FILTERS:
            for value in QUERY_VALUES[::3]:
                response = web.get(url, {name: value})
                assert response.status_code in (200, 400, 404), (url, name, value[:40])
            response = web.get(f"{url}?{name}=a&{name}=b&{name}[]=c&{name}=%00%ff%fe")
            assert response.status_code in (200, 400, 404), (url, name)


BAD_PATHS = [
    "/events/0/", "/events/99999999999999999999999/", "/events/-1/", "/agencies/no-such-slug/",
    "/vendors/no-such-slug/", "/technologies/no-such/", "/agencies/x/vendors/y/",
    "/agencies/x/events.csv", "/vendors/%00/", "/api/events/0/",
    "/api/events/99999999999999999999999/", "/api/agencies/no-such/", "/api/vendors/%2e%2e/",
    "/downloads/../../etc/passwd", "/downloads/%2e%2e%2fsettings.py", "/sitemap-nope.xml",
    "/events/?page=0", "/events/?page=-1", "/events/?page=99999999", "/events/?page=abc",
    "/events/?page=1e10", "/events/?page=99999999999999999999999",
    "/agencies/?page=0", "/vendors/?page=-5", "/technologies/?page=9999999",
    "/api/events/?cursor=garbage", "/api/events/?cursor=" + "A" * 5000,
    "/api/events/?page_size=0", "/api/events/?page_size=100000", "/api/agencies/?page=0",
    "/api/vendors/?page=99999999999999999999", "/api/events/?format=xml",
    "/sitemap-events.xml?p=0", "/sitemap-events.xml?p=99999999999999999999",
    "/" + "a" * 10_000, "/events/" + "%c0%af" * 50, "/alerts/confirm/" + "x" * 5000 + "/",
]  # fmt: skip


@pytest.mark.parametrize("path", BAD_PATHS)
def test_unknown_ids_slugs_and_bad_pagination_never_500(path, world, web):
    response = web.get(path)
    assert response.status_code in (200, 301, 302, 400, 404), response.status_code


def test_alert_emails_render_hostile_events_inert(world):
    yesterday = timezone.now() - dt.timedelta(days=1)
    make_subscription(params={}, frequency="daily", now=yesterday)
    AlertSubscription.objects.update(last_checked_at=yesterday)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        run = alerts_collect_and_send(frequency="daily", now=timezone.now())
    report.count("inputs")
    assert run.sent == 1
    (message,) = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    html = next(body for body, kind in message.alternatives if kind == "text/html")
    assert inert_problems(html) == []
    assert "<script" not in message.body.lower() or "&lt;" not in message.body
    for header in message.extra_headers.values():
        assert "\n" not in header and "\r" not in header


def test_api_json_keeps_text_as_data(world, web):
    event = world["events"][1]
    data = json.loads(web.get(f"/api/events/{event.pk}/").content)
    assert data["title"] == event.title
    assert web.get("/api/events/", HTTP_ACCEPT="application/json")["Content-Type"].startswith(
        "application/json"
    )
