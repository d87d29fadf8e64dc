"""Source health: far fewer records, a changed shape, or no success within twice the schedule
is flagged on the about page and in the admin, and the admins are told once."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone

from tests.hostile.conftest import FIXTURES
from tracker.models import ScrapeRun
from tracker.services.health import source_health_check, source_health_notify
from tracker.services.scraping import scrape_run

pytestmark = pytest.mark.django_db
NOW = timezone.now()
TICK = itertools.count()  # later runs start later, even when made in the same instant


@pytest.fixture(autouse=True)
def _admins(settings):
    settings.ADMINS = [("Ops", "ops@example.org")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SCRAPE_SOURCES = ["usaspending", "fpds"]


def run(
    source: str = "usaspending",
    *,
    records: int = 1000,
    hours_ago: float = 0,
    drift: list | None = None,
    status: str = "succeeded",
) -> ScrapeRun:
    when = NOW - dt.timedelta(hours=hours_ago) + dt.timedelta(seconds=next(TICK))
    made = ScrapeRun.objects.create(
        source=source, status=status, finished_at=when, unchanged=records, drift=drift or []
    )
    ScrapeRun.objects.filter(pk=made.pk).update(started_at=when)
    return made


def history(source: str = "usaspending", days: int = 6) -> None:
    for day in range(days, 0, -1):
        run(source, records=980 + day * 7, hours_ago=24 * day)


def kinds(source: str = "usaspending") -> set[str]:
    return {flag.kind for flag in source_health_check(source, now=NOW)}


def test_a_healthy_source_has_no_flags():
    history()
    run(records=1010)
    assert kinds() == set()


def test_far_fewer_records_than_usual_is_flagged():
    history()
    run(records=10)
    (flag,) = source_health_check("usaspending", now=NOW)
    assert flag.kind == "few-records" and "returned 10 records; usually" in flag.message


def test_a_failed_run_with_nothing_counts_as_few_records():
    history()
    run(records=0, status="failed")
    assert "few-records" not in kinds(), "only finished imports are judged on their size"


def test_a_changed_shape_is_flagged_with_since_when():
    history()
    run(records=1000, drift=["search rows lack 'Award Amount'"], hours_ago=1)
    (flag,) = source_health_check("usaspending", now=NOW)
    assert flag.kind == "shape-changed" and "Award Amount" in flag.message


def test_no_success_within_twice_the_schedule_is_stale():
    history(days=3)
    run(status="failed", records=0, hours_ago=1)
    assert kinds() == set(), "the last success, 24 h ago, is within 48 h"
    ScrapeRun.objects.filter(status="succeeded").update(finished_at=NOW - dt.timedelta(hours=49))
    assert kinds() == {"stale"}


def test_a_source_never_run_is_not_judged():
    assert source_health_check("fpds", now=NOW) == []


def test_flagged_once_not_on_every_run(caplog):
    history()
    for _ in range(4):
        run(records=10)
        source_health_notify("usaspending", now=NOW)
    assert len(mail.outbox) == 1 and "few-records" in mail.outbox[0].subject
    assert sum("source health" in m for m in caplog.messages) == 1
    run(records=1000)
    source_health_notify("usaspending", now=NOW)
    run(records=5)
    source_health_notify("usaspending", now=NOW)
    assert len(mail.outbox) == 2, "cleared, then raised again: a second notice"


def test_a_real_small_run_notifies_once(starter, tmp_path):
    history()
    page = FIXTURES / "usaspending" / "search_surveillance_contracts.json"
    for _ in range(3):
        scrape_run(source="usaspending", replay=[page])
    assert [m.subject for m in mail.outbox] == ["[Django] Source health: usaspending few-records"]


def test_flags_show_on_the_about_page_and_in_the_admin(client):
    history()
    run(records=10, drift=["filing field 'income' missing in 3 of 3"])
    html = client.get("/about/").content.decode()
    assert "Sources that need a look" in html and "returned 10 records" in html
    assert "changed shape" in html
    User.objects.create_superuser("admin", "admin@example.org", "a-long-passphrase-42")
    client.login(username="admin", password="a-long-passphrase-42")
    admin_html = client.get("/admin/tracker/scraperun/").content.decode()
    assert "returned 10 records" in admin_html and "changed shape" in admin_html


def test_healthy_about_page_shows_no_warning(client):
    history()
    run(records=1000)
    assert "Sources that need a look" not in client.get("/about/").content.decode()
