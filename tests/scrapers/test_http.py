"""The shared HTTP client's policy, exercised against a real server on 127.0.0.1."""

import datetime as dt
import gzip
import logging
import socket
import time
import tracemalloc
from email.utils import format_datetime

import pytest

from scrapers.base import ParseError, QuotaExhausted, SourceUnavailable
from scrapers.http import (
    CREDENTIAL_MOVES,
    DEFAULT_USER_AGENT,
    FetchError,
    HttpClient,
    HttpResponse,
    HTTPStatusError,
    LocalLimiter,
    address_problem,
    credentials_may_follow,
    origin,
    parse_retry_after,
    redact,
    robots_token,
)
from tests.support.server import Reply, ScriptedServer


@pytest.fixture
def server():
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(server, sleeps):
    clients = []

    def make(**options):
        settings = {
            "trusted_hosts": [server.host],
            "min_interval": 0,
            "backoff_base": 0.01,
            "connect_timeout": 1.0,
            "total_timeout": 1.0,
            "sleep": sleeps.append,
        }
        clients.append(HttpClient(**{**settings, **options}))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def idle_port():
    """A listening socket nobody is allowed to reach: accept() proves no connection came."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    yield listener
    listener.close()


def assert_never_connected(listener):
    with pytest.raises(BlockingIOError):
        listener.accept()


# -- identity and basics ---------------------------------------------------------------


def test_sends_identifying_user_agent_with_contact_url(server, client):
    server.add("/", Reply(body=b"ok"))
    client.get(server.url("/"))
    agent = server.requests[0].headers["User-Agent"]
    assert agent == DEFAULT_USER_AGENT
    assert agent.startswith("Spyglass/")
    assert "+https://" in agent


def test_user_agent_is_overridable(server, make_client):
    server.add("/", Reply(body=b"ok"))
    make_client(user_agent="Spyglass-test/9 (+https://example.org/contact)").get(server.url("/"))
    assert (
        server.requests[0].headers["User-Agent"] == "Spyglass-test/9 (+https://example.org/contact)"
    )


def test_response_fields_and_params(server, client):
    server.add("/search", Reply.json({"results": [1]}, headers={"X-Total": "1"}))
    response = client.get(server.url("/search"), params={"q": "face recognition", "page": 2})
    assert isinstance(response, HttpResponse)
    assert response.status_code == 200
    assert response.url == server.url("/search?q=face+recognition&page=2")
    assert response.headers["x-total"] == "1"
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"results": [1]}
    assert server.requests[0].query == {"q": "face recognition", "page": "2"}


def test_post_json_sends_json_body_with_content_type(server, client):
    server.add("/api/search", Reply.json({"ok": True}))
    payload = {"filters": {"keywords": ["license plate reader"]}, "page": 1}
    response = client.post_json(server.url("/api/search"), payload, headers={"X-Trace": "1"})
    request = server.requests[0]
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Trace"] == "1"
    assert request.json() == payload
    assert response.json() == {"ok": True}


def test_json_refuses_html_like_load_json(server, client):
    server.add("/", Reply(body=b"<html><body>Maintenance</body></html>"))
    with pytest.raises(ParseError, match="HTML"):
        client.get(server.url("/")).json()


def test_text_uses_declared_charset():
    response = HttpResponse(
        200, "http://x/", {"Content-Type": "text/plain; charset=latin-1"}, "Señor".encode("latin-1")
    )
    assert response.text == "Señor"


# -- retries ---------------------------------------------------------------------------


def test_429_with_retry_after_seconds_then_success(server, client, sleeps):
    server.add("/", Reply(status=429, headers={"Retry-After": "7"}), Reply(body=b"done"))
    assert client.get(server.url("/")).content == b"done"
    assert sleeps == [7.0]
    assert len(server.requests) == 2
    assert client.requests_made == 2


def test_retry_after_is_capped(server, make_client, sleeps):
    server.add("/", Reply(status=429, headers={"Retry-After": "86400"}), Reply(body=b"done"))
    make_client(retry_after_cap=30.0).get(server.url("/"))
    assert sleeps == [30.0]


def test_retry_after_http_date(server, client, sleeps):
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    server.add(
        "/",
        Reply(status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}),
        Reply(body=b"done"),
    )
    client.get(server.url("/"))
    assert len(sleeps) == 1
    assert 115 <= sleeps[0] <= 120


def test_parse_retry_after_forms():
    now = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Wed, 01 May 2024 12:01:00 GMT", now) == 60.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after(None, now) is None


def test_unparseable_retry_after_falls_back_to_backoff(server, make_client, sleeps):
    server.add("/", Reply(status=429, headers={"Retry-After": "later"}), Reply(body=b"ok"))
    make_client(backoff_base=2.0).get(server.url("/"))
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 2.0


def test_5xx_burst_then_success_with_jittered_backoff(server, make_client, sleeps):
    server.add("/", Reply(status=500), Reply(status=502), Reply(status=503), Reply(body=b"ok"))
    client = make_client(backoff_base=1.0, backoff_cap=3.0)
    assert client.get(server.url("/")).content == b"ok"
    assert len(server.requests) == 4
    assert client.requests_made == 4
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        assert 0 <= delay <= min(3.0, 2**attempt)


def test_retries_exhausted_raises_status_error(server, make_client, sleeps):
    server.add("/", Reply(status=503, body=b"busy"))
    client = make_client(max_retries=2)
    with pytest.raises(HTTPStatusError) as caught:
        client.get(server.url("/"))
    assert caught.value.status == 503
    assert caught.value.response.content == b"busy"
    assert "after 3 attempts" in str(caught.value)
    assert isinstance(caught.value, SourceUnavailable)
    assert len(server.requests) == 3
    assert client.requests_made == 3
    assert len(sleeps) == 2


def test_404_is_not_retried(server, client, sleeps):
    server.add("/", Reply(status=404, body=b"no such award"))
    with pytest.raises(HTTPStatusError) as caught:
        client.get(server.url("/"))
    assert caught.value.status == 404
    assert caught.value.response.content == b"no such award"
    assert len(server.requests) == 1
    assert sleeps == []


def test_retries_are_logged_with_url_and_reason(server, client, caplog):
    server.add("/feed", Reply(status=502), Reply(body=b"ok"))
    with caplog.at_level(logging.WARNING, logger="scrapers.http"):
        client.get(server.url("/feed"))
    [record] = [r for r in caplog.records if r.name == "scrapers.http"]
    assert server.url("/feed") in record.getMessage()
    assert "HTTP 502" in record.getMessage()


def test_truncated_body_is_retried(server, client, sleeps):
    server.add("/", Reply(body=b"partial", truncate=True), Reply(body=b"complete"))
    assert client.get(server.url("/")).content == b"complete"
    assert len(server.requests) == 2
    assert len(sleeps) == 1


def test_always_truncated_body_fails(server, make_client):
    server.add("/", Reply(body=b"partial", truncate=True))
    with pytest.raises(FetchError, match="truncated") as caught:
        make_client(max_retries=1).get(server.url("/"))
    assert not isinstance(caught.value, HTTPStatusError)
    assert len(server.requests) == 2


def test_connection_refused_is_retried(idle_port, make_client, sleeps):
    port = idle_port.getsockname()[1]
    idle_port.close()
    client = make_client(trusted_hosts=[f"127.0.0.1:{port}"], max_retries=2)
    with pytest.raises(FetchError, match="ConnectionError"):
        client.get(f"http://127.0.0.1:{port}/")
    assert client.requests_made == 3
    assert len(sleeps) == 2


# -- deadlines and size caps -----------------------------------------------------------


def test_slow_drip_body_hits_total_deadline(server, make_client):
    server.add("/", Reply(body=b"x" * 5000, drip=0.01))
    client = make_client(total_timeout=0.5, max_retries=1)
    start = time.monotonic()
    with pytest.raises(FetchError, match="deadline"):
        client.get(server.url("/"))
    assert time.monotonic() - start < 2.5
    assert len(server.requests) == 2


def test_stalled_headers_hit_deadline(server, make_client):
    server.add("/", Reply(body=b"late", delay=10))
    client = make_client(total_timeout=0.5, max_retries=0)
    start = time.monotonic()
    with pytest.raises(FetchError, match="Timeout"):
        client.get(server.url("/"))
    assert time.monotonic() - start < 2


def test_endless_body_hits_size_cap_and_is_not_retried(server, make_client):
    server.add("/", Reply(endless=True))
    client = make_client(max_bytes=2 * 2**20)
    start = time.monotonic()
    with pytest.raises(FetchError, match="max_bytes"):
        client.get(server.url("/"))
    assert len(server.requests) == 1
    assert time.monotonic() - start < 3


def test_declared_oversize_body_is_refused_before_reading(server, make_client):
    server.add("/", Reply(body=b"x" * 5000))
    with pytest.raises(FetchError, match="max_bytes"):
        make_client(max_bytes=1000).get(server.url("/"))
    assert len(server.requests) == 1


GZIP_BOMB = gzip.compress(b"\0" * (64 * 2**20), compresslevel=9)


def test_gzip_bomb_is_stopped_with_bounded_memory(server, make_client):
    assert len(GZIP_BOMB) < 2**20
    server.add(
        "/",
        Reply(body=GZIP_BOMB, headers={"Content-Encoding": "gzip", "Content-Type": "text/html"}),
    )
    client = make_client(max_bytes=2**20)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="max_bytes"):
            client.get(server.url("/"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20
    assert len(server.requests) == 1


def test_small_gzip_body_is_decoded(server, client):
    server.add("/", Reply(body=gzip.compress(b'{"a": 1}'), headers={"Content-Encoding": "gzip"}))
    assert client.get(server.url("/")).json() == {"a": 1}


# -- destinations and redirects --------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://[::1]/",
        "http://[fd00::1]:8080/",
        "https://192.168.1.1/admin",
    ],
)
def test_redirect_to_private_address_is_refused(server, client, target):
    server.add("/hop", Reply(status=302, headers={"Location": target}))
    start = time.monotonic()
    with pytest.raises(FetchError, match="resolves to private address"):
        client.get(server.url("/hop"))
    assert time.monotonic() - start < 0.5
    assert client.requests_made == 1


def test_redirect_to_loopback_on_another_port_is_refused(server, client, idle_port):
    other = f"http://127.0.0.1:{idle_port.getsockname()[1]}/"
    server.add("/hop", Reply(status=302, headers={"Location": other}))
    with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 resolves to private address"):
        client.get(server.url("/hop"))
    assert client.requests_made == 1
    assert_never_connected(idle_port)


def test_untrusted_loopback_name_is_refused_without_connecting(server, make_client):
    server.add("/", Reply(body=b"secret"))
    client = make_client(trusted_hosts=[])
    with pytest.raises(FetchError, match="resolves to private address"):
        client.get(server.url("/"))
    with pytest.raises(FetchError, match="resolves to private address"):
        client.get(f"http://localhost:{server.port}/")
    assert server.requests == []
    assert client.requests_made == 0


def test_dns_rebinding_is_caught_on_the_connected_socket(server, make_client):
    """The pre-check sees a public address; the socket then lands on loopback."""
    server.add("/", Reply(body=b"secret"))

    def lying_resolver(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    client = make_client(trusted_hosts=[], resolver=lying_resolver)
    with pytest.raises(FetchError, match=r"resolves to private address 127\.0\.0\.1"):
        client.get(f"http://localhost:{server.port}/")
    assert server.requests == []


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "not globally routable"),
        ("0.0.0.0", "unspecified"),  # noqa: S104
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("fc00::1", "private"),
        ("fe80::1%eth0", "link-local"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("::ffff:10.0.0.1", "private"),
    ],
)
def test_address_problem_names_non_public_ranges(address, problem):
    assert address_problem(address) == problem


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_address_problem_accepts_public_addresses(address):
    assert address_problem(address) is None


@pytest.mark.parametrize("url", ["ftp://example.org/file", "file:///etc/passwd", "gopher://x/"])
def test_non_http_scheme_is_refused(client, url):
    with pytest.raises(FetchError, match="is not http or https"):
        client.get(url)
    assert client.requests_made == 0


def test_redirect_to_non_http_scheme_is_refused(server, client):
    server.add("/hop", Reply(status=302, headers={"Location": "file:///etc/passwd"}))
    with pytest.raises(FetchError, match="is not http or https"):
        client.get(server.url("/hop"))
    assert client.requests_made == 1


def test_redirect_within_trusted_host_is_followed(server, client):
    server.add("/old", Reply(status=301, headers={"Location": "/new?page=2"}))
    server.add("/new", Reply(body=b"moved here"))
    response = client.get(server.url("/old"))
    assert response.content == b"moved here"
    assert response.url == server.url("/new?page=2")
    assert [r.path for r in server.requests] == ["/old", "/new"]


def test_303_after_post_becomes_get_and_307_keeps_post(server, client):
    server.add("/submit", Reply(status=303, headers={"Location": "/result"}))
    server.add("/result", Reply(body=b"ok"))
    server.add("/keep", Reply(status=307, headers={"Location": "/kept"}))
    server.add("/kept", Reply(body=b"ok"))
    client.post_json(server.url("/submit"), {"a": 1})
    client.post_json(server.url("/keep"), {"b": 2})
    result, kept = server.requests_to("/result")[0], server.requests_to("/kept")[0]
    assert (result.method, result.body) == ("GET", b"")
    assert "Content-Type" not in result.headers
    assert (kept.method, kept.json()) == ("POST", {"b": 2})


def test_authorization_is_dropped_when_redirected_to_another_host(make_client):
    with ScriptedServer() as first, ScriptedServer() as second:
        first.add("/a", Reply(status=302, headers={"Location": "/b"}))
        first.add("/b", Reply(status=302, headers={"Location": second.url("/c")}))
        second.add("/c", Reply(body=b"ok"))
        client = make_client(trusted_hosts=[first.host, second.host])
        client.get(first.url("/a"), headers={"Authorization": "Bearer t0ken"})
        assert first.requests_to("/b")[0].headers["Authorization"] == "Bearer t0ken"
        assert "Authorization" not in second.requests_to("/c")[0].headers


def test_authorization_follows_a_listed_move_and_no_further(make_client):
    with ScriptedServer() as old, ScriptedServer() as new, ScriptedServer() as other:
        old.add("/api", Reply(status=301, headers={"Location": new.url("/api")}))
        new.add("/api", Reply(status=302, headers={"Location": other.url("/api")}))
        other.add("/api", Reply(body=b"ok"))
        client = make_client(
            trusted_hosts=[old.host, new.host, other.host],
            credential_moves=[(old.url("/"), new.url("/"))],
        )
        client.get(old.url("/api"), headers={"Authorization": "Token k"})
        assert old.requests[0].headers["Authorization"] == "Token k"
        assert new.requests[0].headers["Authorization"] == "Token k"
        assert "Authorization" not in other.requests[0].headers


def test_authorization_does_not_follow_a_move_backwards(make_client):
    with ScriptedServer() as old, ScriptedServer() as new:
        new.add("/api", Reply(status=301, headers={"Location": old.url("/api")}))
        old.add("/api", Reply(body=b"ok"))
        client = make_client(
            trusted_hosts=[old.host, new.host], credential_moves=[(old.url("/"), new.url("/"))]
        )
        client.get(new.url("/api"), headers={"Authorization": "Token k"})
        assert "Authorization" not in old.requests[0].headers


def test_default_moves_do_not_cover_other_hosts(make_client):
    with ScriptedServer() as first, ScriptedServer() as second:
        first.add("/api", Reply(status=301, headers={"Location": second.url("/api")}))
        second.add("/api", Reply(body=b"ok"))
        client = make_client(trusted_hosts=[first.host, second.host])
        client.get(first.url("/api"), headers={"Authorization": "Token k"})
        assert "Authorization" not in second.requests[0].headers


@pytest.mark.parametrize(
    ("source", "target", "keeps"),
    [
        ("https://lda.senate.gov/api/v1/filings/", "https://lda.gov/api/v1/filings/", True),
        ("https://LDA.senate.gov:443/api/v1/", "https://lda.gov./api/v1/", True),
        ("https://lda.gov/api/v1/?page=2", "https://lda.gov/api/v1/?page=3", True),
        ("https://lda.gov/api/v1/", "https://lda.senate.gov/api/v1/", False),
        ("https://lda.senate.gov/api/v1/", "https://www.lda.gov/api/v1/", False),
        ("https://lda.senate.gov/api/v1/", "http://lda.gov/api/v1/", False),
        ("https://lda.senate.gov/api/v1/", "https://lda.gov:8443/api/v1/", False),
        ("https://lda.senate.gov/api/v1/", "https://lda.gov.evil.example/api/v1/", False),
        ("https://lda.senate.gov/api/v1/", "https://evil.example/api/v1/", False),
        ("https://api.sam.gov/x", "https://lda.gov/api/v1/", False),
        ("https://lda.gov/api/v1/", "http://lda.gov/api/v1/", False),
    ],
)
def test_credentials_follow_only_the_documented_lda_move(source, target, keeps):
    assert credentials_may_follow(source, target) is keeps


def test_documented_moves_are_the_lda_pair_only():
    assert {("https://lda.senate.gov", "https://lda.gov")} == CREDENTIAL_MOVES
    assert origin("HTTP://Example.org:80/a?b") == "http://example.org"
    assert origin("http://[::1]:8080/") == "http://[::1]:8080"


def test_redirect_loop_stops_at_max_redirects(server, make_client):
    server.add("/loop", Reply(status=302, headers={"Location": "/loop"}))
    client = make_client(max_redirects=3)
    with pytest.raises(FetchError, match="more than 3 redirects"):
        client.get(server.url("/loop"))
    assert len(server.requests) == 4


# -- politeness ------------------------------------------------------------------------


def test_rate_limit_spaces_requests_per_host(make_client, sleeps):
    with ScriptedServer() as first, ScriptedServer() as second:
        first.add("/", Reply(body=b"1"))
        second.add("/", Reply(body=b"2"))
        client = make_client(trusted_hosts=[first.host, second.host], min_interval=5.0)
        client.get(first.url("/"))
        client.get(second.url("/"))
        assert sleeps == []
        client.get(first.url("/"))
        assert len(sleeps) == 1
        assert 4.0 < sleeps[0] <= 5.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_local_limiter_books_slots_per_host():
    clock = FakeClock()
    limiter = LocalLimiter(clock=clock)
    assert limiter.reserve("a.example", 5.0) == 0
    assert limiter.reserve("b.example", 5.0) == 0
    assert limiter.reserve("a.example", 5.0) == 5.0
    # A third request booked before the second was sent waits for the slot after it.
    assert limiter.reserve("a.example", 5.0) == 10.0
    clock.now += 30
    assert limiter.reserve("a.example", 5.0) == 0


def test_client_sleeps_for_the_slot_its_limiter_books(server, make_client, sleeps):
    server.add("/", Reply(body=b"ok"))

    class Booked:
        def __init__(self) -> None:
            self.calls: list[tuple[str, float]] = []

        def reserve(self, host: str, interval: float) -> float:
            self.calls.append((host, interval))
            return 2.5

    limiter = Booked()
    client = make_client(limiter=limiter, min_interval=3.0)
    client.get(server.url("/"))
    assert limiter.calls == [(server.host, 3.0)]
    assert sleeps == [2.5]


class CountedQuota:
    """An in-memory quota: ``take`` succeeds ``allowed`` times."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed
        self.taken = 0

    def take(self) -> bool:
        if self.taken >= self.allowed:
            return False
        self.taken += 1
        return True

    def left(self) -> int:
        return self.allowed - self.taken


