"""Outcome messages for pitch-like export rows, computed a chunk at a time with bulk queries.

Also the two chunking helpers the exports share: ``batched`` and ``id_list``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from django.db.models.expressions import RawSQL

from tracker.models import Agency, Event, EventAgency, EventVendor, Vendor
from tracker.normalize import strip_legal_form
from tracker.services.outcomes import data_as_of, period_start

CONTRACT_KINDS = ("award", "modification")
PAIR_BATCH = 100
SEPARATOR = "; "


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of at most ``size`` items."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _top_id(path: str) -> int:
    return int(path.split("/")[1])


def id_list(ids: Iterable[int]) -> RawSQL:
    """Integer ids inlined as an SQL list for ``__in``.

    They come from the database as ints (and are cast again): inlined, they spare Django's
    per-value preparation of a 2,000-item IN list, which cost more than the queries did.
    """
    return RawSQL(",".join(str(int(pk)) for pk in ids) or "NULL", ())  # noqa: S611 - ints


class OutcomeMessages:
    """Outcome messages for pitch-like rows, computed per chunk with caches kept for one export.

    Mirrors ``tracker.services.outcomes.event_outcome(event).message`` with bulk queries: one
    for unknown ancestor agencies, one for unknown vendor families, one for every vendor's
    family (once per export) and two per 100 vendor families not seen yet (their contract
    actions and those actions' agencies). The contract actions of the families met and the
    vendor → family map are cached for the export: memory grows with them.
    """

    def __init__(self) -> None:
        self.as_of: dt.date | None = None
        self.agencies: dict[int, tuple[str, bool, str]] = {}  # id -> (path, has code, short name)
        self.families: dict[int, str] = {}  # top vendor id -> short name
        self.pairs: dict[tuple[int, int], list[tuple[dt.date | None, int]]] = {}
        self.family_events: dict[int, list[tuple[dt.date | None, int, set[int]]]] = {}
        self.members: dict[int, dict[int, str]] | None = None

    def remember_agency(self, pk: int, path: str, has_code: bool, short_name: str) -> None:
        self.agencies.setdefault(pk, (path, has_code, short_name))

    def _unit(self, agency_id: int) -> int:
        path = self.agencies[agency_id][0]
        for pk in reversed([int(part) for part in path.strip("/").split("/") if part]):
            if pk in self.agencies and self.agencies[pk][1]:
                return pk
        return agency_id

    def _load_agencies(self, agency_ids: Iterable[int]) -> None:
        wanted = {
            int(part)
            for pk in agency_ids
            for part in self.agencies[pk][0].strip("/").split("/")
            if part
        } - self.agencies.keys()
        if not wanted:
            return
        rows = Agency.objects.filter(pk__in=wanted).values_list(
            "id", "path", "toptier_code", "subtier_code", "fpds_id", "acronym", "name"
        )
        for pk, path, top, sub, fpds, acronym, name in rows:
            self.remember_agency(pk, path, bool(top or sub or fpds), acronym or name)

    def _load_families(self, family_ids: set[int]) -> None:
        wanted = family_ids - self.families.keys()
        if wanted:
            for pk, name in Vendor.objects.filter(pk__in=wanted).values_list("id", "name"):
                self.families[pk] = strip_legal_form(name)

    def _members(self) -> dict[int, dict[int, str]]:
        """{top vendor id: {member id: path}} for every vendor, read once per export.

        One pass over (id, path) is far cheaper than a prefix filter per family, which
        SQLite cannot answer from the path index (its LIKE folds case).
        """
        if self.members is None:
            self.members = defaultdict(dict)
            for pk, path in Vendor.objects.values_list("id", "path").iterator(chunk_size=5000):
                if path:
                    self.members[_top_id(path)][pk] = path
        return self.members

    def _load_pairs(self, pairs: set[tuple[int, int]]) -> None:
        """Contract actions per new pair, read a vendor family at a time (100 per query)."""
        new_families = {family for _, family in pairs} - self.family_events.keys()
        for batch in batched(sorted(new_families), PAIR_BATCH):
            members = {}
            for family in batch:
                self.family_events[family] = []
                members.update(self._members().get(family, {}))
            contracts: dict[int, tuple[dt.date | None, set[int]]] = {}
            for event_id, date, vendor_id in EventVendor.objects.filter(
                vendor_id__in=id_list(members), event__kind__in=CONTRACT_KINDS
            ).values_list("event_id", "event__date", "vendor_id"):
                contracts.setdefault(event_id, (date, set()))[1].add(_top_id(members[vendor_id]))
            units: dict[int, set[int]] = defaultdict(set)
            for event_id, agency_path in EventAgency.objects.filter(
                event_id__in=id_list(contracts)
            ).values_list("event_id", "agency__path"):
                units[event_id].update(int(part) for part in agency_path.strip("/").split("/"))
            for event_id, (date, families) in contracts.items():
                for family in families:
                    self.family_events[family].append((date, event_id, units[event_id]))
        for unit, family in pairs - self.pairs.keys():
            self.pairs[(unit, family)] = [
                (date, event_id)
                for date, event_id, units in self.family_events[family]
                if unit in units
            ]

    def messages(
        self, pitches: Sequence[tuple[int, dt.date | None, str, list[int], list[str]]]
    ) -> dict[int, str]:
        """{event id: message} for (id, date, precision, agency ids, vendor paths) rows."""
        if not pitches:
            return {}
        if self.as_of is None:
            self.as_of = data_as_of()
        self._load_agencies(pk for row in pitches for pk in row[3])
        plans = {}
        for event_id, date, precision, agency_ids, vendor_paths in pitches:
            units = list(dict.fromkeys(self._unit(pk) for pk in agency_ids))
            # As the outcome service does: a pitch to DHS and to ICE is one pitch to ICE.
            paths = {unit: self.agencies[unit][0] for unit in units}
            units = [
                unit
                for unit in units
                if not any(
                    other != unit and path.startswith(paths[unit]) for other, path in paths.items()
                )
            ]
            families = list(dict.fromkeys(_top_id(path) for path in vendor_paths))
            plans[event_id] = (date, precision, [(u, f) for u in units for f in families])
        self._load_families({f for plan in plans.values() for _, f in plan[2]})
        self._load_pairs({pair for plan in plans.values() for pair in plan[2]})
        return {event_id: self._message(event_id, *plan) for event_id, plan in plans.items()}

    def _message(
        self, event_id: int, date: dt.date | None, precision: str, pairs: list[tuple[int, int]]
    ) -> str:
        if not pairs:
            return "No agency and vendor are linked to this event yet."
        after = period_start(Event(date=date, date_precision=precision))
        followed = {
            pk
            for pair in pairs
            for day, pk in self.pairs[pair]
            if pk != event_id and (after is None or (day is not None and day >= after))
        }
        if followed:
            plural = "s" if len(followed) != 1 else ""
            return f"{len(followed)} contract action{plural} followed (as of {self.as_of})."
        names = SEPARATOR.join(
            f"{self.agencies[unit][2]} and {self.families[family]}" for unit, family in pairs
        )
        return f"No contract found between {names} as of {self.as_of}"
