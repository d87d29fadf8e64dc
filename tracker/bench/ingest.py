"""The ingest stage: generated raw pages → parse → resolve and tag → upsert, each timed.

Our figure is the real pipeline (``parsed_pages`` then the ``Importer``, in this process, as
``scrape_run`` runs them); the baseline is hand-written code on the same pages:
``orjson``/``lxml`` parsing straight into tuples and a plain ``executemany`` of one row per
event into a scratch table on the same database connection.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import orjson
from django.conf import settings
from django.db import connection, transaction
from lxml import etree

from scrapers import fpds, usaspending
from scrapers.base import Page, parsed_pages, replay_pages
from tracker.bench.datagen import Dataset, fpds_pages, usaspending_pages
from tracker.bench.report import peak_rss_mb, rss_mb
from tracker.services.importer import Importer
from tracker.services.linking import Linker

SOURCES = {
    "usaspending": (usaspending, usaspending_pages, 100),
    "fpds": (fpds, fpds_pages, 10),
}
SAMPLES = 10  # RSS samples across the run, to see whether memory grows with it


class _Timed:
    """Wraps a method and adds its wall time to a counter."""

    def __init__(self, function: Callable) -> None:
        self.function = function
        self.seconds = 0.0

    def __get__(self, instance: object, owner: type) -> Callable:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return self.function(instance, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


def measure_ingest(*, source: str, events: int, dataset: Dataset, offset: int = 0) -> dict:
    """Ingest ``events`` generated events of ``source`` shape; returns rates and memory.

    The pages are generated and written to files first, as ``scrape --save-raw`` keeps them,
    and both our pipeline (through ``replay_pages``) and the baseline read them from there:
    making up the data is not part of ingesting it.
    """
    module, generator, page_size = SOURCES[source]
    with tempfile.TemporaryDirectory(prefix=f"bench-{source}-", dir=settings.VAR_DIR) as folder:
        _write_pages(_pages(generator, dataset, events, page_size, offset), Path(folder))
        baseline = _baseline(source, Path(folder), min(events, 50_000))
        return _measure(module, source, Path(folder), events, page_size, baseline)


def _write_pages(bodies: Iterator[bytes], folder: Path) -> None:
    for number, body in enumerate(bodies, start=1):
        (folder / f"{number:06d}.page").write_bytes(body)


def _measure(
    module: ModuleType, source: str, folder: Path, events: int, page_size: int, baseline: float
) -> dict:
    parse_rate = _parse_rate(module, folder)
    analyse = _Timed(Linker.links)
    Linker.links = analyse  # resolve + tag, timed in place
    try:
        import_seconds = 0.0
        importer = Importer()
        samples: list[float] = []
        sample_every = max(1, (events // page_size) // SAMPLES)
        start = time.perf_counter()
        # The scrape pipeline itself: pages parsed and imported as ``scrape_run`` does.
        pages = parsed_pages(module, replay_pages([folder]))
        for number, (_, parsed, _) in enumerate(pages, start=1):
            t0 = time.perf_counter()
            importer.add_many(parsed.records)
            import_seconds += time.perf_counter() - t0
            if number % sample_every == 0:
                samples.append(rss_mb())
        t0 = time.perf_counter()
        counts = importer.finish()
        import_seconds += time.perf_counter() - t0
        total = time.perf_counter() - start
    finally:
        Linker.links = analyse.function
    upsert_seconds = max(1e-9, import_seconds - analyse.seconds)
    records = counts.inserted + counts.updated + counts.unchanged
    return {
        "source": source,
        "events": records,
        "failed": counts.failed,
        "parse": parse_rate,
        "resolve_tag": records / max(analyse.seconds, 1e-9),
        "upsert": records / upsert_seconds,
        "end_to_end": records / total,
        "baseline": baseline,
        "peak_rss_mb": peak_rss_mb(),
        "rss_growth_mb": (samples[-1] - samples[0]) if len(samples) > 1 else 0.0,
    }


def _parse_rate(module: ModuleType, folder: Path, pages: int = 100) -> float:
    """Records/s of ``module.parse`` alone, in this process, on the first ``pages`` pages."""
    bodies = [file.read_bytes() for file in sorted(folder.iterdir())[:pages]]
    start = time.perf_counter()
    records = sum(len(module.parse(Page(url="bench:", body=body)).records) for body in bodies)
    return records / max(time.perf_counter() - start, 1e-9)


def _pages(
    generator, dataset: Dataset, events: int, page_size: int, offset: int
) -> Iterator[bytes]:
    if generator is fpds_pages:
        return fpds_pages(dataset, events, page_size, offset=offset)
    return generator(dataset, events, page_size)


def _baseline(source: str, folder: Path, events: int) -> float:
    """Events/s of hand-written parse + executemany into a scratch table (the first pages)."""
    table = f"bench_baseline_{uuid.uuid4().hex[:8]}"
    columns = "external_id, title, day, amount, agency, vendor, uei"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {table} (external_id TEXT PRIMARY KEY, "
            "title TEXT, day TEXT, amount NUMERIC, agency TEXT, vendor TEXT, uei TEXT)"
        )
    try:
        start = time.perf_counter()
        rows = 0
        batch: list[tuple] = []
        parse_rows = _json_rows if source == "usaspending" else _xml_rows
        for file in sorted(folder.iterdir()):
            if rows + len(batch) >= events:
                break
            batch += parse_rows(file.read_bytes())
            if len(batch) >= 500:
                rows += _insert(table, columns, batch)
                batch = []
        rows += _insert(table, columns, batch)
        return rows / (time.perf_counter() - start)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {table}")


def _insert(table: str, columns: str, rows: list[tuple]) -> int:
    if rows:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                rows,
            )
    return len(rows)


def _json_rows(body: bytes) -> list[tuple]:
    return [
        (
            r["generated_internal_id"],
            r["Description"],
            r["Base Obligation Date"],
            str(r["Award Amount"]),
            r["Awarding Sub Agency Code"],
            r["Recipient Name"],
            r["Recipient UEI"],
        )
        for r in orjson.loads(body)["results"]
    ]


_NS = {"a": "http://www.w3.org/2005/Atom", "f": "https://www.fpds.gov/FPDS"}
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _xml_rows(body: bytes) -> list[tuple]:
    rows = []
    for award in etree.fromstring(body, _XML_PARSER).iterfind("a:entry/a:content/f:award", _NS):
        ids = award.find("f:awardID/f:awardContractID", _NS)
        rows.append(
            (
                f"{ids.findtext('f:agencyID', '', _NS)}:{ids.findtext('f:PIID', '', _NS)}:"
                f"{ids.findtext('f:modNumber', '', _NS)}",
                award.findtext("f:contractData/f:descriptionOfContractRequirement", "", _NS),
                award.findtext("f:relevantContractDates/f:signedDate", "", _NS)[:10],
                award.findtext("f:dollarValues/f:obligatedAmount", "", _NS),
                award.findtext("f:purchaserInformation/f:contractingOfficeAgencyID", "", _NS),
                award.findtext("f:vendor/f:vendorHeader/f:vendorName", "", _NS),
                award.findtext(".//f:UEI", "", _NS),
            )
        )
    return rows
