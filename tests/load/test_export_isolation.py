"""Page views stay fast while long CSV downloads run, under the repo's gunicorn settings.

gunicorn, started as the production guide starts it (``tracker/gunicorn_conf.py``), serves a
SQLite file of the starter data and 20,000 generated events on loopback. Four clients each
download every event as CSV (about 7 MB) and read it slowly, so each download stays open for
the whole run and holds whatever serves it, as a slow client or a 1,000,000-event export does.
Beside them, two clients load the timeline and an agency page over and over; their 95th
percentile must stay under a second.

The old setup — 3 sync workers and no export limit — fails this test (every worker held by a
download, page views wait until the downloads end). To see that again, run it against a copy of
an older commit with the guide's old command::

    git archive <commit> | tar -x -C /tmp/old
    SPYGLASS_LOAD_CODE_ROOT=/tmp/old SPYGLASS_LOAD_OLD_SETUP=1 pytest tests/load -k isolation

The database is always its own SQLite file (on the PostgreSQL pass too): what is measured is
how gunicorn's threads are shared, not the database.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("SPYGLASS_LOAD_CODE_ROOT", Path(__file__).resolve().parents[2]))
EVENTS = 20_000
EXPORTS = 4
PAGE_CLIENTS = 2
WINDOW = 5.0  # seconds of page views beside the downloads
PAGES = ("/events/", "/agencies/ice/")
EXPORT_PATH = "/events.csv?all=1"
CONFIG = "python:tracker.gunicorn_conf"  # the production guide's command
# The guide's old command; sync workers named outright, since gunicorn would otherwise read a
# gunicorn.conf.py in the working directory (and switch to gthread when threads > 1).
OLD_SETUP = ["tracker.wsgi:application", "--workers", "3", "--timeout", "60",
             "--worker-class", "sync", "--threads", "1"]  # fmt: skip


def environment(folder: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "DEBUG"}
    }
    return env | {
        "DATABASE_URL": f"sqlite:///{folder / 'load.sqlite3'}",
        "SPYGLASS_VAR_DIR": str(folder / "var"),
        "STATIC_ROOT": str(folder / "static"),
        # Each client claims its own address through the one trusted proxy, as behind nginx.
        "BEHIND_PROXY": "1",
        "PYTHONPATH": str(ROOT),
    }


LOAD = f"""
import datetime as dt
import django
django.setup()
from django.db import transaction
from tracker.models import Agency, Event, EventAgency, EventVendor, Vendor
from tracker.services.starter import starter_data_load

starter_data_load()
agencies = list(Agency.objects.filter(slug__in=["ice", "dhs", "cbp"]))
vendors = list(Vendor.objects.order_by("id")[:5])
with transaction.atomic():
    events = Event.objects.bulk_create(
        (
            Event(
                kind=("award", "pitch", "modification")[n % 3],
                date=dt.date(2010, 1, 1) + dt.timedelta(days=n % 5000),
                title=f"Load test {{n}}: license plate reader maintenance and support services",
                summary="Annual maintenance of fixed and mobile readers, with data hosting.",
                amount=1000 + n,
            )
            for n in range({EVENTS})
        ),
        batch_size=2000,
    )
    EventAgency.objects.bulk_create(
        (EventAgency(event=e, agency=agencies[n % len(agencies)]) for n, e in enumerate(events)),
        batch_size=5000,
    )
    EventVendor.objects.bulk_create(
        (EventVendor(event=e, vendor=vendors[n % len(vendors)]) for n, e in enumerate(events)),
        batch_size=5000,
    )
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[int]:
    """gunicorn on a free loopback port, over a migrated SQLite file holding ``EVENTS`` events."""
    folder = tmp_path_factory.mktemp("load")
    env = environment(folder)
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "timeout": 120}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], **run)
    settings = env | {"DJANGO_SETTINGS_MODULE": "tracker.settings"}
    subprocess.run([sys.executable, "-c", LOAD], **run | {"env": settings})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = OLD_SETUP if os.environ.get("SPYGLASS_LOAD_OLD_SETUP") else ["-c", CONFIG]
    log = (folder / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *config, "--bind", f"127.0.0.1:{port}",
         "--access-logfile", "-"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while get(port, "/healthz", timeout=5)[0] != 200:
            assert server.poll() is None, (folder / "gunicorn.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def get(port: int, path: str, *, address: str = "10.0.1.1", timeout: float = 30) -> tuple:
    """GET ``path`` and read the body: the status (0 when unreachable) and the seconds taken."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"X-Forwarded-For": address})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    except OSError:
        return 0, time.perf_counter() - started
    finally:
        connection.close()


@dataclass
class SlowDownload:
    """A client that downloads ``EXPORT_PATH`` at about 64 KB/s until told to stop."""

    port: int
    address: str
    status: int = 0
    received: int = 0
    finished: bool = False
    errors: list[str] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
            sock.settimeout(WINDOW + 20)
            try:
                sock.connect(("127.0.0.1", self.port))
                sock.sendall(
                    f"GET {EXPORT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"X-Forwarded-For: {self.address}\r\nConnection: close\r\n\r\n".encode()
                )
                chunk = sock.recv(16 * 1024)
                self.status = int(chunk.split(b" ", 2)[1]) if chunk else 0
                while chunk and not stop.is_set():
                    self.received += len(chunk)
                    stop.wait(0.25)
                    chunk = sock.recv(16 * 1024)
                self.finished = not chunk
            except OSError as error:
                self.errors.append(repr(error))


def page_views(port: int, until: float, latencies: list[float], statuses: list[int]) -> None:
    n = 0
    while time.monotonic() < until:
        status, seconds = get(port, PAGES[n % len(PAGES)])
        statuses.append(status)
        latencies.append(seconds)
        n += 1


def warm(port: int) -> None:
    """Every worker process has loaded its URLs and templates (first requests cost more)."""
    for _ in range(3):
        threads = [
            threading.Thread(target=get, args=(port, page)) for page in PAGES for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def test_page_views_stay_fast_beside_long_csv_downloads(site):
    port = site
    warm(port)
    stop = threading.Event()
    downloads = [SlowDownload(port, f"10.0.0.{n + 1}") for n in range(EXPORTS)]
    download_threads = [threading.Thread(target=d.run, args=(stop,)) for d in downloads]
    for thread in download_threads:
        thread.start()
    # The downloads are under way: what serves them has filled the socket buffers (about
    # 4 MB each on loopback) and now waits on the slow clients, holding a worker or a thread.
    time.sleep(3.0)

    latencies: list[float] = []
    statuses: list[int] = []
    until = time.monotonic() + WINDOW
    threading.Timer(WINDOW, stop.set).start()  # the downloads end with the window, come what may
    viewers = [
        threading.Thread(target=page_views, args=(port, until, latencies, statuses))
        for _ in range(PAGE_CLIENTS)
    ]
    for thread in viewers:
        thread.start()
    for thread in viewers + download_threads:
        thread.join(timeout=WINDOW + 30)

    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[-1]
    summary = (
        f"{len(latencies)} page views, p50 {statistics.median(latencies):.3f} s, "
        f"p95 {p95:.3f} s, max {max(latencies):.3f} s; downloads "
        + ", ".join(f"{d.status}:{d.received // 1024} KB" for d in downloads)
    )
    print(summary)
    assert set(statuses) == {200}, summary
    assert p95 < 1.0, summary
    # The downloads were real load: all served, none finished while the pages were measured.
    assert [d.status for d in downloads] == [200] * EXPORTS, summary
    assert not any(d.finished for d in downloads), summary
    assert not any(d.errors for d in downloads), [d.errors for d in downloads]
