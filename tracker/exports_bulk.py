"""Bulk downloads of the whole database: events and entities as gzip CSV and JSON Lines files.

``bulk_exports_write`` regenerates them (after each scrape); each file is written to a temp
file and renamed, so a download never sees a half-written file.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse

from tracker.exports import (
    CHUNK_SIZE,
    COLUMNS,
    FORMATS,
    batched,
    csv_line,
    event_records,
    format_chunk,
)
from tracker.models import Agency, AgencyAlias, Technology, Vendor, VendorAlias
from tracker.selectors import EventFilters, event_search

ENTITY_EXPORTS: dict[str, tuple[type, tuple[str, ...], type | None, str]] = {
    "agencies": (
        Agency,
        (
            "slug",
            "name",
            "acronym",
            "parent__slug",
            "level",
            "agency_type",
            "country",
            "state",
            "place",
            "toptier_code",
            "subtier_code",
            "fpds_id",
        ),
        AgencyAlias,
        "agency_id",
    ),
    "vendors": (
        Vendor,
        ("slug", "name", "parent__slug", "uei", "duns", "cage", "website"),
        VendorAlias,
        "vendor_id",
    ),
    "technologies": (
        Technology,
        ("slug", "name", "parent__slug", "atlas_category", "description"),
        None,
        "",
    ),
}
BULK_DATASETS = ("events", *ENTITY_EXPORTS)
BULK_NAMES = tuple(f"spyglass-{name}.{fmt}.gz" for name in BULK_DATASETS for fmt in FORMATS)


def entity_columns(name: str) -> tuple[str, ...]:
    """The columns of the ``name`` entity export ("parent" is the parent's slug)."""
    _, fields, alias_model, _ = ENTITY_EXPORTS[name]
    columns = tuple(field.replace("parent__slug", "parent") for field in fields)
    return (*columns, *(("aliases",) if alias_model else ()), "url")


def entity_records(name: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[list[list[Any]]]:
    """Chunks of records for every agency, vendor or technology (``name``), by id."""
    model, fields, alias_model, alias_fk = ENTITY_EXPORTS[name]
    page = model._meta.model_name + "-detail"
    url = settings.SITE_URL + reverse(page, args=["slug-placeholder"]).replace(
        "slug-placeholder", "{}"
    )
    rows = model.objects.order_by("id").values_list("id", *fields).iterator(chunk_size=chunk_size)
    for chunk in batched(rows, chunk_size):
        aliases: dict[int, list[str]] = defaultdict(list)
        if alias_model is not None:
            found = alias_model.objects.filter(**{f"{alias_fk}__in": [row[0] for row in chunk]})
            for owner, alias in found.order_by("name", "id").values_list(alias_fk, "name"):
                aliases[owner].append(alias)
        yield [
            [*row[1:], *((aliases.get(row[0], []),) if alias_model else ()), url.format(row[1])]
            for row in chunk
        ]


def bulk_dir() -> Path:
    """Where the bulk files live: ``VAR_DIR/downloads``."""
    return Path(settings.VAR_DIR) / "downloads"


@contextmanager
def _atomic_gzip(path: Path) -> Iterator[io.TextIOWrapper]:
    """A text stream into a gzip temp file beside ``path``, renamed over it only on success."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed after
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            with (
                gzip.GzipFile(path.name[:-3], "wb", fileobj=handle, mtime=0) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
            ):
                yield text
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def bulk_exports_write(directory: Path | None = None) -> list[Path]:
    """Write every bulk file (events and entities, CSV and JSON Lines, gzip) atomically.

    Idempotent: each file is rewritten in a temp file and renamed, so readers never see a
    half-written download. Returns the paths written.
    """
    directory = directory or bulk_dir()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in BULK_DATASETS:
        if name == "events":
            columns, numeric = COLUMNS, frozenset({6})
            chunks = event_records(event_search(EventFilters(all=True)))
        else:
            columns, numeric = entity_columns(name), frozenset()
            chunks = entity_records(name)
        paths = [directory / f"spyglass-{name}.{fmt}.gz" for fmt in FORMATS]
        with _atomic_gzip(paths[0]) as csv_out, _atomic_gzip(paths[1]) as jsonl_out:
            csv_out.write(csv_line(columns))
            for records in chunks:
                csv_out.write(format_chunk(records, "csv", columns, numeric))
                jsonl_out.write(format_chunk(records, "jsonl", columns))
        written.extend(paths)
    return written


@dataclass(frozen=True)
class BulkFile:
    """One generated bulk file as the downloads page lists it."""

    name: str
    path: Path
    size: int
    modified: dt.datetime


def bulk_files() -> list[BulkFile]:
    """The bulk files that exist now, in ``BULK_NAMES`` order."""
    found = []
    for name in BULK_NAMES:
        path = bulk_dir() / name
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        modified = dt.datetime.fromtimestamp(stat.st_mtime, tz=dt.UTC)
        found.append(BulkFile(name=name, path=path, size=stat.st_size, modified=modified))
    return found
