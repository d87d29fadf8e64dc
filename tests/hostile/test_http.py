"""HTTP misbehaviour against the shared client and through ``scrape_run``: bounded time and
memory, no forbidden connection, retried or failed cleanly."""

from __future__ import annotations

import email.utils
import json
import time
import tracemalloc
from dataclasses import dataclass

import pytest
from django.test import override_settings

from scrapers.http import FetchError, HttpClient
from tests.hostile import payloads, report
from tests.hostile.conftest import FIXTURES
from tests.support.server import Reply, ScriptedServer
from tracker.models import ScrapeRun
from tracker.services.scraping import scrape_run

BOMB = payloads.gzip_bomb(200)
JSON = {"Content-Type": "application/json"}
GZIP = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
FORBIDDEN_TARGETS = [
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "https://192.168.1.1/admin",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://0.0.0.0/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "http://localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "ftp://example.org/",
    "http://user:pass@127.0.0.1:1/",
]


@dataclass
class Case:
    name: str
    replies: list[Reply]
    ok: bool
    seconds: float = 5.0


def _http_date(seconds: int) -> str:
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


CASES = [
    Case(
        "429_retry_after_seconds",
        [Reply(429, headers={"Retry-After": "2"}), Reply(body=b"{}")],
        ok=True,
    ),
    Case(
        "429_retry_after_date",
        [Reply(429, headers={"Retry-After": _http_date(3600)}), Reply(body=b"{}")],
        ok=True,
    ),
    Case(
        "429_retry_after_past_date",
        [Reply(429, headers={"Retry-After": _http_date(-3600)}), Reply(body=b"{}")],
        ok=True,
    ),
    Case(
        "429_retry_after_garbage",
        [Reply(429, headers={"Retry-After": "soon\r\nX: y"}), Reply(body=b"{}")],
        ok=True,
    ),
    Case(
        "429_retry_after_huge",
        [Reply(429, headers={"Retry-After": "99999999999"}), Reply(body=b"{}")],
        ok=True,
    ),
    Case("5xx_burst_then_ok", [Reply(500), Reply(502), Reply(503), Reply(body=b"{}")], ok=True),
    Case("5xx_forever", [Reply(503)], ok=False),
    Case("slow_drip", [Reply(body=b"x" * 10_000, drip=0.02)], ok=False),
    Case("stalled_headers", [Reply(body=b"{}", delay=20)], ok=False),
    Case("endless", [Reply(endless=True)], ok=False),
    Case("endless_drip", [Reply(endless=True, drip=0.01, body=b"x")], ok=False),
    Case("oversized_declared", [Reply(body=b"x" * (6 * 2**20))], ok=False),
    Case("gzip_bomb", [Reply(body=BOMB, headers=GZIP)], ok=False),
    Case("bad_gzip", [Reply(body=b"not gzip at all", headers=GZIP)], ok=False),
    Case("truncated_forever", [Reply(body=b'{"results": []}', truncate=True)], ok=False),
    Case("truncated_once", [Reply(body=b'{"r": 1}', truncate=True), Reply(body=b"{}")], ok=True),
    Case("redirect_loop", [Reply(302, headers={"Location": "/case"})], ok=False),
    Case("redirect_no_location", [Reply(302)], ok=False),
    Case("header_injection_location", [Reply(302, headers={"Location": "/x\tY"})], ok=False),
] + [
    Case(f"redirect_to_{n}", [Reply(302, headers={"Location": target})], ok=False)
    for n, target in enumerate(FORBIDDEN_TARGETS)
]


def _client(server: ScriptedServer, sleeps: list[float]) -> HttpClient:
    return HttpClient(
        trusted_hosts=[server.host],
        min_interval=0,
        backoff_base=0.01,
        total_timeout=1.0,
        connect_timeout=1.0,
        max_retries=3,
        max_bytes=5 * 2**20,
        retry_after_cap=30,
        sleep=sleeps.append,
        resolver=_resolver,
    )


def _resolver(host, port, *args, **kwargs):
    """Names resolve to what an attacker would point them at: the metadata service, loopback."""
    address = {"metadata.google.internal": "169.254.169.254", "localhost": "127.0.0.1"}.get(host)
    if address is None:
        import socket

        return socket.getaddrinfo(host, port, *args, **kwargs)
    return [(2, 1, 6, "", (address, port))]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_client_survives_misbehaving_servers(case, server, victim):
    server.add("/case", *case.replies)
    sleeps: list[float] = []
    client = _client(server, sleeps)
    report.count("inputs")
    tracemalloc.start()
    started = time.monotonic()
    try:
        if case.ok:
            assert client.get(server.url("/case")).content == b"{}"
        else:
            with pytest.raises(FetchError):
                client.get(server.url("/case"))
        traced = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        client.close()
    elapsed = time.monotonic() - started
    report.peak("python_heap_in_http_cases", traced)
    assert elapsed < case.seconds, f"took {elapsed:.1f}s"
    assert traced < 32 * 2**20, f"{traced / 2**20:.0f} MB"
    assert max(sleeps, default=0) <= 30, "Retry-After is capped"
    assert victim.requests == []
    if case.name.startswith("429_retry_after_seconds"):
        assert sleeps[0] == 2
    if case.name == "429_retry_after_date":
        assert sleeps[0] == 30, "an hour away, capped at retry_after_cap"
    if case.name == "429_retry_after_past_date":
        assert sleeps[0] == 0


def _live(server: ScriptedServer):
    return override_settings(
        SOURCE_URLS={"usaspending": server.url("/").rstrip("/")},
        SCRAPER_TRUSTED_HOSTS=[server.host],
        SCRAPER_MIN_INTERVAL=0.0,
        SCRAPER_BACKOFF_BASE=0.01,
    )


SEARCH = "/api/v2/search/spending_by_transaction/"
RUN_CASES = {
    "429_then_page": ([Reply(429, headers={"Retry-After": "0"})], True),
    "5xx_burst_then_page": ([Reply(502), Reply(503)], True),
    "5xx_forever": ([Reply(503)] * 9, False),
    "redirect_to_metadata": (
        [Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})],
        False,
    ),
    "redirect_to_private": ([Reply(307, headers={"Location": "http://10.1.2.3/api"})], False),
    "gzip_bomb": ([Reply(body=BOMB, headers=GZIP)], False),
    "html_error_page": ([Reply(body=payloads.HTML_ERROR_PAGE)] * 9, False),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(RUN_CASES))
def test_scrape_run_retries_or_fails_cleanly(name, starter, server, victim):
    replies, recovers = RUN_CASES[name]
    folder = FIXTURES / "usaspending"
    page = json.loads((folder / "transaction_search_ice_cbp.json").read_bytes())
    page["results"] = page["results"][:1]
    server.add(SEARCH, *replies, Reply.json(page))
    report.count("inputs")
    started = time.monotonic()
    with _live(server):
        run = scrape_run(source="usaspending", since=None, until=None)
    assert time.monotonic() - started < 20
    assert "crashed" not in run.message
    if recovers:
        assert run.status in (ScrapeRun.Status.SUCCEEDED, ScrapeRun.Status.PARTIAL), run.message
    else:
        assert run.status in (ScrapeRun.Status.FAILED, ScrapeRun.Status.PARTIAL), run.message
        assert run.message or run.errors
    assert victim.requests == []
