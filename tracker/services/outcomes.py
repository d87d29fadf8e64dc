"""Pitch → what followed: the contracts and solicitations that came after a pitch-like event.

For a pitch, meeting, solicitation or lobbying event, "the same agency" is the buying unit
the pitched agency belongs to (the nearest agency, itself or above, that carries a
procurement code: a pitch to HSI is followed by ICE's awards), with everything under it;
"the same vendor" is the vendor's whole corporate family (its top parent and all
subsidiaries). Computed on read, so it is always current as imports arrive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from tracker.models import Agency, Event, ScrapeRun, Vendor
from tracker.selectors import EventFilters, event_search

PITCH_KINDS = ("pitch", "meeting", "solicitation", "lobbying")
FOLLOW_KINDS = ("solicitation", "award", "modification")
CONTRACT_SOURCES = ("usaspending", "fpds", "sam_awards", "sam")


@dataclass
class PairOutcome:
    """What followed between one buying unit and one vendor family."""

    agency: Agency
    vendor: Vendor
    followed: list[Event] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(float(e.amount) for e in self.followed if e.amount is not None)


@dataclass
class Outcome:
    event: Event
    pairs: list[PairOutcome]
    as_of: dt.date

    @property
    def followed(self) -> list[Event]:
        seen: dict[int, Event] = {}
        for pair in self.pairs:
            for event in pair.followed:
                seen.setdefault(event.pk, event)
        return sorted(seen.values(), key=lambda e: (e.date or dt.date.max, e.pk))

    @property
    def has_contract(self) -> bool:
        return any(e.kind in ("award", "modification") for e in self.followed)

    @property
    def message(self) -> str:
        """One line: what followed, or "No contract found between X and Y as of DATE"."""
        if not self.pairs:
            return "No agency and vendor are linked to this event yet."
        if self.has_contract:
            count = sum(1 for e in self.followed if e.kind in ("award", "modification"))
            return (
                f"{count} contract action{'s' if count != 1 else ''} followed (as of {self.as_of})."
            )
        names = "; ".join(f"{p.agency.short_name} and {p.vendor.short_name}" for p in self.pairs)
        return f"No contract found between {names} as of {self.as_of}"


def buying_unit(agency: Agency) -> Agency:
    """The nearest agency at or above ``agency`` that buys in its own name (has a code)."""
    for node in [agency, *reversed(agency.ancestors())]:
        if node.subtier_code or node.toptier_code or node.fpds_id:
            return node
    return agency


def vendor_family(vendor: Vendor) -> Vendor:
    """The top parent of the vendor's corporate family."""
    ancestors = vendor.ancestors()
    return ancestors[0] if ancestors else vendor


def data_as_of() -> dt.date:
    """The date of the contract data: the last successful contract-source run, else today."""
    finished = (
        ScrapeRun.objects.filter(source__in=CONTRACT_SOURCES, status__in=["succeeded", "partial"])
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return (finished or timezone.now()).date()


def followers(*, agency: Agency, vendor: Vendor, after: dt.date | None) -> QuerySet[Event]:
    """Solicitations, awards and modifications between the agency's unit and the vendor family.

    Through ``event_search``, which starts from the smaller side (a vendor family's few links
    rather than the 230,000 of ICE and its offices at a million events).
    """
    filters = EventFilters(
        agency=agency.slug, vendor=vendor.slug, kind=FOLLOW_KINDS, since=after, all=True
    )
    return event_search(filters).order_by("date", "pk")


def period_start(event: Event) -> dt.date | None:
    """The first day of the event's date at its precision (June 2018 → 2018-06-01)."""
    if event.date is None:
        return None
    if event.date_precision == "year":
        return event.date.replace(month=1, day=1)
    if event.date_precision == "month":
        return event.date.replace(day=1)
    return event.date


def event_outcome(event: Event) -> Outcome | None:
    """What followed a pitch-like event; None for other kinds."""
    if event.kind not in PITCH_KINDS:
        return None
    units = {unit.pk: unit for unit in map(buying_unit, event.agencies.all())}
    # A pitch to DHS and to ICE is one pitch to ICE: keep the most specific units.
    units = {
        pk: unit
        for pk, unit in units.items()
        if not any(other.path.startswith(unit.path) and other.pk != pk for other in units.values())
    }
    families = {
        family.pk: family
        for family in map(
            vendor_family,
            Vendor.objects.filter(
                event_links__event=event, event_links__role__in=["vendor", "client", "awardee"]
            ),
        )
    }
    after = period_start(event)
    pairs = []
    for unit in units.values():
        for family in families.values():
            followed = [
                e for e in followers(agency=unit, vendor=family, after=after) if e.pk != event.pk
            ]
            pairs.append(PairOutcome(agency=unit, vendor=family, followed=followed))
    return Outcome(event=event, pairs=pairs, as_of=data_as_of())
