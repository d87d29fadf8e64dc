"""At most a few CSV exports at once per web process and per client, so page views always find a
free thread.

A streamed export holds one of the process's threads (8 in ``tracker/gunicorn_conf.py``) until
the last row is sent. ``export_limited`` counts open exports and answers 429 with
``Retry-After`` past ``MAX_PER_PROCESS`` in this process or ``MAX_PER_CLIENT`` from one address
(``client_address``).
A slot is freed when the server closes the response — it always does, after the last byte, a
client disconnect or an error — or, failing that, when the response is garbage-collected.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse

from tracker.security import client_address

MAX_PER_PROCESS = 4  # of gunicorn_conf.py's 8 threads: the other half stay free for pages
MAX_PER_CLIENT = 2
RETRY_AFTER = 30  # seconds


class ExportSlots:
    """A per-process count of open exports, in total and per client address (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open: Counter[str] = Counter()

    def acquire(self, client: str) -> bool:
        """Take a slot for ``client``; False when the process or the client is at its limit."""
        with self._lock:
            if self.open.total() >= MAX_PER_PROCESS or self.open[client] >= MAX_PER_CLIENT:
                return False
            self.open[client] += 1
            return True

    def release(self, client: str) -> None:
        with self._lock:
            self.open[client] -= 1
            if self.open[client] <= 0:
                del self.open[client]


slots = ExportSlots()


class _Once:
    """``release(client)`` at the first call only: close, GC and errors may all call it."""

    def __init__(self, client: str) -> None:
        self.client: str | None = client

    def __call__(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            slots.release(client)


class _ReleasingChunks:
    """A response's chunks; Django calls ``close`` when the server closes the response.

    A generator's ``finally`` would not do: closing a generator that never started (the client
    left before the first row) skips its body, and the slot would never be freed.
    """

    def __init__(self, chunks: Iterable[bytes], release: _Once) -> None:
        self._chunks = iter(chunks)
        self.close = release
        weakref.finalize(self, release)  # a response dropped without close() frees it too

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)


def too_many_exports() -> HttpResponse:
    """The 429 answer: when to retry, and where the whole database is without waiting."""
    response = HttpResponse(
        f"Too many CSV downloads are running; try again in {RETRY_AFTER} seconds, or download "
        f"the whole database from {reverse('downloads')}\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def export_limited(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """``view`` counted against the export limits; its slot is held until its response closes."""

    @wraps(view)
    def limited(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        client = client_address(request)
        if not slots.acquire(client):
            return too_many_exports()
        release = _Once(client)
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            release()
            raise
        if response.streaming:
            response.streaming_content = _ReleasingChunks(response.streaming_content, release)
        else:  # a 400 or 404 is already complete
            release()
        return response

    return limited
