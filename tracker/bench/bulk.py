"""Bulk stages: CSV export, alert matching and ingest, each against a hand-written baseline."""

from __future__ import annotations

import csv
import random
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from tracker.alerts.matching import compile_queries, load_event_facts, match_events
from tracker.bench.datagen import Dataset
from tracker.bench.loader import Loaded
from tracker.bench.report import Row, peak_rss_mb, rss_mb
from tracker.exports import export_rows
from tracker.models import Agency, Event, ExportCells, Technology, Vendor
from tracker.selectors import EventFilters, event_search, parse_filters

ALERT_SUBSCRIPTIONS = 10_000
ALERT_EVENTS = 10_000
# Alerts matched by one event_search per subscription instead (the matcher's alternative):
# timed on this many subscriptions, projected to all of them.
ALERT_SEARCH_SAMPLE = 200
ALERT_WORDS = ("recognition", "camera", "keystone", "summit", "license", "drone")


class Sink:
    """A write-only file that counts characters (the export goes nowhere)."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def _export_sql() -> str:
    """The export's columns in one plain query: the events with their stored link cells."""
    return (
        "SELECT e.id, e.date, e.date_precision, e.kind, e.title, e.summary, e.amount,"
        " e.currency, c.agencies, c.agency_ids, c.vendors, c.vendor_ids, c.technologies,"
        " c.sources, c.source_urls, c.external_ids, e.review_state, c.technology_evidence"
        " FROM tracker_event e"
        " LEFT JOIN tracker_exportcells c ON c.event_id = e.id ORDER BY e.date DESC, e.id DESC"
    )


def baseline_export() -> int:
    """A plain csv.writer over one raw SQL cursor producing the same columns (the outcome
    left empty, the evidence last); rows written."""
    writer = csv.writer(Sink(), lineterminator="\r\n")
    url = "https://example.org/events/{}/"
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(_export_sql())
        while rows := cursor.fetchmany(2000):
            writer.writerows([*row[:-1], url.format(row[0]), "", row[-1]] for row in rows)
            count += len(rows)
    return count


def _timed_export(filters: EventFilters) -> tuple[float, int, float]:
    """Export ``filters`` as CSV into a sink: (rows/s, rows, memory growth in MB)."""
    counted = [0]
    before = rss_mb()
    highest = [before]

    def progress(rows: int) -> None:
        counted[0] += rows
        highest[0] = max(highest[0], rss_mb())

    started = time.perf_counter()
    sink = Sink()
    for text in export_rows(filters, progress=progress):
        sink.write(text)
    return counted[0] / (time.perf_counter() - started), counted[0], highest[0] - before


