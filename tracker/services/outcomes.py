"""Pitch → what followed: the one definition of a pitch-like event's outcome.

For a pitch, meeting, solicitation or lobbying event, "the same agency" is the buying unit
the pitched agency belongs to (the nearest agency, itself or above, that carries a
procurement code: a pitch to HSI is followed by ICE's awards), with everything under it;
"the same vendor" is the vendor's whole corporate family (its top parent and all
subsidiaries). The contract actions (awards, modifications) of such a pair dated on or after
the first day of the pitch's period follow it; an undated pitch is followed by all of them.
Computed on read, so it is always current as imports arrive.

The rules are the small pure functions below. ``tracker.exports.outcomes.OutcomeMessages``
applies them to a batch of events with bulk queries; ``event_outcome`` reads one event
through that same batch, so the event page, the home page, CSV and the API agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from tracker.models import Agency, Event, ScrapeRun, Vendor

PITCH_KINDS = ("pitch", "meeting", "solicitation", "lobbying")
CONTRACT_SOURCES = ("usaspending", "fpds", "sam_awards", "sam")


@dataclass
class PairOutcome:
    """One buying unit and one vendor family a pitch was checked between."""

    agency: Agency
    vendor: Vendor


@dataclass
class Outcome:
    """What followed one pitch-like event: the contract actions, oldest first."""

    event: Event
    pairs: list[PairOutcome]
    followed: list[Event]
    as_of: dt.date
    message: str

    @property
    def has_contract(self) -> bool:
        return bool(self.followed)


def period_start(date: dt.date | None, precision: str) -> dt.date | None:
    """The first day of ``date`` at its precision (June 2018 → 2018-06-01)."""
    if date is None:
        return None
    if precision == "year":
        return date.replace(month=1, day=1)
    if precision == "month":
        return date.replace(day=1)
    return date


def buying_unit(path_ids: Sequence[int], coded: Callable[[int], bool]) -> int:
    """The nearest agency at or above the last of ``path_ids`` that has a procurement code;
    the agency itself when none has."""
    for pk in reversed(path_ids):
        if coded(pk):
            return pk
    return path_ids[-1]


def possible_units(path_ids: Sequence[int], coded: Callable[[int], bool]) -> tuple[int, ...]:
    """The agencies in a contract action agency's path that can be a pitch's buying unit.

    Those with a procurement code, and those with none at or above them (``buying_unit`` of
    an agency without a coded ancestor is the agency itself).
    """
    found = []
    coded_above = False
    for pk in path_ids:
        coded_above = coded_above or coded(pk)
        if coded(pk) or not coded_above:
            found.append(pk)
    return tuple(found)


def most_specific(units: dict[int, str]) -> list[int]:
    """The units ({id: path}) with no other unit below them: a pitch to DHS and to ICE is
    one pitch to ICE."""
    return [
        unit
        for unit, path in units.items()
        if not any(other != unit and below.startswith(path) for other, below in units.items())
    ]


def outcome_message(
    *, count: int, pair_names: Iterable[tuple[str, str]], as_of: dt.date | str
) -> str:
    """One line: what followed, or "No contract found between X and Y as of DATE"."""
    names = "; ".join(f"{agency} and {vendor}" for agency, vendor in pair_names)
    if not names:
        return "No agency and vendor are linked to this event yet."
    if count:
        return f"{count} contract action{'s' if count != 1 else ''} followed (as of {as_of})."
    return f"No contract found between {names} as of {as_of}"


def data_as_of() -> dt.date:
    """The date of the contract data: the last successful contract-source run, else today."""
    finished = (
        ScrapeRun.objects.filter(source__in=CONTRACT_SOURCES, status__in=["succeeded", "partial"])
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return (finished or timezone.now()).date()


def event_outcome(event: Event) -> Outcome | None:
    """What followed a pitch-like event (None for other kinds): a batch of one for
    ``OutcomeMessages``, so the page says what the export's outcome column says."""
    if event.kind not in PITCH_KINDS:
        return None
    # Imported here: the exports import the rules above.
    from tracker.exports.cells import PITCH_VENDOR_ROLES
    from tracker.exports.outcomes import OutcomeMessages

    agencies = Agency.objects.filter(event_links__event=event).values_list("name", "id")
    vendors = Vendor.objects.filter(
        event_links__event=event, event_links__role__in=PITCH_VENDOR_ROLES
    ).values_list("name", "id")
    batch = OutcomeMessages()
    date = event.date.isoformat() if event.date else None
    pitch = (
        event.pk,
        date,
        event.date_precision,
        [pk for _, pk in sorted(set(agencies))],
        batch.families_of([[pk for _, pk in sorted(set(vendors))]])[0],
    )
    pairs, followed_ids = batch.followed([pitch])[event.pk]
    units = Agency.objects.in_bulk({unit for unit, _ in pairs})
    families = Vendor.objects.in_bulk({family for _, family in pairs})
    followed = Event.objects.filter(pk__in=followed_ids).order_by(
        F("date").asc(nulls_last=True), "pk"
    )
    return Outcome(
        event=event,
        pairs=[PairOutcome(units[unit], families[family]) for unit, family in pairs],
        followed=list(followed),
        as_of=dt.date.fromisoformat(batch.as_of),
        message=batch.messages([pitch])[event.pk],
    )
