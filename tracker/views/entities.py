"""Read helpers for the event and entity pages: hierarchies, identifiers, source freshness."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max, Model
from django.db.models.functions import Coalesce

from tracker.models import Agency, ScrapeRun, Vendor

SOURCES = (
    (
        "usaspending",
        "USAspending",
        "https://www.usaspending.gov/",
        "Federal contract awards and modifications, with amounts, agencies and recipients.",
    ),
    (
        "fpds",
        "FPDS",
        "https://www.fpds.gov/",
        "The Federal Procurement Data System: the government's record of contract actions.",
    ),
    (
        "sam",
        "SAM.gov",
        "https://sam.gov/",
        "Contract opportunities: solicitations and notices before an award.",
    ),
    (
        "sam_awards",
        "SAM.gov contract awards",
        "https://sam.gov/",
        "Contract actions from SAM.gov's Contract Awards API, the successor of FPDS's feed.",
    ),
    (
        "lda",
        "Senate Lobbying Disclosure",
        "https://lda.gov/",  # moved from lda.senate.gov (see scrapers/lda.py)
        "Lobbying Disclosure Act filings: who lobbied which agencies on surveillance technology.",
    ),
    (
        "muckrock",
        "MuckRock",
        "https://www.muckrock.com/",
        "Public records (FOIA) requests and the documents agencies released.",
    ),
    (
        "documentcloud",
        "DocumentCloud",
        "https://www.documentcloud.org/",
        "Documents published by newsrooms, such as released contracts and emails.",
    ),
    (
        "news",
        "News feeds",
        "",
        "Reporting on surveillance procurement from the RSS and Atom feeds curators choose.",
    ),
    (
        "atlas",
        "Atlas of Surveillance",
        "https://atlasofsurveillance.org/",
        "The Electronic Frontier Foundation's map of local police surveillance technology.",
    ),
)


@dataclass
class SourceStatus:
    name: str
    label: str
    url: str
    description: str
    scheduled: bool
    last_success: dt.datetime | None
    latest: ScrapeRun | None = None


def source_statuses() -> list[SourceStatus]:
    """Each source with its latest succeeded/partial run time and its newest run (two queries).

    The newest run may still be running: ``scrape_run`` saves its pages and counts every few
    seconds, so the sources page shows how far it has got.
    """
    latest = dict(
        ScrapeRun.objects.filter(status__in=[ScrapeRun.Status.SUCCEEDED, ScrapeRun.Status.PARTIAL])
        .values("source")
        .annotate(last=Max(Coalesce("finished_at", "started_at")))
        .values_list("source", "last")
    )
    newest_ids = ScrapeRun.objects.values("source").annotate(newest=Max("pk")).values("newest")
    newest = {
        run.source: run
        for run in ScrapeRun.objects.filter(pk__in=newest_ids).defer("errors", "drift")
    }
    scheduled = set(getattr(settings, "SCRAPE_SOURCES", [name for name, *_ in SOURCES]))
    return [
        SourceStatus(
            name, label, url, description, name in scheduled, latest.get(name), newest.get(name)
        )
        for name, label, url, description in SOURCES
    ]


def ancestor_map(nodes: Iterable[Any]) -> dict[int, list[Any]]:
    """Each node's chain from the root down to itself, loaded in one query for all nodes."""
    nodes = list(nodes)
    if not nodes:
        return {}
    model = type(nodes[0])
    ids = {int(part) for node in nodes for part in node.path.strip("/").split("/") if part}
    ids -= {node.pk for node in nodes}
    found = {node.pk: node for node in nodes}
    if ids:
        found.update({node.pk: node for node in model.objects.filter(pk__in=ids)})
    chains = {}
    for node in nodes:
        path_ids = [int(part) for part in node.path.strip("/").split("/") if part]
        chains[node.pk] = [found[pk] for pk in path_ids if pk in found] or [node]
    return chains


def identifiers(entity: Model) -> list[tuple[str, str]]:
    """The codes that identify an agency or vendor in the sources (label, value)."""
    if isinstance(entity, Agency):
        fields = ("toptier_code", "subtier_code", "fpds_id")
    elif isinstance(entity, Vendor):
        fields = ("uei", "duns", "cage")
    else:
        fields = ("atlas_category",)
    return [
        (str(entity._meta.get_field(name).verbose_name), str(getattr(entity, name)))
        for name in fields
        if getattr(entity, name)
    ]


def pretty_json(raw: Any) -> str:
    """A source's raw payload as indented JSON text (escaped by the template, never marked safe)."""
    return json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=True, default=str)
