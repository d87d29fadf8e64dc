"""What a parsing worker process runs: a source module's ``parse`` over a group of pages.

Pages and results travel through files, not the worker pool's pipes: a pipe holds 64 KB, so a
group (hundreds of KB pickled) would cross it in many writes and reads, each waiting for the
importer's thread to yield the GIL (up to 5 ms), and the worker would stall meanwhile.
"""

from __future__ import annotations

import importlib
import os
import pickle
import tempfile
from collections.abc import Sequence
from typing import Any

from scrapers.base import Page, Parsed, ParseError, raw_json, record_hash

Results = list[tuple[Parsed | None, ParseError | None]]


def leave(value: Any, folder: str, prefix: str) -> str:
    """Pickle ``value`` into a new file in ``folder``; its path."""
    handle, path = tempfile.mkstemp(prefix=prefix, dir=folder)
    with os.fdopen(handle, "wb") as file:
        file.write(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return path


def take(path: str) -> Any:
    """What ``leave`` put at ``path``, which is removed."""
    try:
        with open(path, "rb") as file:
            return pickle.loads(file.read())  # noqa: S301 - written by this program
    finally:
        os.unlink(path)


def parse_group(module_name: str, pages_path: str) -> str:
    """Parse the pages left at ``pages_path`` with the source module ``module_name``.

    Returns the path of the results, one ``(parsed, None)`` or ``(None, ParseError)`` per
    page: a refused page (reported, the run goes on) is told apart from a crash (raised).
    The records' hashes are computed here too, off the importer's process, and their raw
    payloads serialised (``RawJSON``).
    """
    module = importlib.import_module(module_name)
    pages: Sequence[Page] = take(pages_path)
    results: Results = []
    for page in pages:
        try:
            parsed = module.parse(page)
        except ParseError as exc:
            results.append((None, exc))
            continue
        parsed.hashes = []
        for record in parsed.records:
            record.raw = raw_json(record.raw)
            parsed.hashes.append(record_hash(record))
        results.append((parsed, None))
    return leave(results, os.path.dirname(pages_path), "parsed-")
