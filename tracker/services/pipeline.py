"""Fetching and parsing pages ahead of the importer.

A live scrape spends most of its time waiting on the network and the importer much of its
time inside the database driver (SQLite's C code, waits for PostgreSQL), both of which
release the GIL; fetching and parsing the next pages meanwhile overlaps them. Order is kept,
and anything the producer raises is raised to the consumer at the same place in the sequence.

Parsing in a thread still holds the GIL, so it competes with the importer. For sources whose
parsing costs several times what copying its records between processes does
(``PARSE_IN_PROCESS``: FPDS's XML, about 120 µs a record against 15 µs to unpickle), pages go
to a worker process instead. Where parsing is cheap (USAspending's JSON: 36 µs against 28),
the thread stays: a worker process would cost the importer as much as it saves.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import ModuleType
from typing import TypeVar

from django.conf import settings

from scrapers.base import Page, Parsed, ParseError
from scrapers.worker import leave, parse_group, take

log = logging.getLogger(__name__)

T = TypeVar("T")
_DONE = object()
_POLL_SECONDS = 0.1
# Pages go to a worker in groups of about this many bytes: every hand-over between threads
# waits for the importer's thread to yield the GIL (up to 5 ms), so one per page would starve it.
CHUNK_BYTES = 256 * 1024
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


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


def parse_pool() -> ProcessPoolExecutor | None:
    """The process's parsing workers (``PARSE_PROCESSES`` of them), or None when set to 0.

    Started once and reused by every run in this process; "spawn", so the workers hold no
    copy of this process's database connections or threads.
    """
    global _pool
    if settings.PARSE_PROCESSES < 1:
        return None
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(settings.PARSE_PROCESSES, mp_context=context)
        return _pool


def _discard_pool(pool: ProcessPoolExecutor, reason: BaseException) -> None:
    """Forget a pool that cannot work (a worker died, or processes cannot be started here)."""
    global _pool
    with _pool_lock:
        if _pool is not pool:
            return  # already discarded
        _pool = None
    log.warning("parsing in this process from now on: worker processes failed: %r", reason)
    pool.shutdown(wait=False, cancel_futures=True)


def parsed_pages(
    module: ModuleType, pages: Iterable[Page], *, depth: int = 64
) -> Iterator[tuple[Page, Parsed | None, ParseError | None]]:
    """Each page with what ``module.parse`` made of it, or the ``ParseError`` it raised.

    Pages are fetched ahead in a ``read_ahead`` thread and parsed there, or, for a module with
    ``PARSE_IN_PROCESS``, in ``parse_pool``'s worker processes; if the workers fail, the
    pages left are parsed in this process. ``depth`` (pages, or groups of pages for a worker)
    lets parsing run a whole import batch ahead: the importer takes nothing while it writes
    a batch, and with 4 pages in hand the worker sat idle through every write.
    """
    pool = parse_pool() if getattr(module, "PARSE_IN_PROCESS", False) else None
    if pool is None:
        return read_ahead(_parse_each(module, pages), depth)
    return _in_workers(module, pool, pages, depth)


def _parse_each(
    module: ModuleType, pages: Iterable[Page]
) -> Iterator[tuple[Page, Parsed | None, ParseError | None]]:
    for page in pages:
        yield page, *_parse_here(module, page)


def _parse_here(module: ModuleType, page: Page) -> tuple[Parsed | None, ParseError | None]:
    try:
        return module.parse(page), None
    except ParseError as exc:
        return None, exc


def _submitted(
    pool: ProcessPoolExecutor, module: ModuleType, pages: Iterable[Page], folder: str
) -> Iterator[tuple[list[Page], Future | None]]:
    """Groups of pages with their parse submitted to ``pool`` (None once the pool failed)."""
    working: ProcessPoolExecutor | None = pool
    for group in _groups(pages):
        future = None
        if working is not None:
            try:
                pages_path = leave(group, folder, "pages-")
                future = working.submit(parse_group, module.__name__, pages_path)
            except (BrokenProcessPool, RuntimeError, OSError, AssertionError) as exc:
                # AssertionError: a daemonic process (e.g. some task pools) may not have children.
                _discard_pool(working, exc)
                working = None
        yield group, future


def _groups(pages: Iterable[Page]) -> Iterator[list[Page]]:
    """Consecutive pages in groups of at least ``CHUNK_BYTES`` of body (the last one less)."""
    group: list[Page] = []
    size = 0
    for page in pages:
        group.append(page)
        size += len(page.body)
        if size >= CHUNK_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _in_workers(
    module: ModuleType, pool: ProcessPoolExecutor, pages: Iterable[Page], depth: int
) -> Iterator[tuple[Page, Parsed | None, ParseError | None]]:
    # The run's own folder for the files pages and results travel in (see scrapers.worker).
    folder = tempfile.mkdtemp(prefix="spyglass-parse-")
    try:
        for group, future in read_ahead(_submitted(pool, module, pages, folder), depth):
            if future is not None:
                try:
                    results = take(future.result())
                except BrokenProcessPool as exc:
                    _discard_pool(pool, exc)
                else:
                    for page, result in zip(group, results, strict=True):
                        yield page, *result
                    continue
            for page in group:
                yield page, *_parse_here(module, page)
    finally:
        # Also what a run that stopped early left: groups parsed but never taken.
        shutil.rmtree(folder, ignore_errors=True)