def test_client_without_quota_reports_none(client):
    assert client.quota_left() is None


def test_every_attempt_takes_a_unit_of_the_quota(server, make_client):
    server.add("/", Reply(status=503), Reply(body=b"ok"))
    quota = CountedQuota(5)
    client = make_client(quota=quota)
    assert client.get(server.url("/")).content == b"ok"
    assert len(server.requests) == 2
    assert quota.taken == 2
    assert client.quota_left() == 3


def test_spent_quota_raises_and_sends_nothing(server, make_client):
    server.add("/", Reply(body=b"ok"))
    client = make_client(quota=CountedQuota(1))
    client.get(server.url("/"))
    with pytest.raises(QuotaExhausted, match=r"^request quota spent: nothing more is sent to"):
        client.get(server.url("/"))
    assert len(server.requests) == 1
    assert client.quota_left() == 0


def test_quota_running_out_during_retries_stops_them(server, make_client, sleeps):
    server.add("/", Reply(status=503))
    client = make_client(quota=CountedQuota(2), max_retries=4)
    with pytest.raises(QuotaExhausted):
        client.get(server.url("/"))
    assert len(server.requests) == 2
    assert len(sleeps) == 2  # the backoff before the third attempt, which was never sent


def test_robots_txt_disallow_is_respected_and_cached(server, make_client):
    robots = b"User-agent: spyglass\nDisallow: /private\n\nUser-agent: *\nDisallow: /\n"
    server.add("/robots.txt", Reply(body=robots, headers={"Content-Type": "text/plain"}))
    server.add("/public", Reply(body=b"ok"))
    server.add("/private/contracts", Reply(body=b"no"))
    client = make_client(respect_robots=True)
    assert client.get(server.url("/public")).content == b"ok"
    with pytest.raises(FetchError, match=r"disallowed by robots\.txt"):
        client.get(server.url("/private/contracts"))
    assert client.get(server.url("/public")).content == b"ok"
    assert [r.path for r in server.requests] == ["/robots.txt", "/public", "/public"]


