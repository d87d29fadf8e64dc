"""Bulk downloads of the whole database: events and entities as gzip CSV and JSON Lines files.

They live in ``STORAGES["bulk"]``: one place that every web host reads and whichever host runs
the task writes (a folder every host mounts, by default ``BULK_EXPORTS_DIR``, or any Django
storage such as S3). ``bulk_exports_write`` regenerates them after each scrape, so a download
never sees a half-written file; ``bulk_download`` serves them.
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
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from tracker.exports.rows import (
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


def bulk_storage() -> Storage:
    """The configured ``STORAGES["bulk"]``, where every host writes and reads the bulk files."""
    return storages["bulk"]


def _store(storage: Storage, name: str, handle: IO[bytes]) -> None:
    """Save a complete file under ``name`` in a storage other than a folder.

    A storage that overwrites (S3 by default) replaces the old file in one step; one that would
    pick another name loses the old file just before the new one is saved: a moment without the
    file, never a partial one.
    """
    if storage.exists(name) and storage.get_available_name(name) != name:
        storage.delete(name)
    saved = storage.save(name, File(handle, name=name))
    if saved != name:
        storage.delete(saved)
        raise RuntimeError(f"bulk storage saved {name} as {saved}")


@contextmanager
def _atomic_gzip(storage: Storage, name: str) -> Iterator[io.TextIOWrapper]:
    """A text stream into a gzip temp file, which becomes ``name`` in ``storage`` on success.

    In a folder the temp file sits beside the target and is renamed over it (atomic, also on
    NFS); elsewhere it is a local temp file, saved to the storage once complete.
    """
    folder = Path(storage.path(name)).parent if isinstance(storage, FileSystemStorage) else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed or removed
        dir=folder, prefix=f".{name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            with (
                gzip.GzipFile(name[:-3], "wb", fileobj=handle, mtime=0) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
            ):
                yield text
            handle.flush()
            if folder is None:
                handle.seek(0)
                _store(storage, name, handle)
            else:
                os.fsync(handle.fileno())
        if folder is not None:
            os.chmod(handle.name, 0o644)
            os.replace(handle.name, folder / name)
    finally:
        Path(handle.name).unlink(missing_ok=True)


def bulk_exports_write(storage: Storage | None = None) -> list[BulkFile]:
    """Write every bulk file (events and entities, CSV and JSON Lines, gzip) to the bulk storage.

    Idempotent: each file is complete before it replaces the previous one, so readers never see
    a half-written download. Returns the files written.
    """
    storage = storage or bulk_storage()
    for name in BULK_DATASETS:
        if name == "events":
            columns = COLUMNS
            chunks = event_records(event_search(EventFilters(all=True)))
        else:
            columns = entity_columns(name)
            chunks = entity_records(name)
        csv_name, jsonl_name = (f"spyglass-{name}.{fmt}.gz" for fmt in FORMATS)
        with (
            _atomic_gzip(storage, csv_name) as csv_out,
            _atomic_gzip(storage, jsonl_name) as jsonl_out,
        ):
            csv_out.write(csv_line(columns))
            for records in chunks:
                csv_out.write(format_chunk(records, "csv", columns))
                jsonl_out.write(format_chunk(records, "jsonl", columns))
    return bulk_files(storage)


@dataclass(frozen=True)
class BulkFile:
    """One generated bulk file as the downloads page lists it."""

    name: str
    size: int
    modified: dt.datetime


def bulk_files(storage: Storage | None = None) -> list[BulkFile]:
    """The bulk files that exist now, in ``BULK_NAMES`` order."""
    storage = storage or bulk_storage()
    found = []
    for name in BULK_NAMES:
        try:
            if not storage.exists(name):
                continue
            found.append(BulkFile(name, storage.size(name), storage.get_modified_time(name)))
        except FileNotFoundError:  # replaced or removed between the calls
            continue
    return found


def _public_url(storage: Storage, name: str) -> str | None:
    """An absolute URL the storage itself serves ``name`` at (S3 and the like), if any."""
    try:
        url = storage.url(name)
    except NotImplementedError:
        return None
    return url if url.startswith(("https://", "http://")) else None


def _not_generated(request: HttpRequest, name: str) -> HttpResponse:
    return render(request, "tracker/exports/download_missing.html", {"name": name}, status=404)


@require_safe
def bulk_download(request: HttpRequest, name: str) -> HttpResponseBase:
    """A bulk file from the bulk storage: streamed from a folder, else a redirect to the storage's
    own URL (or streamed when it has none); a 404 page saying so when it is not written yet."""
    if name not in BULK_NAMES:
        raise Http404("No such download.")
    storage = bulk_storage()
    if not isinstance(storage, FileSystemStorage):
        if not storage.exists(name):
            return _not_generated(request, name)
        if url := _public_url(storage, name):
            return redirect(url)
    try:
        handle = storage.open(name, "rb")
    except FileNotFoundError:
        return _not_generated(request, name)
    return FileResponse(handle, as_attachment=True, filename=name, content_type="application/gzip")
