"""``manage.py backfill``: windows, resuming after a kill, progress lines and the exit status.

Windows run in-process (no broker in tests) against a scripted USAspending on 127.0.0.1;
tests/tracker/test_celery_worker.py runs a backfill through a real worker on Redis.
"""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from scrapers.base import SourceUnavailable, replay_pages
from tracker.models import Event, ScrapeRun
from tracker.services.backfill import backfill_done, backfill_windows

pytestmark = pytest.mark.django_db
D = dt.date.fromisoformat


@pytest.fixture
def source(monkeypatch, own_fixtures):
    """USAspending cut at the network seam: ``fetch`` notes the window it was asked for and
    yields a recorded search page; a window listed in ``down`` raises SourceUnavailable.

    Everything after the fetch (parse, import, the run row, the task) is the real code.
    """
    import scrapers.usaspending

    page = own_fixtures / "usaspending" / "search_surveillance_contracts.json"
    asked: list[tuple[str, str]] = []
    down: set[str] = set()

    def fetch(client, query, **kwargs):
        window = (query.since.isoformat(), query.until.isoformat())
        asked.append(window)
        if window[0] in down:
            raise SourceUnavailable("connection refused")
        yield from replay_pages([page])

    monkeypatch.setattr(scrapers.usaspending, "fetch", fetch)
    return SimpleNamespace(asked=asked, down=down)


def backfill(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("backfill", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def window_run(since: str, until: str, status: str) -> ScrapeRun:
    return ScrapeRun.objects.create(
        source="usaspending",
        status=status,
        parameters={"since": since, "until": until, "replay": []},
    )


def runs_of(since: str, until: str) -> list[str]:
    return list(
        ScrapeRun.objects.filter(parameters__since=since, parameters__until=until)
        .order_by("pk")
        .values_list("status", flat=True)
    )


def test_a_range_is_split_into_the_sources_windows():
    assert backfill_windows(source="usaspending", since=D("2024-01-01"), until=D("2024-03-15")) == [
        (D("2024-01-01"), D("2024-01-30")),
        (D("2024-01-31"), D("2024-02-29")),
        (D("2024-03-01"), D("2024-03-15")),
    ]
    weeks = backfill_windows(
        source="usaspending", since=D("2024-01-01"), until=D("2024-01-10"), window_days=7
    )
    assert weeks == [(D("2024-01-01"), D("2024-01-07")), (D("2024-01-08"), D("2024-01-10"))]
    one_day = backfill_windows(source="fpds", since=D("2024-01-01"), until=D("2024-01-01"))
    assert one_day == [(D("2024-01-01"), D("2024-01-01"))]
    # Sources that do not filter by date read their whole list once.
    assert backfill_windows(source="atlas", since=D("2020-01-01"), until=D("2024-12-31")) == [
        (D("2020-01-01"), D("2024-12-31"))
    ]


def test_a_window_is_done_when_a_finished_run_covered_it():
    windows = [(D("2024-01-01"), D("2024-01-10")), (D("2024-01-11"), D("2024-01-20"))]
    window_run("2024-01-11", "2024-01-20", "failed")
    window_run("2024-01-11", "2024-01-20", "running")
    ScrapeRun.objects.create(
        source="usaspending", status="succeeded", parameters={"replay": ["x.json"]}
    )
    ScrapeRun.objects.create(
        source="fpds", status="succeeded", parameters={"since": "2024-01-01", "until": "2024-12-31"}
    )
    assert backfill_done(source="usaspending", windows=windows) == []
    window_run("2024-01-01", "2024-01-10", "partial")
    assert backfill_done(source="usaspending", windows=windows) == windows[:1]
    window_run("2023-12-01", "2024-01-31", "succeeded")  # e.g. a longer window, or a daily run
    assert backfill_done(source="usaspending", windows=windows) == windows


def test_a_rerun_after_a_kill_runs_only_the_unfinished_windows(starter, source):
    # A first backfill was killed: window 1 finished, window 2 was running, window 3 never began.
    window_run("2021-01-01", "2021-01-10", "succeeded")
    window_run("2021-01-11", "2021-01-20", "running")
    out, err = backfill(
        "usaspending", "--since", "2021-01-01", "--until", "2021-01-30",
        "--window-days", "10", "--workers", "3",
    )  # fmt: skip
    assert source.asked == [("2021-01-11", "2021-01-20"), ("2021-01-21", "2021-01-30")]
    assert "3 window(s), 1 already done" in err
    assert "--workers does not apply" in err
    assert runs_of("2021-01-11", "2021-01-20") == ["running", "succeeded"]
    assert runs_of("2021-01-21", "2021-01-30") == ["succeeded"]
    inserted = ScrapeRun.objects.get(parameters__since="2021-01-11", status="succeeded").inserted
    assert inserted > 0
    lines = [line for line in err.splitlines() if line.startswith("[")]
    assert lines == [
        f"[1/2] 2021-01-11..2021-01-20 succeeded; inserted={inserted} updated=0",
        f"[2/2] 2021-01-21..2021-01-30 succeeded; inserted={inserted} updated=0",
    ]
    assert out.startswith("usaspending: 3 windows, 1 already done, 2 finished, 0 failed;")
    assert Event.objects.filter(kind="award").count() == inserted
    # Everything is done now: another run asks for nothing.
    out, err = backfill(
        "usaspending", "--since", "2021-01-01", "--until", "2021-01-30", "--window-days", "10"
    )
    assert "3 already done, 0 finished, 0 failed" in out and len(source.asked) == 2


def test_a_failed_window_makes_a_non_zero_exit_and_a_rerun_retries_it(starter, source):
    source.down.add("2021-01-08")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"1 window\(s\) failed; run the same command again"):
        call_command(
            "backfill", "usaspending", "--since", "2021-01-01", "--until", "2021-01-21",
            "--window-days", "7", stdout=out, stderr=err,
        )  # fmt: skip
    assert "3 windows, 0 already done, 2 finished, 1 failed" in out.getvalue()
    assert "2021-01-08..2021-01-14 failed: usaspending unavailable" in err.getvalue()
    assert "[2/3] 2021-01-08..2021-01-14 failed;" in err.getvalue()
    assert runs_of("2021-01-08", "2021-01-14")[-1] == "failed"
    source.down.clear()
    source.asked.clear()
    out, _ = backfill("usaspending", "--since", "2021-01-01", "--until", "2021-01-21",
                      "--window-days", "7")  # fmt: skip
    assert source.asked == [("2021-01-08", "2021-01-14")]
    assert "2 already done, 1 finished, 0 failed" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "--since", "2021-01-01"], "unknown source 'nowhere'; choose from usaspending"),
        (["fpds", "--since", "2021-13-01"], "not a date"),
        (["fpds", "--since", "2021-02-01", "--until", "2021-01-01"], "until is before since"),
        (["fpds", "--since", "2021-01-01", "--window-days", "0"], "at least one day"),
        (["fpds", "--since", "2021-01-01", "--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_bad_arguments_are_explained(args, message):
    with pytest.raises(CommandError, match=message):
        backfill(*args)
