"""A scripted HTTP server on 127.0.0.1 for network tests: replies are queued per path.

    with ScriptedServer() as server:
        server.add("/api", Reply(status=429, headers={"Retry-After": "3"}), Reply(body=b"{}"))
        client = HttpClient(trusted_hosts=[server.host], min_interval=0, sleep=lambda s: None)
        client.get(server.url("/api"))
        assert len(server.requests) == 2

Replies for a path are served in order and the last one repeats. A path added without "?"
matches any query string; one added with "?" matches that exact query string first.
Unknown paths (including /robots.txt unless added) get an empty 404.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from requests.structures import CaseInsensitiveDict

# Hard bounds so a streaming reply always ends even if the client never hangs up.
ENDLESS_MAX_BYTES = 200 * 2**20
ENDLESS_MAX_SECONDS = 30.0
DRIP_MAX_SECONDS = 30.0


@dataclass
class Reply:
    """One scripted response.

    ``delay`` sleeps before the status line; ``drip`` sleeps that many seconds between
    ``chunk``-byte pieces of the body; ``truncate`` declares a Content-Length larger than
    the body and closes the connection after sending it; ``endless`` streams ``body`` (or
    ``b"x"`` blocks) without a Content-Length until the client disconnects (bounded by
    ENDLESS_MAX_BYTES / ENDLESS_MAX_SECONDS).
    """

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip: float | None = None
    truncate: bool = False
    endless: bool = False
    chunk: int = 1

    @classmethod
    def json(cls, payload: Any, status: int = 200, **kwargs: Any) -> Reply:
        """Return a reply carrying ``payload`` as an application/json body."""
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return cls(status=status, body=json.dumps(payload).encode(), headers=headers, **kwargs)

    @property
    def data(self) -> bytes:
        """Return the body as bytes (str bodies are UTF-8 encoded)."""
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


class Request(NamedTuple):
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict
    body: bytes

    def json(self) -> Any:
        """Return the request body decoded as JSON."""
        return json.loads(self.body)


class ScriptedServer:
    """A loopback HTTP/1.1 server serving queued ``Reply`` objects; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: dict[str, list[Reply]] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        """Return the port the server listens on."""
        return self._httpd.server_address[1]

    @property
    def host(self) -> str:
        """Return "127.0.0.1:PORT", the form ``HttpClient(trusted_hosts=...)`` expects."""
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        """Return the absolute URL of ``path`` on this server."""
        return f"http://{self.host}/{path.lstrip('/')}"

    def add(self, path: str, *replies: Reply) -> None:
        """Queue ``replies`` for ``path`` (appended after any already queued)."""
        if not replies:
            raise ValueError("add() needs at least one Reply")
        key = "/" + path.lstrip("/")
        with self._lock:
            self._routes.setdefault(key, []).extend(replies)

    def requests_to(self, path: str) -> list[Request]:
        """Return the recorded requests whose path (without query) equals ``path``."""
        key = "/" + path.lstrip("/")
        with self._lock:
            return [r for r in self.requests if r.path == key]

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving, wake any sleeping reply, and release the socket."""
        self._stop.set()
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def _next_reply(self, raw_path: str, request: Request) -> Reply | None:
        """Record ``request`` and return the reply queued for it, or None when unknown."""
        parts = urlsplit(raw_path)
        with self._lock:
            self.requests.append(request)
            key = f"{parts.path}?{parts.query}" if parts.query else parts.path
            if key not in self._routes:
                key = parts.path
            replies = self._routes.get(key)
            if not replies:
                return None
            index = self._served.get(key, 0)
            self._served[key] = index + 1
            return replies[min(index, len(replies) - 1)]


class _QuietServer(ThreadingHTTPServer):
    """A threading server that does not print tracebacks for clients hanging up early."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore disconnects (tests abort reads on purpose); report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    """Return a request handler class bound to ``server``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                pieces = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    pieces.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(pieces)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers=CaseInsensitiveDict(self.headers.items()),
                body=self._read_body(),
            )
            reply = server._next_reply(self.path, request) or Reply(status=404)
            try:
                self._send(reply)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                self.close_connection = True

        def _send(self, reply: Reply) -> None:
            if reply.delay and server._stop.wait(reply.delay):
                self.close_connection = True
                return
            body = reply.data
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            declared = {k.lower() for k in reply.headers}
            if reply.endless:
                self.send_header("Connection", "close")
                self.end_headers()
                self._stream_forever(body or b"x" * 65536, reply.drip)
                self.close_connection = True
                return
            if "content-length" not in declared:
                length = len(body) * 2 + 100 if reply.truncate else len(body)
                self.send_header("Content-Length", str(length))
            if reply.truncate:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command == "HEAD":
                return
            if reply.drip:
                self._drip(body, reply.drip, max(1, reply.chunk))
            else:
                self.wfile.write(body)
            self.wfile.flush()

        def _drip(self, body: bytes, interval: float, size: int) -> None:
            deadline = time.monotonic() + DRIP_MAX_SECONDS
            for start in range(0, len(body), size):
                if start and (server._stop.wait(interval) or time.monotonic() > deadline):
                    self.close_connection = True
                    return
                self.wfile.write(body[start : start + size])
                self.wfile.flush()

        def _stream_forever(self, block: bytes, interval: float | None) -> None:
            sent = 0
            deadline = time.monotonic() + ENDLESS_MAX_SECONDS
            while sent < ENDLESS_MAX_BYTES and time.monotonic() < deadline:
                if server._stop.is_set():
                    return
                self.wfile.write(block)
                self.wfile.flush()
                sent += len(block)
                if interval and server._stop.wait(interval):
                    return

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    return Handler
