"""Small factories for web tests: one call builds an event with its parties and sources."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from tracker.models import (
    Agency,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    ScrapeRun,
    SourceRecord,
    Technology,
    Vendor,
)

_serial = count(1)


def agency(name: str = "", *, parent: Agency | None = None, **fields: Any) -> Agency:
    """A saved agency (a unique name when none is given)."""
    return Agency.objects.create(name=name or f"Agency {next(_serial)}", parent=parent, **fields)


def vendor(name: str = "", *, parent: Vendor | None = None, **fields: Any) -> Vendor:
    """A saved vendor (a unique name when none is given)."""
    return Vendor.objects.create(name=name or f"Vendor {next(_serial)}", parent=parent, **fields)


def technology(name: str = "", *, parent: Technology | None = None) -> Technology:
    """A saved technology (a unique name when none is given)."""
    return Technology.objects.create(name=name or f"Technology {next(_serial)}", parent=parent)


def event(
    *,
    kind: str = "award",
    date: dt.date | None = dt.date(2020, 5, 4),
    precision: str = "day",
    title: str = "",
    summary: str = "",
    amount: Decimal | int | None = None,
    agencies: list[Agency | tuple[Agency, str]] = (),
    vendors: list[Vendor | tuple[Vendor, str]] = (),
    technologies: list[Technology] = (),
    sources: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Event:
    """A saved event linked to the given parties, with one source record unless ``sources``."""
    number = next(_serial)
    made = Event.objects.create(
        kind=kind,
        date=date,
        date_precision=precision,
        title=title or f"Event {number}",
        summary=summary,
        amount=Decimal(amount) if amount is not None else None,
        **fields,
    )
    for item in agencies:
        party, role = item if isinstance(item, tuple) else (item, "buyer")
        EventAgency.objects.create(event=made, agency=party, role=role)
    for item in vendors:
        party, role = item if isinstance(item, tuple) else (item, "awardee")
        EventVendor.objects.create(event=made, vendor=party, role=role)
    for tech in technologies:
        EventTechnology.objects.create(event=made, technology=tech)
    for source in sources if sources is not None else [{}]:
        SourceRecord.objects.create(
            event=made,
            source=source.get("source", "usaspending"),
            external_id=source.get("external_id", f"ext-{number}-{next(_serial)}"),
            url=source.get("url", f"https://example.org/award/{number}"),
            retrieved_at=source.get("retrieved_at", timezone.now()),
            raw=source.get("raw", {"id": number}),
        )
    return made


def scrape_run(source: str, status: str, finished_at: dt.datetime | None) -> ScrapeRun:
    """A finished scrape run."""
    return ScrapeRun.objects.create(source=source, status=status, finished_at=finished_at)