def export_stage(loaded: Loaded, db: str, repeat: int) -> list[Row]:
    """Every event as CSV through ``export_rows`` (``all=1``: the ordinary purchases too);
    rows/s and memory growth. Then the same export with no stored link cells (deleted in a
    transaction that is rolled back), so each chunk's cells are computed: whether the stored
    cells are still needed for the floor."""
    everything = EventFilters.from_params({"all": "1"})
    ours, rows, growth = _timed_export(everything)
    started = time.perf_counter()
    baseline = baseline_export() / (time.perf_counter() - started)
    with transaction.atomic():
        ExportCells.objects.all().delete()
        computed, computed_rows, computed_growth = _timed_export(everything)
        transaction.set_rollback(True)
    return [
        Row("export", db, ours, baseline, extra={
            "rows": rows, "rss_growth_mb": round(growth, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }),
        Row("export-unstored", db, computed, baseline, extra={
            "rows": computed_rows, "rss_growth_mb": round(computed_growth, 1),
        }),
    ]  # fmt: skip


# "alpr" in the issue; the starter technology's slug is this.
FILTERED_EXPORT = {"agency": "ice", "technology": "automated-license-plate-readers"}


def export_filtered_stage(loaded: Loaded, db: str, repeat: int) -> list[Row]:
    """``export_events --agency ice --technology alpr`` as CSV: seconds for the whole file
    (best of three), which should follow its few thousand rows, not the database's size."""
    filters = parse_filters(FILTERED_EXPORT)
    times, rows = [], 0
    for _ in range(3):
        sink, counts = Sink(), []
        started = time.perf_counter()
        for text in export_rows(filters, progress=counts.append):
            sink.write(text)
        times.append(time.perf_counter() - started)
        rows = sum(counts)
    if not rows:  # a small generated dataset may hold no such event: no figure, not a pass
        return [Row("export-filtered", db, None, None, note="no matching events at this size")]
    return [Row("export-filtered", db, min(times), None, extra={"rows": rows})]


def alert_subscriptions(count: int, seed: int = 3) -> list[dict[str, Any]]:
    """Synthetic stored alerts over the real entities: mostly one entity, some with a kind or
    words, some two entities, one in ten words only."""
    rng = random.Random(seed)
    slugs = {
        "agency": list(Agency.objects.values_list("slug", flat=True)),
        "vendor": list(Vendor.objects.order_by("id").values_list("slug", flat=True)[:5000]),
        "technology": list(Technology.objects.values_list("slug", flat=True)),
    }
    kinds = list(Event.Kind.values)
    subscriptions = []
    for _ in range(count):
        roll, params = rng.random(), {}
        if roll < 0.9:
            for name in rng.sample(list(slugs), 2 if roll < 0.2 else 1):
                params[name] = rng.choice(slugs[name])
            if rng.random() < 0.3:
                params["kind"] = rng.sample(kinds, rng.randint(1, 2))
            if rng.random() < 0.2:
                params["q"] = rng.choice(ALERT_WORDS)
        else:
            params["q"] = " ".join(rng.sample(ALERT_WORDS, rng.randint(1, 2)))
        subscriptions.append(params)
    return subscriptions


def _prefixes(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def baseline_alerts(subscriptions: list[dict[str, Any]], ids: list[int]) -> int:
    """A plain matcher: raw SQL for the events, dicts from path prefix to event ids, set
    intersections per subscription (entities, kinds, words as lower-case substrings)."""
    slug_paths: dict[tuple[str, str], str] = {}
    index: dict[tuple[str, str], set[int]] = defaultdict(set)
    texts: dict[int, str] = {}
    kinds: dict[str, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        for name in ("agency", "vendor", "technology"):
            cursor.execute(f"SELECT slug, path FROM tracker_{name}")  # noqa: S608
            slug_paths.update({(name, slug): path for slug, path in cursor.fetchall()})
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT id, kind, title, summary, body_text FROM tracker_event WHERE id IN ({marks})",  # noqa: S608, E501
                chunk,
            )
            for pk, kind, title, summary, body in cursor.fetchall():
                texts[pk] = f"{title}\n{summary}\n{body}".lower()
                kinds[kind].add(pk)
            for name in ("agency", "vendor", "technology"):
                cursor.execute(
                    f"SELECT l.event_id, t.path FROM tracker_event{name} l JOIN tracker_{name} t "  # noqa: S608
                    f"ON t.id = l.{name}_id WHERE l.event_id IN ({marks})",
                    chunk,
                )
                for pk, path in cursor.fetchall():
                    for prefix in _prefixes(path):
                        index[(name, prefix)].add(pk)
    everything = set(texts)
    matched = 0
    for params in subscriptions:
        found = everything
        for name in ("agency", "vendor", "technology"):
            if name in params:
                found = found & index.get((name, slug_paths.get((name, params[name]), "")), set())
        if "kind" in params:
            found = found & set().union(*(kinds[kind] for kind in params["kind"]))
        for word in params.get("q", "").lower().split():
            found = {pk for pk in found if word in texts[pk]}
        matched += bool(found)
    return matched


def alerts_stage(loaded: Loaded, db: str, repeat: int) -> list[Row]:
    """10,000 stored alerts against the 10,000 newest generated events, end to end."""
    subscriptions = alert_subscriptions(ALERT_SUBSCRIPTIONS)
    ids = list(range(max(loaded.first_event_id, loaded.last_event_id - ALERT_EVENTS + 1),
                     loaded.last_event_id + 1))
    started = time.perf_counter()
    queries = compile_queries(list(enumerate(subscriptions)))
    facts = load_event_facts(ids)
    matches = match_events(queries, facts)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    matched = baseline_alerts(subscriptions, ids)
    baseline = time.perf_counter() - started
    sample = subscriptions[:ALERT_SEARCH_SAMPLE]
    started = time.perf_counter()
    for params in sample:
        filters = EventFilters.from_params(params)
        list(event_search(filters).filter(pk__gte=ids[0], pk__lte=ids[-1]).values_list("pk"))
    by_search = (time.perf_counter() - started) * len(subscriptions) / len(sample)
    return [
        Row("alerts", db, ours, baseline, extra={
            "subscriptions": len(subscriptions), "events": len(ids),
            "subscriptions_matched": len(matches), "baseline_subscriptions_matched": matched,
        }),
        Row("alerts-by-search", db, by_search, None, extra={"projected_from": len(sample)}),
    ]  # fmt: skip


def ingest_stage(events: int, db: str, progress: Callable[[str], object]) -> list[Row]:
    """End-to-end ingest of generated USAspending and FPDS pages (``measure_ingest``)."""
    from tracker.bench.ingest import measure_ingest  # lxml and the scrapers: only when asked

    dataset = Dataset()
    rows = []
    for source in ("usaspending", "fpds"):
        progress(f"ingest: {events:,} {source} events")
        result = measure_ingest(source=source, events=events, dataset=dataset)
        extra = {k: v for k, v in result.items() if k not in ("end_to_end", "baseline")}
        rows.append(Row(f"ingest-{source}", db, result["end_to_end"], result["baseline"],
                        extra={"events": events, **extra}))
    return rows