def test_robots_txt_wildcards_are_honoured(server, make_client):
    server.add("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /*.pdf$\n"))
    server.add("/docs/a.pdf.html", Reply(body=b"page"))
    client = make_client(respect_robots=True)
    with pytest.raises(FetchError, match=r"disallowed by robots\.txt"):
        client.get(server.url("/docs/a.pdf"))
    assert client.get(server.url("/docs/a.pdf.html")).content == b"page"
    assert [r.path for r in server.requests] == ["/robots.txt", "/docs/a.pdf.html"]


@pytest.mark.parametrize(
    "robots",
    [
        b"User-agent: *\nDisallow: /reports\nAllow: /reports/public\n",
        b"User-agent: *\nAllow: /reports/public\nDisallow: /reports\n",
    ],
)
def test_robots_txt_longest_match_wins_whatever_the_order(server, make_client, robots):
    server.add("/robots.txt", Reply(body=robots))
    server.add("/reports/public/2024", Reply(body=b"ok"))
    client = make_client(respect_robots=True)
    assert client.get(server.url("/reports/public/2024")).content == b"ok"
    with pytest.raises(FetchError, match=r"disallowed by robots\.txt"):
        client.get(server.url("/reports/private"))


def test_robots_txt_matches_the_product_token_only(server, make_client):
    """Our User-Agent mentions github.com; a group for a crawler named "github" is not ours."""
    server.add("/robots.txt", Reply(body=b"User-agent: github\nDisallow: /\n"))
    server.add("/page", Reply(body=b"ok"))
    assert "github" in DEFAULT_USER_AGENT
    assert robots_token(DEFAULT_USER_AGENT) == "Spyglass"
    assert make_client(respect_robots=True).get(server.url("/page")).content == b"ok"


