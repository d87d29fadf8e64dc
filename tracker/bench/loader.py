"""A fast bulk loader for the benchmark database: the starter data plus a generated dataset.

Rows go in with explicit ids and materialised paths through the driver directly (executemany
on SQLite, COPY on PostgreSQL), a batch at a time so memory stays flat. A ``ScrapeRun`` row
with source "bench" records what was loaded, so a rerun reuses a database that already holds
the same number of events.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils.text import slugify

from tracker.bench.datagen import WORDS, Dataset
from tracker.exports import refresh_export_cells
from tracker.models import (
    Agency,
    AgencyAlias,
    EntityTotal,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    ScrapeRun,
    SourceRecord,
    Technology,
    Vendor,
    VendorAlias,
)
from tracker.normalize import vendor_key
from tracker.stats import refresh_stats

LOADER_VERSION = 2  # 2: every phrase tagged with a technology of the renamed taxonomy
BATCH = 10_000
MARKER_SOURCE = "bench"
# Which starter technology each generated technology phrase is tagged with.
PHRASE_TECHNOLOGY = {
    "FACE RECOGNITION SOFTWARE": "face-recognition",
    "FACIAL RECOGNITION SERVICES": "face-recognition",
    "LICENSE PLATE READER SYSTEMS": "automated-license-plate-readers",
    "CELL SITE SIMULATOR MAINTENANCE": "cell-site-simulator",
    "BODY WORN CAMERA PROGRAM": "body-worn-cameras",
    "MOBILE DEVICE FORENSICS TOOLS": "forensic-extraction",
    "SOCIAL MEDIA MONITORING SUBSCRIPTION": "social-media-monitoring",
    "GUNSHOT DETECTION SENSORS": "gunshot-detection",
    "SMALL UNMANNED AIRCRAFT SYSTEM": "drones",
    "VIDEO ANALYTICS PLATFORM": "video-analytics",
    "ELECTRONIC MONITORING OF PARTICIPANTS": "electronic-monitoring",
    "IRIS RECOGNITION DEVICES": "biometrics",
    "AUTONOMOUS SURVEILLANCE TOWER": "surveillance-towers",
    "LOCATION DATA SUBSCRIPTION": "location-data",
    "INVESTIGATIVE CASE MANAGEMENT": "third-party-investigative-platforms",
}
# Event kinds with cumulative shares: mostly contract actions, some pitches and paperwork.
KIND_SHARES = (
    ("award", 0.55),
    ("modification", 0.85),
    ("solicitation", 0.92),
    ("pitch", 0.94),
    ("lobbying", 0.96),
    ("report", 0.98),
    ("meeting", 0.99),
    ("foia", 1.0),
)
RARE_WORDS = 1000  # body texts of 1% of events carry one of these rare words ("memo17")


@dataclass
class Loaded:
    """What the benchmark database holds."""

    events: int
    first_event_id: int
    last_event_id: int
    big_agency: str
    big_agency_events: int


def chunks(rows: Iterable[Sequence[Any]], size: int = BATCH) -> Iterator[list[Sequence[Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def write_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` into ``table`` with the driver's fastest bulk path; returns the count."""
    count = 0
    names = ", ".join(columns)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} ({names}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    connection.ensure_connection()
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - our constants
    for batch in chunks(rows):
        connection.connection.executemany(sql, batch)
        count += len(batch)
    return count


def _value(value: Any) -> Any:
    """A Python value as the SQLite driver should store it (PostgreSQL COPY takes them as is)."""
    if connection.vendor == "postgresql":
        return value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def existing(events: int) -> Loaded | None:
    """The loaded dataset when the database already holds ``events`` generated events."""
    marker = ScrapeRun.objects.filter(source=MARKER_SOURCE).first()
    params = marker.parameters if marker else {}
    if params.get("events") != events or params.get("version") != LOADER_VERSION:
        return None
    first, last = params["first_event_id"], params["last_event_id"]
    if Event.objects.filter(pk__gte=first, pk__lte=last).count() != events:
        return None
    if not EntityTotal.objects.exists():
        refresh_stats()
    _store_export_cells(lambda text: None)
    return Loaded(events, first, last, params["big_agency"], params["big_agency_events"])


def _agencies(data: Dataset) -> dict[str, tuple[int, str]]:
    """Departments and subtiers for the dataset's agencies: {subtier code: (id, path)}."""
    by_top = dict(Agency.objects.exclude(toptier_code="").values_list("toptier_code", "id"))
    by_name = {name.lower(): pk for pk, name in Agency.objects.values_list("id", "name")}
    by_sub = dict(Agency.objects.exclude(subtier_code="").values_list("subtier_code", "id"))
    for sub in data.subtiers:
        top = by_top.get(sub.toptier) or by_name.get(sub.department.lower())
        if top is None:
            agency = Agency(name=sub.department, toptier_code=sub.toptier)
            agency.save()
            by_top[sub.toptier] = top = agency.pk
        else:
            Agency.objects.filter(pk=top, toptier_code="").update(toptier_code=sub.toptier)
        by_top.setdefault(sub.toptier, top)
        found = by_sub.get(sub.code) or by_name.get(sub.name.lower())
        if found is None:
            agency = Agency(name=sub.name, parent_id=top, subtier_code=sub.code, fpds_id=sub.code,
                            slug=slugify(f"{sub.name} {sub.code}")[:100])
            agency.save()
            by_sub[sub.code] = agency.pk
        else:
            Agency.objects.filter(pk=found, subtier_code="").update(subtier_code=sub.code)
            by_sub[sub.code] = found
    paths = dict(Agency.objects.values_list("id", "path"))
    return {code: (pk, paths[pk]) for code, pk in by_sub.items()}


def _vendors(data: Dataset, now: dt.datetime) -> dict[str, int]:
    """The dataset's companies as vendors with parents and some aliases: {UEI: id}."""
    start = (Vendor.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    ids = {company.uei: start + n for n, company in enumerate(data.companies)}
    by_name = {company.name: ids[company.uei] for company in data.companies}
    paths: dict[int, str] = {}
    rows = []
    aliases = []
    for company in data.companies:
        pk = ids[company.uei]
        parent = by_name.get(company.parent_name) if company.parent_name else None
        paths[pk] = (paths[parent] if parent else "/") + f"{pk}/"
        rows.append((pk, paths[pk], company.name, f"{slugify(company.name)[:90]}-{pk}", parent,
                     vendor_key(company.name), company.uei, None, "", "", "", False, _value(now)))
        if pk % 7 == 0:
            alias = company.name.split(",")[0].title()
            aliases.append((pk, alias, vendor_key(alias)))
    write_rows(
        "tracker_vendor",
        ("id", "path", "name", "slug", "parent_id", "normalized", "uei", "duns", "cage",
         "website", "description", "needs_review", "created_at"),
        rows,
    )
    write_rows("tracker_vendoralias", ("vendor_id", "name", "normalized"), aliases)
    return ids


def _kind(share: float) -> str:
    for kind, upto in KIND_SHARES:
        if share < upto:
            return kind
    return "other"


def _evidence(phrase: str) -> str:
    """A rule tag's stored evidence, shaped as the classifier writes it."""
    return json.dumps([{"kind": "keyword", "field": "title", "match": phrase.lower(),
                        "strength": "strong", "rule": None, "product": None,
                        "why": f"'{phrase.lower()}' in the title"}])


def _event_rows(data: Dataset, events: int, start: int, agencies: dict, vendors: dict,
                technologies: dict, now: dt.datetime) -> Iterator[tuple[list, ...]]:
    """Batches of (events, agency links, vendor links, technology links, source records)."""
    rng = data.random
    for first in range(0, events, BATCH):
        rows, agency_links, vendor_links, tech_links, sources = [], [], [], [], []
        for n in range(first, min(first + BATCH, events)):
            pk = start + n
            action = data.action(n)
            kind = _kind(rng.random())
            contract = kind in ("award", "modification")
            phrase = action["description"].split(" FOR ")[0]
            agency_id, _ = agencies[action["agency"].code]
            vendor_id = vendors[action["company"].uei]
            summary = "" if contract else f"{kind.title()} about {phrase.lower()}."
            body = ""
            if n % 100 == 0:
                body = f"Internal memo{n // 100 % RARE_WORDS} on {rng.choice(WORDS).lower()}."
            elif not contract:
                body = f"{action['company'].name} and {action['agency'].name}: {phrase.lower()}."
            codes = json.dumps({"psc": action["psc"], "naics": action["naics"]})
            source = "usaspending" if n % 2 else "fpds"
            rows.append((
                pk, kind, _value(action["date"]), "day", action["description"], summary, body,
                f"{action['amount']:.2f}" if contract else None, "USD", "auto",
                f"bench:{n}", codes, _value(now), _value(now),
            ))
            agency_links.append((pk, agency_id, "buyer" if contract else "pitched-to"))
            vendor_links.append((pk, vendor_id, "awardee" if contract else "vendor"))
            technology = technologies.get(PHRASE_TECHNOLOGY.get(phrase, ""))
            if technology:
                tech_links.append((pk, technology, "rule", _evidence(phrase)))
            sources.append((pk, source, f"bench-{n}", f"https://example.org/{source}/{n}",
                            _value(now), "", "{}"))
        yield rows, agency_links, vendor_links, tech_links, sources


def load(events: int, *, progress: Callable[[str], object] = print, seed: int = 7) -> Loaded:
    """Load the starter data and ``events`` generated events into an empty, migrated database."""
    from tracker.services.starter import starter_data_load

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    progress("loading starter data")
    starter_data_load()
    data = Dataset(seed=seed)
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-400000")
    with transaction.atomic():
        agencies = _agencies(data)
        progress(f"loading {len(data.companies):,} vendors")
        vendors = _vendors(data, now)
    technologies = dict(Technology.objects.values_list("slug", "id"))
    start = (Event.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    tables = (
        ("tracker_event", ("id", "kind", "date", "date_precision", "title", "summary",
                           "body_text", "amount", "currency", "review_state", "match_key",
                           "codes", "created_at", "updated_at")),
        ("tracker_eventagency", ("event_id", "agency_id", "role")),
        ("tracker_eventvendor", ("event_id", "vendor_id", "role")),
        ("tracker_eventtechnology", ("event_id", "technology_id", "tagged_by", "evidence")),
        ("tracker_sourcerecord", ("event_id", "source", "external_id", "url", "retrieved_at",
                                  "content_hash", "raw")),
    )
    done = 0
    for batch in _event_rows(data, events, start, agencies, vendors, technologies, now):
        with transaction.atomic():
            for (table, columns), rows in zip(tables, batch, strict=True):
                write_rows(table, columns, rows)
        done += len(batch[0])
        if done % 100_000 == 0 or done == events:
            progress(f"loaded {done:,} of {events:,} events")
    _finish(progress)
    progress("refreshing entity statistics")
    refresh_stats()
    _store_export_cells(progress)
    big_id, big_count = _biggest_agency()
    loaded = Loaded(events, start, start + events - 1,
                    Agency.objects.get(pk=big_id).slug, big_count)
    ScrapeRun.objects.filter(source=MARKER_SOURCE).delete()
    ScrapeRun.objects.create(
        source=MARKER_SOURCE, status="succeeded", inserted=events,
        parameters={"events": events, "version": LOADER_VERSION, "first_event_id": start,
                    "last_event_id": loaded.last_event_id, "big_agency": loaded.big_agency,
                    "big_agency_events": big_count},
    )
    return loaded


def _store_export_cells(progress: Callable[[str], object]) -> None:
    """What ``after_import`` does for imported events: store the export cells of each event
    (those without them; a dataset loaded before they existed gets them here)."""
    started = time.perf_counter()
    written = refresh_export_cells()
    if written:
        seconds = time.perf_counter() - started
        progress(f"stored export cells of {written:,} events ({written / seconds:,.0f}/s)")


def _biggest_agency() -> tuple[int, int]:
    """The agency with the most directly linked events, and that number."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT agency_id, count(*) AS n FROM tracker_eventagency "
            "GROUP BY agency_id ORDER BY n DESC LIMIT 1"
        )
        pk, count = cursor.fetchone()
    return pk, count


def _finish(progress: Callable[[str], object]) -> None:
    """Reset id sequences and refresh the planner's statistics.

    On PostgreSQL also VACUUM (outside a transaction, as in the benchmark), as autovacuum does
    to a live database after large inserts: without a visibility map no index-only scan is
    possible and every count reads the heap.
    """
    progress("updating statistics")
    models = [Agency, AgencyAlias, Vendor, VendorAlias, Event, EventAgency, EventVendor,
              EventTechnology, SourceRecord]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
