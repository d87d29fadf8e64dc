"""Small builders for events with links, shared by the export and API tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import count

from django.utils import timezone

from tracker.models import (
    Agency,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    SourceRecord,
    Technology,
    Vendor,
)

_numbers = count(1)


def agency(name: str, **fields) -> Agency:
    return Agency.objects.create(name=name, **fields)


def vendor(name: str, **fields) -> Vendor:
    return Vendor.objects.create(name=name, **fields)


def technology(name: str, **fields) -> Technology:
    return Technology.objects.create(name=name, **fields)


def event(
    *,
    kind: str = "award",
    date: dt.date | None = dt.date(2020, 1, 1),
    title: str = "",
    amount: Decimal | str | None = None,
    agencies: tuple = (),
    vendors: tuple = (),
    technologies: tuple = (),
    sources: tuple = (),
    **fields,
) -> Event:
    """An event; ``agencies``/``vendors`` take models or (model, role) pairs, sources tuples."""
    made = Event.objects.create(
        kind=kind,
        date=date,
        title=title or f"event {next(_numbers)}",
        amount=None if amount is None else Decimal(amount),
        **fields,
    )
    for item in agencies:
        linked, role = item if isinstance(item, tuple) else (item, "buyer")
        EventAgency.objects.create(event=made, agency=linked, role=role)
    for item in vendors:
        linked, role = item if isinstance(item, tuple) else (item, "vendor")
        EventVendor.objects.create(event=made, vendor=linked, role=role)
    for linked in technologies:
        EventTechnology.objects.create(event=made, technology=linked)
    for source, external_id, url in sources:
        SourceRecord.objects.create(
            event=made, source=source, external_id=external_id, url=url, retrieved_at=timezone.now()
        )
    return made
