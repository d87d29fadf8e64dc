"""Run one source: fetch (or replay) pages, parse them, import the records, record the run.

Every run writes a ``ScrapeRun`` with its counts and errors. A bad page or record is logged
with source, URL and reason and counted; the run goes on. A run that could not work at all
(network down, source unavailable) ends ``failed`` with a one-line message.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone

from scrapers.base import (
    Page,
    Query,
    SourceNotConfigured,
    SourceUnavailable,
    parsed_pages,
    replay_pages,
    save_page,
)
from tracker.models import (
    Agency,
    AgencyAlias,
    NewsFeed,
    Product,
    ScrapeRun,
    Strength,
    TaggingRule,
    Vendor,
    VendorAlias,
    under_path,
)
from tracker.services.councils import council_refs
from tracker.services.importer import ImportCounts, Importer
from tracker.services.starter import grant_programs

log = logging.getLogger(__name__)
# Sent once an import's transaction committed changed events (``event_ids``, ``vendor_ids``);
# ``tracker.tasks`` queues the follow-up work (stats, alerts, downloads, vendor review).
events_changed = Signal()

SOURCES = (
    "usaspending",
    "fpds",
    "sam",
    "sam_awards",
    "lda",
    "muckrock",
    "documentcloud",
    "news",
    "atlas",
    "legistar",
)
# Seconds between requests to one host, from each source's published limits: LDA allows 15
# requests a minute anonymously and 120 with a key, DocumentCloud's search and MuckRock's
# requests endpoint 15 a minute. With Redis configured the spacing holds across all workers,
# so these are the deployment's rates.
MIN_INTERVAL = {"lda": 4.0, "documentcloud": 4.0, "muckrock": 4.0, "news": 2.0}
MIN_INTERVAL_WITH_KEY = {"lda": 0.5}
MAX_DRIFT_KEPT = 50


class UnknownSource(ValueError):
    pass


def source_module(name: str) -> ModuleType:
    """The ``scrapers`` module for a source name."""
    if name not in SOURCES:
        raise UnknownSource(f"unknown source {name!r}; choose from {', '.join(SOURCES)}")
    return importlib.import_module(f"scrapers.{name}")


def source_query(source: str, *, since: dt.date | None, until: dt.date | None) -> Query:
    """What to ask a source for by default, from the taxonomy and starter data in the database.

    Every part is sorted, so the same database gives the same requests (``scrape --plan``
    and the request-expectation tests rely on it). Each source uses the parts it can search
    by; credentials are only those of ``source``.
    """
    vendor_names, vendor_ueis = tracked_vendors(since=since, until=until)
    unit_vendor_names, unit_vendor_ueis = unit_vendors(since=since, until=until)
    everywhere = {name.casefold() for name in vendor_names} | set(vendor_ueis)
    unit_vendor_names = tuple(n for n in unit_vendor_names if n.casefold() not in everywhere)
    unit_vendor_ueis = tuple(u for u in unit_vendor_ueis if u not in everywhere)
    agency_codes, agency_names = buying_units()
    return Query(
        since=since,
        until=until,
        keywords=search_keywords(),
        psc_codes=search_codes(TaggingRule.Kind.PSC),
        naics_codes=search_codes(TaggingRule.Kind.NAICS),
        agency_codes=agency_codes,
        agency_names=agency_names,
        vendor_names=vendor_names,
        vendor_ueis=vendor_ueis,
        unit_vendor_names=unit_vendor_names,
        unit_vendor_ueis=unit_vendor_ueis,
        grant_programs=tuple(program["number"] for program in grant_programs()),
        councils=council_refs(with_tokens=source == "legistar"),
        feeds=tuple(
            NewsFeed.objects.filter(active=True).order_by("url").values_list("url", flat=True)
        ),
        **source_credentials(source),
    )


_CODE = re.compile(r"^[0-9A-Z]{1,6}$")


def search_keywords() -> tuple[str, ...]:
    """The active keyword rules curators marked as search terms, sorted, each once."""
    rules = TaggingRule.objects.filter(active=True, kind=TaggingRule.Kind.KEYWORD, search_term=True)
    return tuple(sorted(set(rules.values_list("value", flat=True))))


def search_codes(kind: str) -> tuple[str, ...]:
    """The PSC or NAICS codes of active strong rules of ``kind``, sorted.

    A code rule's value may be words of the code's description ("unmanned aircraft"), which
    no source can filter by, so only code-shaped values are sent. Supporting codes (fixed-wing
    aircraft for drones) are left out: they tag nothing on their own, so a sweep of them would
    import thousands of awards the classifier then leaves untagged.
    """
    values = TaggingRule.objects.filter(
        active=True, kind=kind, strength=Strength.STRONG
    ).values_list("value", flat=True)
    return tuple(sorted({v.strip().upper() for v in values if _CODE.match(v.strip().upper())}))


def tracked_vendors(
    *, since: dt.date | None = None, until: dt.date | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names, UEIs) of the vendor families swept everywhere, each sorted.

    A family is swept everywhere when an active *strong* vendor rule names it: such a rule
    tags a record on its own, so what a sweep of the family brings back gets tagged. (All
    reviewed vendors would be wrong: a reviewed vendor is a resolved name, not a tracked one,
    and the list grows with every import.) A rule with no vendor row contributes its own
    value.
    """
    rules = TaggingRule.objects.filter(
        active=True, kind=TaggingRule.Kind.VENDOR, strength=Strength.STRONG
    )
    heads = Vendor.objects.filter(pk__in=rules.filter(vendor__isnull=False).values("vendor_id"))
    loose = set(rules.filter(vendor__isnull=True).values_list("value", flat=True))
    return _family_names_and_ueis(heads, loose, since=since, until=until)


