"""Outcome messages for pitch-like export rows, computed a chunk at a time with bulk queries.

Also the helpers the exports share: ``batched``, ``id_list``, ``ids_param`` and
``streaming_cursor``.
"""

from __future__ import annotations

import datetime as dt
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from tracker.models import Agency, Vendor
from tracker.normalize import strip_legal_form
from tracker.services.outcomes import (
    buying_unit,
    data_as_of,
    most_specific,
    outcome_message,
    period_start,
    possible_units,
)

CONTRACT_KINDS = ("award", "modification")
FAMILY_BATCH = 100
FETCH_SIZE = 5000
DAY_SHIFT = 40  # a packed action: day ordinal << 40 | event id (ids below 2**40)
ID_MASK = (1 << DAY_SHIFT) - 1
NO_ACTIONS = array("q")
# Once an export has read this many contract actions family by family, it indexes every
# family's actions in one pass, on PostgreSQL: there, reading 850,000 actions a hundred
# families at a time (by their members' ids) took 9 s and one pass 3 s; SQLite takes 3.5 s
# by family and 4.6 s in one pass.
INDEX_ALL_AFTER = {"postgresql": 50_000}
# A contract action packed in SQL as in ``OutcomeMessages.actions``: the day ordinal of its
# date (date.toordinal(): 1 for 0001-01-01; 0 when undated) << 40 | its id.
PACKED_ACTION = {
    "postgresql": "(COALESCE(e.date - DATE '0001-01-01' + 1, 0)::bigint << 40) | e.id",
    "sqlite": "(COALESCE(CAST(julianday(e.date) - 1721424.5 AS INTEGER), 0) << 40) | e.id",
}
CONTRACTS_SQL = (
    "SELECT ev.vendor_id, ea.agency_id, {packed} FROM tracker_eventvendor ev"
    " JOIN tracker_event e ON e.id = ev.event_id"
    " JOIN tracker_eventagency ea ON ea.event_id = e.id"
    " WHERE {filter} e.kind IN ('award', 'modification')"
)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of at most ``size`` items."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def top_id(path: str) -> int:
    """The id of the root of a materialised ``path`` ("/3/17/" → 3)."""
    return int(path.split("/")[1])


def _path_ids(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in path.strip("/").split("/") if part)


def inlined(ids: Iterable[int]) -> str:
    """Integer ids as an SQL list (cast again: only ints are ever inlined)."""
    return ",".join(str(int(pk)) for pk in ids) or "NULL"


def ids_subquery(vendor: str) -> str:
    """A subquery over one bound parameter holding an id list (see ``ids_param``).

    One SQL text for every chunk: SQLite's statement cache then holds one prepared
    statement, not 128 with thousands of inlined constants each (over 100 MB).
    """
    if vendor == "postgresql":
        return "SELECT unnest(%s::bigint[])"
    return "SELECT value FROM json_each(%s)"


def ids_param(ids: Iterable[int], vendor: str) -> Any:
    """The parameter for ``ids_subquery``: a list on PostgreSQL, JSON text on SQLite."""
    values = [int(pk) for pk in ids]
    return values if vendor == "postgresql" else "[" + ",".join(map(str, values)) + "]"


def id_list(ids: Iterable[int]) -> RawSQL:
    """Integer ids inlined as an SQL list for ``__in``.

    They come from the database as ints (and are cast again): inlined, they spare Django's
    per-value preparation of a 2,000-item IN list, which cost more than the queries did.
    """
    return RawSQL(inlined(ids), ())  # noqa: S611 - ints


@contextmanager
def streaming_cursor(db: BaseDatabaseWrapper) -> Iterator[Any]:
    """A cursor that streams a query's rows in chunks (server-side where the database allows).

    An export reads every row it asks for, so PostgreSQL is told to plan for all of them:
    planning for the first tenth (its default for cursors) chose an index-ordered nested
    loop that took three times as long over the whole table as a hash join and a sort.
    """
    server_side = not db.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    if db.vendor != "postgresql":
        with db.chunked_cursor() if server_side else db.cursor() as cursor:
            yield cursor
        return
    with db.cursor() as setting:
        setting.execute("SET cursor_tuple_fraction = 1.0")
    try:
        with db.chunked_cursor() if server_side else db.cursor() as cursor:
            yield cursor
    finally:
        with db.cursor() as setting:
            setting.execute("RESET cursor_tuple_fraction")


def period_start_day(date: str | None, precision: str) -> int | None:
    """``period_start`` of an ISO date text, as a day ordinal."""
    start = period_start(dt.date.fromisoformat(date) if date else None, precision)
    return start.toordinal() if start else None


