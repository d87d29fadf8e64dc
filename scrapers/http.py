"""The one HTTP client every source uses; it owns all network policy.

Policy: an identifying User-Agent; a connect timeout and a total deadline per request;
retries with full-jitter exponential backoff on 429, 5xx, connection errors, timeouts and
truncated bodies (honouring Retry-After); a per-host minimum interval (kept by a pluggable
``Limiter``: in-process by default, shared across workers when the caller passes one); an
optional request ``Quota`` that every attempt, retries included, draws on; a cap on the decoded
body size; manual redirects; refusal of any destination that is not a public address
(checked before connecting and again on the connected socket, against DNS rebinding);
Authorization kept across a redirect only within one origin or along a documented host
move (``CREDENTIAL_MOVES``); and, optionally, robots.txt (RFC 9309, with the ``*`` and
``$`` wildcards, through protego).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from protego import Protego
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from scrapers.base import Page, QuotaExhausted, SourceUnavailable, load_json

log = logging.getLogger("scrapers.http")

DEFAULT_USER_AGENT = "Spyglass/0.1 (+https://github.com/spyglass-tracker; public-interest research)"
CHUNK_SIZE = 64 * 1024
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Query parameters whose values never reach logs, errors or stored page URLs (SAM.gov,
# api.data.gov and Congress.gov all take the key in the query string).
SECRET_PARAMS = {"api_key", "apikey", "api-key", "access_token", "token", "key", "secret"}
# Origin moves a service documented, across which a redirect keeps the Authorization header.
# The Senate LDA API moved to lda.gov: lda.senate.gov answers with a Link rel="successor-version"
# to https://lda.gov/api/v1/ (sunset 2026-06-30) and 301s there. Every other cross-origin
# redirect drops the header.
CREDENTIAL_MOVES = frozenset({("https://lda.senate.gov", "https://lda.gov")})
ALLOW_ALL = Protego.parse("")
DISALLOW_ALL = Protego.parse("User-agent: *\nDisallow: /\n")

Resolver = Callable[..., list[tuple[Any, ...]]]


class FetchError(SourceUnavailable):
    """A request failed for good: refused by policy, retries exhausted, or body unusable."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        self.url = redact(url)
        self.reason = reason
        self.status = status
        super().__init__(f"{reason} ({self.url})")


class HTTPStatusError(FetchError):
    """The server's final answer was not 2xx; ``response`` holds it when one was read."""

    def __init__(
        self, url: str, reason: str, status: int, response: HttpResponse | None = None
    ) -> None:
        super().__init__(url, reason, status)
        self.response = response


@dataclass(slots=True)
class HttpResponse:
    """A fully read response; ``url`` is the final URL with secret parameters redacted."""

    status_code: int
    url: str
    headers: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)
    content: bytes = b""

    @property
    def text(self) -> str:
        """Return the body decoded with the declared charset (UTF-8 when none)."""
        message = Message()
        message["Content-Type"] = self.headers.get("Content-Type", "")
        charset = message.get_content_charset() or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Return the decoded JSON body; raises ``ParseError`` exactly as ``load_json`` does."""
        return load_json(Page(url=self.url, body=self.content))


class _Retryable(Exception):
    """One attempt failed in a way worth retrying."""

    def __init__(
        self,
        reason: str,
        status: int | None = None,
        response: HttpResponse | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.response = response
        self.retry_after = retry_after


def redact(url: str) -> str:
    """Return ``url`` with the values of secret query parameters replaced by REDACTED."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k.lower() in SECRET_PARAMS for k, _ in pairs):
        return url
    query = urlencode([(k, "REDACTED" if k.lower() in SECRET_PARAMS else v) for k, v in pairs])
    return urlunsplit(parts._replace(query=query))


def address_problem(address: str) -> str | None:
    """Return why ``address`` is not a public unicast address, or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for label in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{label}"):
            return label.replace("_", "-")
    # is_global also excludes shared (CGNAT 100.64/10) and other special-purpose ranges.
    return None if ip.is_global else "not globally routable"


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Return the seconds a Retry-After header asks us to wait (delta or HTTP-date form)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def _host_port(url: str) -> tuple[str, str, int]:
    """Return (scheme, host, port) of an http(s) URL, or raise FetchError."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(url, f"refused: scheme {scheme or '(none)'!r} is not http or https")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise FetchError(url, "refused: invalid port") from None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchError(url, "refused: no host")
    return scheme, host, port


