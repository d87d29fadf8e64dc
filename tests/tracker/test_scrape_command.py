"""``manage.py scrape``: replay, save-raw, the summary line, exit status, and the live path
through the shared client against a real HTTP server on 127.0.0.1."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from tests.support.server import Reply, ScriptedServer
from tracker.models import Event, ScrapeRun, SourceRecord

pytestmark = pytest.mark.django_db
JSON = {"Content-Type": "application/json"}


def scrape(*args: str) -> str:
    out = io.StringIO()
    call_command("scrape", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def test_replay_prints_the_summary_and_a_rerun_is_unchanged(starter, own_fixtures):
    folder = str(own_fixtures / "usaspending")
    first = scrape("usaspending", "--replay", folder)
    assert first.startswith("inserted=") and "failed=0" in first
    assert int(first.split()[0].split("=")[1]) > 0
    second = scrape("usaspending", "--replay", folder)
    inserted, updated = (int(part.split("=")[1]) for part in second.split()[:2])
    assert (inserted, updated) == (0, 0) and "unchanged=" in second
    assert ScrapeRun.objects.filter(source="usaspending", status="succeeded").count() == 2


def test_real_samples_replay_field_by_field(starter, shared_fixtures):
    scrape("fpds", "--replay", str(shared_fixtures / "fpds" / "atom_piid_DOLOPS15T00043.xml"))
    base = SourceRecord.objects.get(source="fpds", external_id__contains="DOLOPS15T00043:0:0").event
    assert (base.kind, str(base.amount), base.date.isoformat()) == (
        "award",
        "62190.40",
        "2015-01-12",
    )
    assert base.vendors.get().normalized == "nuaxis"
    assert (
        Event.objects.filter(kind="modification", match_key__contains="DOLOPS15T00043").count() == 1
    )


def test_a_bad_page_is_counted_and_the_run_goes_on(starter, own_fixtures, tmp_path):
    (tmp_path / "0-bad.json").write_text('{"results": [', "utf-8")
    (tmp_path / "1-html.json").write_text("<html><body>502 Bad Gateway</body></html>", "utf-8")
    good = own_fixtures / "usaspending" / "search_surveillance_contracts.json"
    (tmp_path / "2-good.json").write_bytes(good.read_bytes())
    summary = scrape("usaspending", "--replay", str(tmp_path))
    assert "failed=2" in summary and not summary.startswith("inserted=0")
    run = ScrapeRun.objects.get()
    assert run.status == "partial" and len(run.errors) == 2
    assert "0-bad.json" in run.errors[0] and "invalid JSON" in run.errors[0]


def test_nothing_where_something_was_expected_is_an_error(starter, tmp_path):
    with pytest.raises(CommandError, match="no records returned"):
        scrape("usaspending", "--replay", str(tmp_path))


def test_clean_pages_without_records_are_a_quiet_day_not_a_failure(starter, tmp_path):
    (tmp_path / "page.json").write_text('{"results": [], "page_metadata": {"hasNext": false}}')
    assert scrape("usaspending", "--replay", str(tmp_path)).startswith("inserted=0")
    run = ScrapeRun.objects.get()
    assert (run.status, run.message) == ("succeeded", "no matching records in 1 page(s)")


def test_pages_that_all_fail_are_a_failure(starter, tmp_path):
    (tmp_path / "page.json").write_text('{"results": [')
    with pytest.raises(CommandError, match="no records returned"):
        scrape("usaspending", "--replay", str(tmp_path))


def test_bad_arguments_fail_with_one_line(starter, tmp_path):
    with pytest.raises(CommandError, match="not a date"):
        scrape("fpds", "--since", "2020-99-01")
    with pytest.raises(CommandError, match="before"):
        scrape("fpds", "--since", "2020-02-01", "--until", "2020-01-01")
    with pytest.raises(CommandError, match="not found"):
        scrape("fpds", "--replay", str(tmp_path / "missing"))


def test_sam_without_a_key_is_skipped_cleanly(starter):
    with override_settings(SAM_API_KEY=""):
        summary = scrape("sam")
    assert summary == "inserted=0 updated=0 unchanged=0 skipped=0 failed=0"
    assert ScrapeRun.objects.get().status == "skipped"


def _usaspending_server(server: ScriptedServer, own_fixtures, first_search: Reply | None = None):
    """Serve the ICE order's three actions (award and two modifications) for every search."""
    folder = own_fixtures / "usaspending"
    page = json.loads((folder / "transaction_search_ice_cbp.json").read_bytes())
    page["results"] = page["results"][:3]
    search = Reply.json(page)
    replies = [first_search, search] if first_search else [search]
    server.add("/api/v2/search/spending_by_transaction/", *replies)


def live(server: ScriptedServer, source: str = "usaspending"):
    return override_settings(
        SOURCE_URLS={source: server.url("/").rstrip("/")},
        SCRAPER_TRUSTED_HOSTS=[server.host],
        SCRAPER_MIN_INTERVAL=0.0,
        SCRAPER_BACKOFF_BASE=0.01,
    )


def test_live_run_through_the_shared_client_with_a_retry(starter, own_fixtures, tmp_path):
    with ScriptedServer() as server:
        _usaspending_server(
            server, own_fixtures, first_search=Reply(status=503, headers={"Retry-After": "0"})
        )
        with live(server):
            summary = scrape(
                "usaspending",
                "--since",
                "2021-01-01",
                "--until",
                "2021-12-31",
                "--save-raw",
                str(tmp_path / "raw"),
            )
        user_agents = {request.headers.get("User-Agent") for request in server.requests}
    assert summary.startswith("inserted=") and "failed=0" in summary
    assert all(agent.startswith("Spyglass/") for agent in user_agents)
    assert Event.objects.filter(kind="award", agencies__slug="ice").exists()
    # What the live run saved replays to the same database.
    replayed = scrape("usaspending", "--replay", str(tmp_path / "raw"))
    assert replayed.startswith("inserted=0 updated=0")


def test_network_down_exits_non_zero_with_a_reason(starter):
    with ScriptedServer() as server:
        port_gone = server.url("/")
    with (
        override_settings(
            SOURCE_URLS={"usaspending": port_gone.rstrip("/")},
            SCRAPER_TRUSTED_HOSTS=[port_gone.split("/")[2]],
            SCRAPER_MIN_INTERVAL=0.0,
            SCRAPER_BACKOFF_BASE=0.01,
        ),
        pytest.raises(CommandError, match="usaspending run failed: usaspending unavailable"),
    ):
        scrape("usaspending", "--since", "2021-01-01", "--until", "2021-01-31")
    assert ScrapeRun.objects.get().status == "failed"


def test_redirect_to_a_private_address_is_refused(starter):
    with ScriptedServer() as server:
        server.add(
            "/api/v2/search/spending_by_transaction/",
            Reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
        )
        with live(server), pytest.raises(CommandError, match=r"private|refused|not allowed"):
            scrape("usaspending", "--since", "2021-01-01", "--until", "2021-01-31")


def test_a_run_left_running_by_a_killed_process_is_closed_by_the_next(starter, own_fixtures):
    stale = ScrapeRun.objects.create(source="usaspending")
    ScrapeRun.objects.filter(pk=stale.pk).update(started_at=timezone.now() - dt.timedelta(days=1))
    recent = ScrapeRun.objects.create(source="usaspending")  # another worker's window
    scrape("usaspending", "--replay", str(own_fixtures / "usaspending"))
    stale.refresh_from_db()
    recent.refresh_from_db()
    assert stale.status == "failed" and stale.message.startswith("interrupted")
    assert recent.status == "running"