def unit_vendors(
    *, since: dt.date | None = None, until: dt.date | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names, UEIs) of the multi-line vendor families, swept at the buying units only.

    A vendor that makes a tracked product (Amazon Web Services: Rekognition) or that a
    supporting rule names (Anduril, General Dynamics IT) sells far more than surveillance:
    swept everywhere it would import whole portfolios. Swept at the law-enforcement buying
    units it finds, say, every ICE contract with AWS whatever its description says.
    """
    supporting = TaggingRule.objects.filter(
        active=True, kind=TaggingRule.Kind.VENDOR, strength=Strength.SUPPORTING
    )
    everywhere = TaggingRule.objects.filter(
        active=True, kind=TaggingRule.Kind.VENDOR, strength=Strength.STRONG, vendor__isnull=False
    )
    heads = Vendor.objects.filter(
        Q(pk__in=supporting.values("vendor_id")) | Q(pk__in=Product.objects.values("vendor_id"))
    ).exclude(pk__in=everywhere.values("vendor_id"))
    loose = set(supporting.filter(vendor__isnull=True).values_list("value", flat=True))
    return _family_names_and_ueis(heads, loose, since=since, until=until)


def _family_names_and_ueis(
    heads: QuerySet[Vendor], loose: set[str], *, since: dt.date | None, until: dt.date | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names, UEIs) of the families of ``heads`` (reviewed members only) plus ``loose`` names.

    A family is a vendor and its subsidiaries (the classifier's definition), with their
    aliases; an alias dated outside [since, until] is left out.
    """
    family = Q(pk__in=[])
    for path, pk in heads.filter(needs_review=False).values_list("path", "pk"):
        family |= under_path(path) if path else Q(pk=pk)
    members = Vendor.objects.filter(family, needs_review=False)
    ueis = {uei for uei in members.values_list("uei", flat=True) if uei}
    names = {name.strip() for name in loose} | set(members.values_list("name", flat=True))
    aliases = VendorAlias.objects.filter(vendor__in=members)
    if since:
        aliases = aliases.exclude(valid_until__lt=since)
    if until:
        aliases = aliases.exclude(valid_from__gt=until)
    names |= set(aliases.values_list("name", flat=True))
    by_key = {name.casefold(): name for name in sorted(names, reverse=True) if name}
    return tuple(sorted(by_key.values(), key=lambda n: (n.casefold(), n))), tuple(sorted(ueis))


# Agency types (curators set them in the admin) whose buying units the agency sweeps search.
SWEPT_AGENCY_TYPES = ("law enforcement", "intelligence", "homeland security")