def origin(url: str) -> str:
    """Return ``scheme://host[:port]`` of an http(s) URL, lower-cased, default port omitted."""
    scheme, host, port = _host_port(url)
    host = f"[{host.lower()}]" if ":" in host else host.lower()
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + ("" if port == default else f":{port}")


def credentials_may_follow(
    source: str, target: str, moves: Iterable[tuple[str, str]] = CREDENTIAL_MOVES
) -> bool:
    """Return whether Authorization may follow a redirect: same origin, or a listed move."""
    move = (origin(source), origin(target))
    return move[0] == move[1] or move in moves


def robots_token(user_agent: str) -> str:
    """Return the product token robots.txt groups are matched against ("Spyglass")."""
    return user_agent.split("/", 1)[0].strip() or user_agent


def _checked_adapter(check_peer: Callable[[str, int, str], None]) -> HTTPAdapter:
    """Return an adapter whose sockets are vetted by ``check_peer`` before any byte is sent."""

    def new_conn(base: type[HTTPConnection]) -> Callable[[HTTPConnection], socket.socket]:
        def _new_conn(self: HTTPConnection) -> socket.socket:
            sock = base._new_conn(self)
            try:
                check_peer(self.host, self.port, sock.getpeername()[0])
            except BaseException:
                sock.close()
                raise
            return sock

        return _new_conn

    http_conn = type(
        "CheckedHTTPConnection", (HTTPConnection,), {"_new_conn": new_conn(HTTPConnection)}
    )
    https_conn = type(
        "CheckedHTTPSConnection", (HTTPSConnection,), {"_new_conn": new_conn(HTTPSConnection)}
    )
    pools = {
        "http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }

    class CheckedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    return CheckedAdapter(max_retries=0)


class Limiter(Protocol):
    """Spaces the requests to each host ``interval`` seconds apart."""

    def reserve(self, host: str, interval: float) -> float:
        """Book the next free slot for ``host`` and return the seconds to wait for it."""
        ...


class Quota(Protocol):
    """A request allowance (e.g. a key's requests per day)."""

    def take(self) -> bool:
        """Use one request; return False (and use nothing) when none is left."""
        ...

    def left(self) -> int:
        """Return the requests still allowed."""
        ...


class LocalLimiter:
    """A ``Limiter`` that holds within this process only (the embedded default)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._next_free: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, host: str, interval: float) -> float:
        """Book the next free slot for ``host`` and return the seconds to wait for it."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_free.get(host, now))
            self._next_free[host] = slot + interval
            return slot - now


class HttpClient:
    """A polite, defensive HTTP client; see the module docstring for the policy."""

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        connect_timeout: float = 10.0,
        total_timeout: float = 60.0,
        max_retries: int = 4,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        retry_after_cap: float = 300.0,
        min_interval: float = 1.0,
        max_bytes: int = 50 * 2**20,
        max_redirects: int = 5,
        respect_robots: bool = False,
        trusted_hosts: Iterable[str] = (),
        credential_moves: Iterable[tuple[str, str]] = CREDENTIAL_MOVES,
        limiter: Limiter | None = None,
        quota: Quota | None = None,
        sleep: Callable[[float], None] = time.sleep,
        resolver: Resolver = socket.getaddrinfo,
    ) -> None:
        self.user_agent = user_agent
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self.min_interval = min_interval
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.respect_robots = respect_robots
        self.trusted_hosts = frozenset(h.lower() for h in trusted_hosts)
        self.credential_moves = frozenset((origin(a), origin(b)) for a, b in credential_moves)
        self.requests_made = 0
        self._sleep = sleep
        self._resolve = resolver
        self._limiter = limiter or LocalLimiter()
        self._quota = quota
        self._robots: dict[str, Protego] = {}
        self._session = requests.Session()
        self._session.trust_env = False  # no proxies or .netrc: the address checks must hold
        self._session.headers["User-Agent"] = user_agent
        adapter = _checked_adapter(self._check_peer)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def quota_left(self) -> int | None:
        """Return the requests the quota still allows, or None when this client has no quota."""
        return None if self._quota is None else self._quota.left()

    def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        """Return the 2xx response to a GET of ``url``; raises FetchError otherwise."""
        return self._request("GET", url, params=params, headers=headers)

    def post_json(
        self, url: str, payload: Any, *, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        """Return the 2xx response to a POST of ``payload`` as JSON; raises FetchError otherwise."""
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self._request("POST", url, headers=headers, data=body)

    # -- destination checks -------------------------------------------------------------

    def _trusted(self, host: str, port: int) -> bool:
        host = host.strip("[]").rstrip(".").lower()
        return f"{host}:{port}" in self.trusted_hosts or f"[{host}]:{port}" in self.trusted_hosts

    def _check_destination(self, url: str) -> None:
        """Raise FetchError unless ``url`` is http(s) to a trusted host or public addresses."""
        _, host, port = _host_port(url)
        if self._trusted(host, port):
            return
        try:
            infos = self._resolve(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise _Retryable(f"cannot resolve {host}: {exc}") from None
        for info in infos:
            address = info[4][0]
            problem = address_problem(address)
            if problem:
                raise FetchError(url, f"refused: {host} resolves to private address {address}")

    def _check_peer(self, host: str, port: int, peer: str) -> None:
        """Refuse a freshly connected socket whose peer is not public (DNS rebinding)."""
        if not self._trusted(host, port) and address_problem(peer):
            raise FetchError(
                f"{host}:{port}", f"refused: {host} resolves to private address {peer}"
            )

    # -- robots.txt ---------------------------------------------------------------------

    def _check_robots(self, url: str) -> None:
        site = origin(url)
        rules = self._robots.get(site)
        if rules is None:
            rules = self._robots[site] = self._load_robots(site + "/robots.txt")
        if not rules.can_fetch(url, robots_token(self.user_agent)):
            raise FetchError(url, "disallowed by robots.txt")

    def _load_robots(self, robots_url: str) -> Protego:
        """Return the parsed robots.txt; 4xx means allow-all, unreachable means disallow-all."""
        try:
            response = self._request("GET", robots_url, robots=False)
        except HTTPStatusError as exc:
            # RFC 9309 2.3.1: a 4xx robots.txt allows everything, a 5xx forbids everything.
            return ALLOW_ALL if exc.status is not None and 400 <= exc.status < 500 else DISALLOW_ALL
        except FetchError as exc:
            log.warning("robots.txt unreachable, treating as disallow-all: %s", exc)
            return DISALLOW_ALL
        return Protego.parse(response.text)

    # -- requests -----------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        robots: bool = True,
    ) -> HttpResponse:
        """Return the final 2xx response, following redirects hop by hop under the policy."""
        _host_port(url)
        try:
            prepared = self._session.prepare_request(
                requests.Request(method, url, params=params, headers=headers, data=data)
            )
        except requests.RequestException as exc:
            raise FetchError(url, f"invalid request: {exc}") from None
        for _ in range(self.max_redirects + 1):
            target = prepared.url or url
            if robots and self.respect_robots:
                self._check_robots(target)
            response = self._with_retries(prepared)
            if response.status_code not in REDIRECT_STATUSES:
                if not 200 <= response.status_code < 300:
                    raise HTTPStatusError(
                        target, f"HTTP {response.status_code}", response.status_code, response
                    )
                return response
            location = response.headers.get("Location")
            if not location:
                raise HTTPStatusError(target, "redirect without Location", response.status_code)
            prepared = self._redirected(prepared, response.status_code, urljoin(target, location))
        raise FetchError(url, f"more than {self.max_redirects} redirects")

    def _redirected(
        self, prepared: requests.PreparedRequest, status: int, location: str
    ) -> requests.PreparedRequest:
        """Return the request for the next hop (GET after 303, or after 301/302 of a POST)."""
        following = prepared.copy()
        following.prepare_url(urlsplit(location)._replace(fragment="").geturl(), None)
        if (status == 303 and following.method != "HEAD") or (
            status in (301, 302) and following.method == "POST"
        ):
            following.method = "GET"
            following.body = None
            for name in ("Content-Type", "Content-Length", "Transfer-Encoding"):
                following.headers.pop(name, None)
        if not credentials_may_follow(
            prepared.url or "", following.url or "", self.credential_moves
        ):
            following.headers.pop("Authorization", None)
        following.headers.pop("Cookie", None)
        following.prepare_cookies(self._session.cookies)
        return following

    def _with_retries(self, prepared: requests.PreparedRequest) -> HttpResponse:
        """Return the response to one hop, retrying transient failures with backoff."""
        url = prepared.url or ""
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._attempt(prepared.copy())
            except _Retryable as exc:
                if attempts > self.max_retries:
                    reason = f"{exc.reason} after {attempts} attempts"
                    if exc.status is None:
                        raise FetchError(url, reason) from None
                    raise HTTPStatusError(url, reason, exc.status, exc.response) from None
                delay = self._delay(attempts - 1, exc.retry_after)
                log.warning(
                    "retrying %s in %.2fs (attempt %d of %d): %s",
                    redact(url),
                    delay,
                    attempts + 1,
                    self.max_retries + 1,
                    exc.reason,
                )
                self._sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Return the wait before the next attempt: Retry-After (capped) or full jitter."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))

    def _wait_turn(self, host: str) -> None:
        """Use one unit of the quota, then sleep until the limiter's slot for ``host``."""
        if self._quota is not None and not self._quota.take():
            raise QuotaExhausted(f"request quota spent: nothing more is sent to {host}")
        wait = self._limiter.reserve(host, self.min_interval)
        if wait > 0:
            self._sleep(wait)

    def _attempt(self, prepared: requests.PreparedRequest) -> HttpResponse:
        """Return the response to one request; raise _Retryable for transient failures."""
        url = prepared.url or ""
        self._check_destination(url)
        self._wait_turn(urlsplit(url).netloc.lower())
        deadline = time.monotonic() + self.total_timeout
        self.requests_made += 1
        log.debug("%s %s", prepared.method, redact(url))
        try:
            raw = self._session.send(
                prepared,
                stream=True,
                allow_redirects=False,
                timeout=(min(self.connect_timeout, self.total_timeout), self.total_timeout),
            )
        except requests.exceptions.SSLError as exc:
            raise FetchError(url, f"TLS error: {exc}") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        except requests.RequestException as exc:
            raise FetchError(url, f"request failed: {exc}") from None
        with raw:
            content = self._read_body(raw, url, deadline)
        response = HttpResponse(
            status_code=raw.status_code,
            url=redact(url),
            headers=CaseInsensitiveDict(raw.headers),
            content=content,
        )
        if raw.status_code == 429 or raw.status_code >= 500:
            raise _Retryable(
                f"HTTP {raw.status_code}",
                status=raw.status_code,
                response=response,
                retry_after=parse_retry_after(raw.headers.get("Retry-After")),
            )
        return response

    def _read_body(self, raw: requests.Response, url: str, deadline: float) -> bytes:
        """Return the decoded body, enforcing the deadline, the size cap and completeness."""
        declared = raw.headers.get("Content-Length", "")
        encoded = raw.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
        if declared.isdigit() and not encoded and int(declared) > self.max_bytes:
            raise FetchError(url, f"response larger than max_bytes={self.max_bytes}")
        with _Watchdog(raw, deadline) as watchdog:
            chunks: list[bytes] = []
            size = 0
            try:
                for chunk in self._chunks(raw):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(url, f"response larger than max_bytes={self.max_bytes}")
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        break
            except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError) as exc:
                if not watchdog.fired and time.monotonic() <= deadline:
                    raise _Retryable(f"truncated body: {exc}") from None
        if watchdog.fired or time.monotonic() > deadline:
            raise _Retryable(f"total deadline of {self.total_timeout}s exceeded")
        content = b"".join(chunks)
        if declared.isdigit() and not encoded and len(content) < int(declared):
            raise _Retryable(f"truncated body: {len(content)} of {declared} bytes")
        return content

    @staticmethod
    def _chunks(raw: requests.Response) -> Iterator[bytes]:
        """Yield decoded body chunks, turning decoder failures into FetchError."""
        try:
            yield from raw.iter_content(CHUNK_SIZE)
        except requests.exceptions.ContentDecodingError as exc:
            raise FetchError(raw.url or "", f"undecodable body: {exc}") from None


class _Watchdog:
    """Shuts the response's socket down at the deadline so a blocked read returns at once.

    urllib3 reads until a whole chunk arrives, so a body dripped a byte at a time would
    otherwise never give the read loop a chance to look at the clock.
    """

    def __init__(self, raw: requests.Response, deadline: float) -> None:
        self.fired = False
        self._raw = raw
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            try:
                self._raw.raw.shutdown()
            except Exception:  # the connection may already be released or closed
                self._raw.close()

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()