class OutcomeMessages:
    """Outcome messages for pitch-like rows, computed per chunk with caches kept for one export.

    Applies the rules of ``tracker.services.outcomes`` with bulk queries: one
    for unknown agencies (and their ancestors), one for unknown vendor families, one for every
    vendor's family (once per export, when the first pitch needs it) and one per 100 vendor
    families not seen yet, reading their contract actions with the actions' agencies (in a
    large export, one for every family's actions instead). Those actions are indexed by
    (buying unit, vendor family) as dates sorted ascending with the event ids alongside, so a
    pitch's count is a bisect. Memory grows with the contract actions indexed (at most all of
    them, packed in 8 bytes per action and unit), not with the rows exported.
    """

    def __init__(self) -> None:
        self.as_of: str | None = None
        self.agencies: dict[int, tuple[str, bool, str]] = {}  # id -> (path, has code, short name)
        self.units: dict[int, int] = {}  # agency id -> its buying unit
        self.families: dict[int, str] = {}  # top vendor id -> short name
        self.family_of: dict[int, int] | None = None  # vendor id -> top vendor id
        self.members: dict[int, list[int]] = {}  # top vendor id -> vendor ids in the family
        self.indexed: set[int] = set()  # families whose contract actions are indexed
        self.everything = False  # every family's actions are indexed
        self.actions_read = 0  # by family
        # unit << 32 | family -> its distinct actions packed (day << 40 | id), ascending;
        # an undated action has day 0. Packed, a million actions take a few tens of MB.
        self.actions: dict[int, array] = {}

    def remember_agency(self, pk: int, path: str, has_code: bool, short_name: str) -> None:
        """Record an agency read elsewhere (its path, whether it buys, its short name)."""
        self.agencies.setdefault(pk, (path, has_code, short_name))

    def _load_agencies(self, agency_ids: Iterable[int]) -> None:
        """The agencies ``agency_ids`` and all their ancestors, at most two queries."""
        fields = ("id", "path", "toptier_code", "subtier_code", "fpds_id", "acronym", "name")
        agency_ids = set(agency_ids)
        for _ in range(2):
            if wanted := agency_ids - self.agencies.keys():
                for pk, path, top, sub, fpds, acronym, name in Agency.objects.filter(
                    pk__in=id_list(wanted)
                ).values_list(*fields):
                    self.remember_agency(pk, path, bool(top or sub or fpds), acronym or name)
            agency_ids = {
                part
                for pk in agency_ids
                if pk in self.agencies
                for part in _path_ids(self.agencies[pk][0])
            }

    def _coded(self, pk: int) -> bool:
        return pk in self.agencies and self.agencies[pk][1]

    def _unit(self, agency_id: int) -> int:
        unit = self.units.get(agency_id)
        if unit is None:
            unit = buying_unit(_path_ids(self.agencies[agency_id][0]), self._coded)
            self.units[agency_id] = unit
        return unit

    def _possible_units(self, agency_id: int) -> tuple[int, ...]:
        """The agencies in ``agency_id``'s path that can be a pitch's buying unit."""
        return possible_units(_path_ids(self.agencies[agency_id][0]), self._coded)

    def _load_families(self, family_ids: set[int]) -> None:
        if wanted := family_ids - self.families.keys():
            for pk, name in Vendor.objects.filter(pk__in=id_list(wanted)).values_list("id", "name"):
                self.families[pk] = strip_legal_form(name)

    def _family_members(self) -> dict[int, list[int]]:
        """{top vendor id: member ids}, read once per export from every vendor's path.

        One pass over (id, path) is far cheaper than a prefix filter per family, which
        SQLite cannot answer from the path index (its LIKE folds case).
        """
        if self.family_of is None:
            self.family_of = {}
            self._read_vendors(Vendor.objects.all())
        return self.members

    def _read_vendors(self, vendors: QuerySet[Vendor]) -> None:
        """Note the family of each of ``vendors``, and the short name of each family's top."""
        assert self.family_of is not None
        rows = vendors.values_list("id", "path", "name").iterator(chunk_size=5000)
        for pk, path, name in rows:
            if path:
                family = top_id(path)
                self.family_of[pk] = family
                self.members.setdefault(family, []).append(pk)
                if family == pk:
                    self.families[pk] = strip_legal_form(name)

    def families_of(self, vendor_ids: list[int]) -> list[int]:
        """The vendor family (top vendor id) of each of ``vendor_ids``, in their order."""
        self._family_members()
        assert self.family_of is not None
        if missing := [pk for pk in vendor_ids if pk not in self.family_of]:
            # Vendors added since this export read them all.
            self._read_vendors(Vendor.objects.filter(pk__in=id_list(missing)))
        return [self.family_of[pk] for pk in vendor_ids if pk in self.family_of]

    def _index_families(self, families: set[int]) -> None:
        """Index the contract actions of ``families`` not indexed yet by (unit, family).

        Once an export has read ``INDEX_ALL_AFTER`` actions this way, the actions of every
        family are indexed in one pass instead, where that is faster.
        """
        if self.everything:
            return
        index_all_after = INDEX_ALL_AFTER.get(connection.vendor)
        new = sorted(families - self.indexed)
        members = self._family_members() if new else {}
        for batch in batched(new, FAMILY_BATCH):
            if index_all_after is not None and self.actions_read >= index_all_after:
                self._index(self._contracts_sql(""), [], skip=set(self.indexed))
                self.everything = True
                return
            self.indexed.update(batch)
            if vendor_ids := [pk for family in batch for pk in members.get(family, ())]:
                chosen = f"ev.vendor_id IN ({ids_subquery(connection.vendor)}) AND"
                self.actions_read += self._index(
                    self._contracts_sql(chosen), [ids_param(vendor_ids, connection.vendor)]
                )

    @staticmethod
    def _contracts_sql(condition: str) -> str:
        return CONTRACTS_SQL.format(packed=PACKED_ACTION[connection.vendor], filter=condition)

    def _index(self, sql: str, params: list[Any], skip: set[int] = frozenset()) -> int:
        """Index the actions ``sql`` reads (vendor, agency, packed action) by (unit, family),
        leaving out the families in ``skip`` (indexed already); the number of rows read."""
        self._family_members()
        family_of = self.family_of or {}
        units: dict[int, tuple[int, ...]] = {}
        found: dict[int, array] = {}
        read = 0
        with streaming_cursor(connection) as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(FETCH_SIZE):
                read += len(rows)
                if unknown := {row[1] for row in rows} - units.keys():
                    self._load_agencies(unknown)
                    units.update((pk, self._possible_units(pk)) for pk in unknown)
                for vendor_id, agency_id, action in rows:
                    family = family_of.get(vendor_id)
                    if family is None or family in skip:
                        continue
                    for unit in units[agency_id]:
                        pair = unit << 32 | family
                        packed = found.get(pair)
                        if packed is None:
                            packed = found[pair] = array("q")
                        packed.append(action)
        for pair, actions in found.items():
            self.actions[pair] = array("q", sorted(set(actions)))
        return read

    def _plans(
        self, pitches: Sequence[tuple[int, str | None, str, list[int], list[int]]]
    ) -> dict[int, tuple[int | None, list[tuple[int, int]]]]:
        """{event id: (first day, (unit, family) pairs)}, with their actions indexed."""
        if self.as_of is None:
            self.as_of = data_as_of().isoformat()
        self._load_agencies({pk for row in pitches for pk in row[3]})
        plans = {}
        for event_id, date, precision, agency_ids, family_ids in pitches:
            units = list(dict.fromkeys(self._unit(pk) for pk in agency_ids))
            if len(units) > 1:
                units = most_specific({unit: self.agencies[unit][0] for unit in units})
            families = list(dict.fromkeys(family_ids))
            pairs = [(u, f) for u in units for f in families]
            plans[event_id] = (period_start_day(date, precision), pairs)
        wanted = {f for plan in plans.values() for _, f in plan[1]}
        self._load_families(wanted)
        self._index_families(wanted)
        return plans

    def messages(
        self, pitches: Sequence[tuple[int, str | None, str, list[int], list[int]]]
    ) -> dict[int, str]:
        """{event id: message} for (id, ISO date, precision, agency ids, family ids) rows.

        Agency and family ids come in the export's order (by name, then id).
        """
        if not pitches:
            return {}
        plans = self._plans(pitches)
        return {event_id: self._message(*plan) for event_id, plan in plans.items()}

    def followed(
        self, pitches: Sequence[tuple[int, str | None, str, list[int], list[int]]]
    ) -> dict[int, tuple[list[tuple[int, int]], list[int]]]:
        """{event id: ((unit, family) pairs, ids of the contract actions that followed)}."""
        plans = self._plans(pitches)
        return {
            event_id: (pairs, sorted({v & ID_MASK for v in self._after(after, pairs)}))
            for event_id, (after, pairs) in plans.items()
        }

    def _after(self, after: int | None, pairs: list[tuple[int, int]]) -> Iterator[int]:
        """The packed actions of ``pairs`` on or after day ``after`` (all when undated)."""
        first = (after or 0) << DAY_SHIFT
        for unit, family in pairs:
            packed = self.actions.get(unit << 32 | family, NO_ACTIONS)
            yield from packed[bisect_left(packed, first) :]

    def _message(self, after: int | None, pairs: list[tuple[int, int]]) -> str:
        """The message for one pitch; pitch-like events are never contract actions themselves."""
        if len(pairs) == 1:
            unit, family = pairs[0]
            packed = self.actions.get(unit << 32 | family, NO_ACTIONS)
            count = len(packed) - bisect_left(packed, (after or 0) << DAY_SHIFT)
        else:
            count = len({value & ID_MASK for value in self._after(after, pairs)})
        names = [(self.agencies[u][2], self.families[f]) for u, f in pairs]
        return outcome_message(count=count, pair_names=names, as_of=self.as_of)
