"""Fetching and parsing pages in a background thread while the importer writes.

A live scrape spends most of its time waiting on the network and the importer much of its
time inside the database driver (SQLite's C code, waits for PostgreSQL), both of which
release the GIL; fetching and parsing the next pages meanwhile overlaps them. Order is kept,
and anything the producer raises is raised to the consumer at the same place in the sequence.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import TypeVar

from scrapers.base import Page, Parsed, ParseError

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


def parsed_pages(
    module: ModuleType, pages: Iterable[Page], *, depth: int = 4
) -> Iterator[tuple[Page, Parsed | None, ParseError | None]]:
    """Each page with what ``module.parse`` made of it, or the ``ParseError`` it raised,
    fetched and parsed in a ``read_ahead`` thread while the caller imports the pages before.

    (Parsing in a child process instead was tried: unpickling the records in the importer's
    process cost about what parsing did, and USAspending ingest got slower.)
    """
    return read_ahead(_parse_each(module, pages), depth)


def _parse_each(
    module: ModuleType, pages: Iterable[Page]
) -> Iterator[tuple[Page, Parsed | None, ParseError | None]]:
    for page in pages:
        try:
            yield page, module.parse(page), None
        except ParseError as exc:
            yield page, None, exc
