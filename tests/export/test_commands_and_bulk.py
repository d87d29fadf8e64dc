"""``export_events``, ``export_bulk`` and the bulk download pages."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.export import factories as make
from tracker.exports import bulk as exports_bulk
from tracker.exports.bulk import BULK_NAMES, bulk_exports_write
from tracker.models import Agency, Event
from tracker.selectors import EventFilters, event_search

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.export.urls_for_test")]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_events", *args, stdout=out)
    return out.getvalue()


def ids_of(text: str) -> list[int]:
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(text, newline=""))]


def expected(**filters) -> list[int]:
    return list(event_search(EventFilters(**filters)).values_list("id", flat=True))


@pytest.mark.parametrize(
    ("args", "filters"),
    [
        ((), {}),
        (("--agency", "ice"), {"agency": "ice"}),
        (("--vendor", "amazon"), {"vendor": "amazon"}),
        (("--technology", "face-recognition"), {"technology": "face-recognition"}),
        (("--kind", "pitch", "--kind", "report"), {"kind": ("pitch", "report")}),
        (("--since", "2018-06-10"), {"since": dt.date(2018, 6, 10)}),
        (("--until", "2018-06-10"), {"until": dt.date(2018, 6, 10)}),
        (("--q", "McKinsey"), {"q": "McKinsey"}),
        (("--order", "oldest"), {"order": "oldest"}),
    ],
)
def test_export_events_options_mean_what_the_timeline_means(starter, args, filters):
    assert ids_of(run(*args, "-o", "-")) == expected(**filters)
    assert expected(**filters) or not filters  # every option case selects something


def test_export_events_jsonl_to_a_file(starter, tmp_path):
    target = tmp_path / "events.jsonl"
    assert run("--agency", "dhs", "--format", "jsonl", "-o", str(target)) == ""
    rows = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    assert [row["id"] for row in rows] == expected(agency="dhs")
    assert list(tmp_path.iterdir()) == [target]  # no temp file left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "2018-13-01"), "is not a date"),
        (("--agency", "nope"), "No agency “nope”"),
        (("--kind", "bogus"), "Unknown kind"),
        (("--format", "xlsx"), "invalid choice"),
        (("-o", "/nonexistent-dir/x.csv"), "Cannot write"),
    ],
)
def test_export_events_bad_arguments_are_one_line_errors(starter, args, message):
    with pytest.raises(CommandError, match=message) as caught:
        run(*args, *(("-o", "-") if "-o" not in args else ()))
    assert "\n" not in str(caught.value)


@pytest.fixture
def var_dir(tmp_path):
    """The folder above the bulk files (tests/conftest.py puts them in ``tmp_path / "bulk"``)."""
    return tmp_path


def read_gz(path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def test_bulk_files_hold_the_whole_database(starter, var_dir):
    make.event(title="=cmd|calc", amount="-5.00", agencies=[Agency.objects.get(slug="ice")])
    written = bulk_exports_write()
    assert sorted(path.name for path in written) == sorted(BULK_NAMES)
    events = list(
        csv.DictReader(
            io.StringIO(read_gz(var_dir / "bulk/spyglass-events.csv.gz"), newline="")
        )
    )
    assert [int(row["id"]) for row in events] == expected(all=True)
    hostile = next(row for row in events if row["amount"] == "-5.00")
    assert hostile["title"] == "'=cmd|calc"
    lines = read_gz(var_dir / "bulk/spyglass-events.jsonl.gz").splitlines()
    assert len(lines) == Event.objects.count()
    agencies = list(
        csv.DictReader(
            io.StringIO(read_gz(var_dir / "bulk/spyglass-agencies.csv.gz"), newline="")
        )
    )
    ice = next(row for row in agencies if row["slug"] == "ice")
    assert ice["parent"] == "dhs" and "Immigration and Customs Enforcement" in ice["aliases"]
    vendors = [
        json.loads(line)
        for line in read_gz(var_dir / "bulk/spyglass-vendors.jsonl.gz").splitlines()
    ]
    assert next(v for v in vendors if v["slug"] == "aws")["parent"] == "amazon"
    assert sorted(p.name for p in (var_dir / "bulk").iterdir()) == sorted(BULK_NAMES)


def test_bulk_write_is_atomic_when_it_fails_midway(starter, var_dir, monkeypatch):
    bulk_exports_write()
    before = (var_dir / "bulk/spyglass-events.csv.gz").read_bytes()
    make.event(title="new since the last run")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports_bulk, "format_chunk", broken)
    with pytest.raises(RuntimeError):
        bulk_exports_write()
    assert (var_dir / "bulk/spyglass-events.csv.gz").read_bytes() == before
    assert sorted(p.name for p in (var_dir / "bulk").iterdir()) == sorted(BULK_NAMES)


def test_export_bulk_command(starter, var_dir):
    out = io.StringIO()
    call_command("export_bulk", stdout=out)
    assert out.getvalue().count("wrote ") == len(BULK_NAMES)


def test_downloads_page_lists_files_and_serves_only_them(client, starter, var_dir):
    page = client.get("/downloads/")
    assert page.status_code == 200 and b"No bulk files have been generated yet" in page.content
    assert client.get("/downloads/spyglass-events.csv.gz").status_code == 404
    bulk_exports_write()
    page = client.get("/downloads/").content.decode()
    for name in BULK_NAMES:
        assert f'href="/downloads/{name}"' in page
    assert "<time datetime=" in page and ("KB" in page or "bytes" in page)
    response = client.get("/downloads/spyglass-events.jsonl.gz")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="spyglass-events.jsonl.gz"'
    body = gzip.decompress(b"".join(response.streaming_content)).decode()
    assert len(body.splitlines()) == Event.objects.count()
    (var_dir / "secret.txt").write_text("no")
    for attempt in (
        "../secret.txt",
        "..%2Fsecret.txt",
        "%2E%2E%2Fsecret.txt",
        "spyglass-events.csv",
        ".spyglass-events.csv.gz.tmp",
        "..%5Csecret.txt",
    ):
        assert client.get(f"/downloads/{attempt}").status_code == 404, attempt