def test_robots_txt_is_cached_per_origin(make_client):
    with ScriptedServer() as first, ScriptedServer() as second:
        first.add("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /x\n"))
        second.add("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /y\n"))
        for running in (first, second):
            running.add("/x", Reply(body=b"x"))
            running.add("/y", Reply(body=b"y"))
        client = make_client(trusted_hosts=[first.host, second.host], respect_robots=True)
        assert client.get(first.url("/y")).content == b"y"
        assert client.get(second.url("/x")).content == b"x"
        with pytest.raises(FetchError, match="robots"):
            client.get(first.url("/x"))
        with pytest.raises(FetchError, match="robots"):
            client.get(second.url("/y"))
        assert [r.path for r in first.requests] == ["/robots.txt", "/y"]
        assert [r.path for r in second.requests] == ["/robots.txt", "/x"]


def test_robots_txt_missing_allows_all(server, make_client):
    server.add("/page", Reply(body=b"ok"))
    assert make_client(respect_robots=True).get(server.url("/page")).content == b"ok"
    assert [r.path for r in server.requests] == ["/robots.txt", "/page"]


def test_robots_txt_server_error_disallows_all(server, make_client):
    server.add("/robots.txt", Reply(status=500))
    server.add("/page", Reply(body=b"ok"))
    with pytest.raises(FetchError, match=r"disallowed by robots\.txt"):
        make_client(respect_robots=True, max_retries=0).get(server.url("/page"))
    assert [r.path for r in server.requests] == ["/robots.txt"]