def buying_units() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(subtier codes, names) of the law-enforcement and intelligence buying units, sorted.

    A buying unit is a federal agency of a swept type (ICE, CBP, FBI, DEA, ATF, the Marshals,
    the Secret Service, TSA, USCIS in the starter data) that is not part of another one:
    offices inside a unit (HSI, ERO, the Border Patrol) buy through it. Sources that filter
    by code get the subtier codes (a unit whose code is unconfirmed is searched by name
    only); the names are every spelling the database knows (name and aliases), as sources
    differ, and a name a source does not know matches nothing there.
    """
    swept = Agency.objects.filter(level=Agency.Level.FEDERAL, agency_type__in=SWEPT_AGENCY_TYPES)
    units = swept.exclude(parent__in=swept)
    codes = {code.strip() for code in units.values_list("subtier_code", flat=True) if code.strip()}
    names = set(units.values_list("name", flat=True))
    names |= set(AgencyAlias.objects.filter(agency__in=units).values_list("name", flat=True))
    return tuple(sorted(codes)), tuple(sorted(names, key=lambda n: (n.casefold(), n)))


def source_credentials(source: str) -> dict[str, str]:
    """The Query credential fields for ``source`` from settings (empty when it needs none)."""
    if source in ("sam", "sam_awards"):
        return {"api_key": settings.SAM_API_KEY}
    if source == "lda":
        return {"api_key": settings.LDA_API_KEY}
    if source == "muckrock":
        return {"username": settings.MUCKROCK_USERNAME, "password": settings.MUCKROCK_PASSWORD}
    return {}


def http_client(source: str):  # -> scrapers.http.HttpClient
    """The shared client with this source's politeness: spacing per host, and its daily quota.

    Spacing is shared through Redis when ``SCRAPER_REDIS_URL`` is set, else per process; the
    SAM.gov sources draw on one daily quota counted in the database.
    """
    from scrapers.http import HttpClient
    from tracker.services.politeness import shared_limiter, source_quota

    interval = MIN_INTERVAL.get(source, 1.0)
    if source == "lda" and settings.LDA_API_KEY:
        interval = MIN_INTERVAL_WITH_KEY["lda"]
    if settings.SCRAPER_MIN_INTERVAL is not None:
        interval = settings.SCRAPER_MIN_INTERVAL
    return HttpClient(
        backoff_base=settings.SCRAPER_BACKOFF_BASE,
        user_agent=f"Spyglass/0.1 (+{settings.SPYGLASS_CONTACT_URL}; public-interest research)",
        min_interval=interval,
        respect_robots=source == "news",
        trusted_hosts=settings.SCRAPER_TRUSTED_HOSTS,
        limiter=shared_limiter(),
        quota=source_quota(source),
    )


def endpoint_override(module: ModuleType, source: str) -> dict[str, str]:
    """``SOURCE_URLS`` points a source at another host (a mirror, or a local test server).

    ``"<source>_auth"`` points a source's login (MuckRock's account service) there too.
    """
    parameters = inspect.signature(module.fetch).parameters
    override = {}
    if url := settings.SOURCE_URLS.get(source):
        override["base_url" if "base_url" in parameters else "url"] = url
    if (auth := settings.SOURCE_URLS.get(f"{source}_auth")) and "auth_url" in parameters:
        override["auth_url"] = auth
    return override


def scrape_run(
    *,
    source: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
    replay: Sequence[str | Path] = (),
    save_raw: str | Path | None = None,
    progress: Callable[[ScrapeRun, ImportCounts], None] | None = None,
) -> ScrapeRun:
    """Run one source end to end and return its finished ``ScrapeRun``."""
    module = source_module(source)
    parameters = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "replay": [str(p) for p in replay],
    }
    # Runs of this source still "running" after the longest a task may take were killed.
    # (Younger ones may be other windows of a backfill, running on other workers.)
    interrupted = ScrapeRun.objects.filter(
        source=source,
        status=ScrapeRun.Status.RUNNING,
        started_at__lt=timezone.now() - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT),
    )
    interrupted.update(
        status=ScrapeRun.Status.FAILED,
        finished_at=timezone.now(),
        message="interrupted: the process stopped before the run finished",
    )
    run = ScrapeRun.objects.create(source=source, parameters=parameters)
    importer = Importer()
    counts = importer.counts
    parsed_records = 0
    drift: list[str] = []
    # The sources page shows a running run's pages and counts: saved every few seconds, one
    # UPDATE of the row, so a slow source shows its progress and a fast one costs no queries.
    progress_saved_at = timezone.now()
    try:
        pages: Iterator[Page]
        if replay:
            pages = replay_pages(replay)
        else:
            query = source_query(source, since=since, until=until)
            pages = module.fetch(http_client(source), query, **endpoint_override(module, source))
        for page, parsed, refused in parsed_pages(module, pages):
            if save_raw:
                save_page(page, save_raw, run.pages)
            run.pages += 1
            if refused is not None:
                counts.failed += 1
                counts.error(f"{source} {page.url}: page skipped: {refused}")
                shape = f"unrecognised page shape: {refused}"
                if _well_formed_json(page.body) and shape not in drift:
                    drift.append(shape)
                continue
            for problem in parsed.problems:
                counts.failed += 1
                counts.error(f"{source} {page.url}: {problem}")
            drift.extend(d for d in parsed.drift if d not in drift)
            parsed_records += len(parsed.records)
            importer.add_many(parsed.records)
            if timezone.now() - progress_saved_at >= dt.timedelta(seconds=5):
                progress_saved_at = timezone.now()
                ScrapeRun.objects.filter(pk=run.pk).update(
                    pages=run.pages,
                    inserted=counts.inserted,
                    updated=counts.updated,
                    unchanged=counts.unchanged,
                    failed=counts.failed,
                )
            if progress:
                progress(run, counts)
        importer.finish()
    except SourceNotConfigured as exc:
        importer.finish()
        _copy_counts(run, counts, drift)
        return _finish(run, ScrapeRun.Status.SKIPPED, str(exc))
    except SourceUnavailable as exc:
        importer.finish()
        _copy_counts(run, counts, drift)
        return _finish(run, ScrapeRun.Status.FAILED, f"{source} unavailable: {exc}")
    except Exception as exc:
        _copy_counts(run, counts, drift)
        _finish(run, ScrapeRun.Status.FAILED, f"crashed: {type(exc).__name__}: {exc}")
        raise
    _copy_counts(run, counts, drift)
    if run.pages == 0 or (parsed_records == 0 and counts.failed):
        status, message = ScrapeRun.Status.FAILED, "no records returned where some were expected"
    elif parsed_records == 0:
        # Pages that read cleanly and hold nothing: a quiet day, or (sam) no notice matched.
        status, message = ScrapeRun.Status.SUCCEEDED, f"no matching records in {run.pages} page(s)"
    elif counts.failed:
        status, message = ScrapeRun.Status.PARTIAL, f"{counts.failed} page(s) or record(s) failed"
    else:
        status, message = ScrapeRun.Status.SUCCEEDED, ""
    run = _finish(run, status, message)
    if counts.event_ids:
        _after_import(sorted(counts.event_ids), sorted(counts.vendor_ids))
    return run


def _well_formed_json(body: bytes) -> bool:
    """Did a page the parser refused still parse as JSON (so its shape, not its syntax, changed)?"""

    def refuse(name: str) -> None:
        raise ValueError(name)

    try:
        json.loads(body, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False
    return True


def _copy_counts(run: ScrapeRun, counts: ImportCounts, drift: list[str]) -> None:
    for name in ("inserted", "updated", "unchanged", "skipped", "failed"):
        setattr(run, name, getattr(counts, name))
    run.errors = counts.errors
    run.drift = drift[:MAX_DRIFT_KEPT]


def _finish(run: ScrapeRun, status: str, message: str) -> ScrapeRun:
    run.status = status
    run.message = message[:500]
    run.finished_at = timezone.now()
    run.save()
    _health_notify(run.source)
    if message:
        log.log(
            logging.INFO if status != ScrapeRun.Status.FAILED else logging.ERROR,
            "%s: %s",
            run.source,
            message,
        )
    return run


def _health_notify(source: str) -> None:
    """Tell the admins once when this source's health flags change; never fails the run."""
    from tracker.services.health import source_health_notify

    try:
        source_health_notify(source)
    except Exception:  # health reporting must not turn a finished run into a crash
        log.exception("%s: source health check failed", source)


def _after_import(event_ids: list[int], vendor_ids: list[int]) -> None:
    """Once the import commits, tell the rest of the system what changed (``events_changed``)."""
    transaction.on_commit(
        lambda: events_changed.send(sender=scrape_run, event_ids=event_ids, vendor_ids=vendor_ids)
    )


def date_windows(since: dt.date, until: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """Split [since, until] into consecutive windows of at most ``days`` days."""
    if until < since:
        raise ValueError("until is before since")
    windows = []
    start = since
    while start <= until:
        end = min(start + dt.timedelta(days=days - 1), until)
        windows.append((start, end))
        start = end + dt.timedelta(days=1)
    return windows
