"""A curator's "add from a link": extract an article like the news source does, then confirm.

The URL is fetched through the shared HTTP client (which refuses private and loopback
addresses), the page is read by ``scrapers.news.parse`` and the text is searched for known
agencies, vendors, products and technologies with the importer's own matchers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from scrapers import news
from scrapers.base import Page, ParseError, SourceUnavailable
from scrapers.text import clean_text, suggest_kind
from tracker.models import Event, EventAgency, EventTechnology, EventVendor, Product, SourceRecord
from tracker.services.classifier import Tagger
from tracker.services.tagging import EntityFinder

MAX_TEXT = 200_000


class ExtractionError(Exception):
    """The link could not be fetched or read; the message says why, in one line."""


@dataclass
class Extraction:
    title: str = ""
    date: dt.date | None = None
    text: str = ""
    url: str = ""
    kind: str = "report"
    agency_ids: list[int] = field(default_factory=list)
    vendor_ids: list[int] = field(default_factory=list)
    technology_ids: list[int] = field(default_factory=list)


def link_extract(*, url: str = "", text: str = "", client=None) -> Extraction:
    """Read an article from ``url`` (or take pasted ``text``) and suggest what it links."""
    if url:
        if client is None:
            from tracker.services.scraping import http_client

            client = http_client("news")
        try:
            response = client.get(url)
            parsed = news.parse(
                Page(
                    url=response.url,
                    body=response.content,
                    content_type=response.headers.get("Content-Type", ""),
                )
            )
        except (SourceUnavailable, ParseError) as exc:
            raise ExtractionError(str(exc)) from None
        if not parsed.records:
            raise ExtractionError("no article could be read from that page")
        record = parsed.records[0]
        extraction = Extraction(
            title=record.title,
            date=record.date,
            text=record.text or record.summary,
            url=record.url or url,
            kind=record.kind,
        )
    else:
        body = clean_text(text)[:MAX_TEXT]
        if not body:
            raise ExtractionError("paste a link or some text")
        extraction = Extraction(
            title=body.split("\n", 1)[0][:300], text=body, kind=suggest_kind(body)
        )
    _suggest(extraction)
    return extraction


def _suggest(extraction: Extraction) -> None:
    words = f"{extraction.title}\n{extraction.text}"
    found = EntityFinder().find(words)
    tags = Tagger().tag(text=words)
    technologies = set(tags.technologies)
    technologies |= set(
        Product.objects.filter(pk__in=found.products).values_list("technology_id", flat=True)
    )
    extraction.agency_ids = sorted(found.agencies)
    extraction.vendor_ids = sorted(found.vendors)
    extraction.technology_ids = sorted(technologies)


@transaction.atomic
def event_create_from_link(
    *,
    title: str,
    date: dt.date | None,
    text: str,
    url: str,
    kind: str,
    agency_ids: list[int],
    vendor_ids: list[int],
    technology_ids: list[int],
) -> Event:
    """Create the confirmed event with a curator source record; the same link twice is one event."""
    external_id = url or "text:" + hashlib.sha256(text.encode()).hexdigest()[:32]
    existing = SourceRecord.objects.filter(source="curator", external_id=external_id).first()
    if existing:
        return existing.event
    agency_role = "pitched-to" if kind in ("pitch", "meeting") else "subject"
    event = Event.objects.create(
        kind=kind,
        date=date,
        title=clean_text(title)[:500] or "Untitled",
        summary=clean_text(text)[:1000],
        body_text=clean_text(text)[:MAX_TEXT],
        review_state=Event.Review.VERIFIED,
    )
    EventAgency.objects.bulk_create(
        [EventAgency(event=event, agency_id=pk, role=agency_role) for pk in agency_ids]
    )
    EventVendor.objects.bulk_create([EventVendor(event=event, vendor_id=pk) for pk in vendor_ids])
    EventTechnology.objects.bulk_create(
        [
            EventTechnology(event=event, technology_id=pk, tagged_by="curator")
            for pk in technology_ids
        ]
    )
    SourceRecord.objects.create(
        event=event,
        source="curator",
        external_id=external_id[:500],
        url=url[:2000],
        retrieved_at=timezone.now(),
        raw={"added_by": "curator form", "url": url},
    )
    return event