def test_robots_txt_forbidden_allows_all(server, make_client):
    server.add("/robots.txt", Reply(status=403))
    server.add("/page", Reply(body=b"ok"))
    assert make_client(respect_robots=True).get(server.url("/page")).content == b"ok"


def test_robots_txt_unreachable_disallows_all(idle_port, make_client):
    port = idle_port.getsockname()[1]
    idle_port.close()
    client = make_client(trusted_hosts=[f"127.0.0.1:{port}"], respect_robots=True, max_retries=0)
    with pytest.raises(FetchError, match=r"disallowed by robots\.txt"):
        client.get(f"http://127.0.0.1:{port}/page")


def test_robots_txt_ignored_unless_asked(server, client):
    server.add("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /\n"))
    server.add("/page", Reply(body=b"ok"))
    assert client.get(server.url("/page")).content == b"ok"
    assert [r.path for r in server.requests] == ["/page"]


# -- secrets ---------------------------------------------------------------------------


def test_api_key_is_sent_but_redacted_from_urls_and_errors(server, client):
    server.add("/ok", Reply(body=b"{}"))
    server.add("/bad", Reply(status=403))
    response = client.get(server.url("/ok"), params={"api_key": "S3CRET", "q": "ICE"})
    assert server.requests[0].query == {"api_key": "S3CRET", "q": "ICE"}
    assert "S3CRET" not in response.url
    assert "api_key=REDACTED" in response.url
    with pytest.raises(HTTPStatusError) as caught:
        client.get(server.url("/bad"), params={"api_key": "S3CRET"})
    assert "S3CRET" not in str(caught.value)
    assert "S3CRET" not in caught.value.url


def test_redact_leaves_other_urls_alone():
    assert (
        redact("https://api.sam.gov/x?limit=10&offset=0")
        == "https://api.sam.gov/x?limit=10&offset=0"
    )
    assert redact("https://x/?apiKey=abc&q=1") == "https://x/?apiKey=REDACTED&q=1"
