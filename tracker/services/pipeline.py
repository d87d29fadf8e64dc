"""Fetching and parsing pages in a background thread while the importer writes.

The importer spends much of its time inside the database driver (SQLite's C code, waits for
PostgreSQL), which releases the GIL; fetching and parsing the next pages meanwhile uses the
second core. Order is kept, and anything the producer raises is raised to the consumer at
the same place in the sequence.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_SECONDS = 0.1


def read_ahead(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """``items`` produced by a background thread at most ``depth`` ahead of the consumer.

    When the consumer stops early (``break``, an exception, garbage collection), the producer
    stops after its current item and closes ``items``.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:
            put((_DONE, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
