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
from itertools import chain, islice
from typing import Any

import orjson
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from tracker.models import Agency, Vendor, under_path
from tracker.normalize import strip_legal_form
from tracker.services.outcomes import (
    buying_unit,
    data_as_of,
    most_specific,
    outcome_message,
    period_start,
    possible_units,
)

PAIR_BATCH = 100
FETCH_SIZE = 5000
DAY_SHIFT = 40  # a packed action: day ordinal << 40 | event id (ids below 2**40)
ID_MASK = (1 << DAY_SHIFT) - 1
NO_ACTIONS = array("q")
# Once an export has read this many contract actions pair by pair, it reads every contract
# action in one pass instead: a large export's pairs share big vendor families, whose actions
# it would otherwise read again for each buying unit.
INDEX_ALL_AFTER = 200_000
# A contract action packed in SQL as in ``OutcomeMessages.actions``: the day ordinal of its
# date (date.toordinal(): 1 for 0001-01-01; 0 when undated) << 40 | its event id. The
# actions of one (vendor, agency) come as one row, a list of packed actions: an array on
# PostgreSQL, JSON text on SQLite.
PACKED_ACTIONS = {
    "postgresql": "array_agg((COALESCE(date - DATE '0001-01-01' + 1, 0)::bigint << 40)"
    " | event_id)",
    "sqlite": "json_group_array((COALESCE(CAST(julianday(date) - 1721424.5 AS INTEGER), 0)"
    " << 40) | event_id)",
}
CONTRACTS_SQL = (
    "SELECT vendor_id, agency_id, {packed} FROM tracker_contractaction {filter}"
    " GROUP BY agency_id, vendor_id"
)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of at most ``size`` items."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def unknown(ids: Iterable[int], known: dict[int, Any]) -> set[int]:
    """The ids of ``ids`` that are not keys of ``known``.

    (``set - known.keys()`` would walk every key of ``known``, which grows through an export.)
    """
    return {pk for pk in ids if pk not in known}


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


def in_ids(column: str, vendor: str) -> str:
    """``column`` in an id list bound as one parameter (``ids_param``).

    On PostgreSQL as ``= ANY``, which an index on several columns can serve for each of them
    (``IN`` a subquery becomes a join that scans the first column's range whole).
    """
    if vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])"
    return f"{column} IN ({ids_subquery(vendor)})"


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

    Applies the rules of ``tracker.services.outcomes`` with bulk queries: one for unknown
    agencies (and their ancestors), one for unknown vendors' families, and one per
    ``PAIR_BATCH`` (buying unit, vendor family) pairs not seen yet, reading those pairs'
    contract actions (an agency under the unit, a vendor in the family) from
    ``ContractAction``, grouped by vendor and agency. So an export reads
    what its own pitches need, not the whole database. A large export, once it has read
    ``INDEX_ALL_AFTER`` actions, reads every contract action in one pass instead. The
    actions are indexed by (buying unit, vendor family) as dates sorted ascending with the
    event ids alongside, so a pitch's count is a bisect. Memory grows with the contract
    actions indexed (at most all of them, packed in 8 bytes per action and unit), not with
    the rows exported.
    """

    def __init__(self) -> None:
        self.as_of: str | None = None
        self.agencies: dict[int, tuple[str, bool, str]] = {}  # id -> (path, has code, short name)
        self.units: dict[int, int] = {}  # agency id -> its buying unit
        self.possible: dict[int, tuple[int, ...]] = {}  # agency id -> units it can count for
        self.subtrees: dict[int, list[int]] = {}  # buying unit -> the agency ids under it
        self.families: dict[int, str] = {}  # top vendor id -> short name
        self.family_of: dict[int, int] = {}  # vendor id -> top vendor id
        self.members: dict[int, list[int]] = {}  # top vendor id -> vendor ids in the family
        self.complete: set[int] = set()  # families whose members are all read
        self.everything = False  # every pair's actions are indexed
        self.actions_read = 0  # pair by pair
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
            if wanted := unknown(agency_ids, self.agencies):
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
        units = self.possible.get(agency_id)
        if units is None:
            units = possible_units(_path_ids(self.agencies[agency_id][0]), self._coded)
            self.possible[agency_id] = units
        return units

    def _load_families(self, family_ids: set[int]) -> None:
        if wanted := unknown(family_ids, self.families):
            for pk, name in Vendor.objects.filter(pk__in=id_list(wanted)).values_list("id", "name"):
                self.families[pk] = strip_legal_form(name)

    def _read_vendors(self, vendors: QuerySet[Vendor]) -> None:
        """Note the family of each of ``vendors``, and the name of each family's top vendor."""
        for pk, path, name in vendors.values_list("id", "path", "name").iterator(chunk_size=5000):
            if path and pk not in self.family_of:
                family = top_id(path)
                self.family_of[pk] = family
                self.members.setdefault(family, []).append(pk)
                if family == pk:
                    self.families[pk] = strip_legal_form(name)

    def families_of(self, vendor_lists: list[list[int]]) -> list[list[int]]:
        """The vendor family (top vendor id) of each vendor of each list, in their order;
        the vendors not seen yet are read in one query."""
        if missing := unknown(chain.from_iterable(vendor_lists), self.family_of):
            self._read_vendors(Vendor.objects.filter(pk__in=id_list(missing)))
        return [[self.family_of[pk] for pk in ids if pk in self.family_of] for ids in vendor_lists]

    def _family_members(self, families: list[int]) -> list[int]:
        """The ids of every vendor in ``families``, read once per family."""
        if unread := [family for family in families if family not in self.complete]:
            paths = Q()
            for family in unread:
                paths |= under_path(f"/{family}/")
            self._read_vendors(Vendor.objects.filter(paths))
            self.complete.update(unread)
        return [pk for family in families for pk in self.members.get(family, ())]

    def _read_subtrees(self, units: set[int]) -> list[int]:
        """The ids of the agencies at or under ``units`` (the ones their actions can name),
        each read once with what ``_possible_units`` needs to know of it."""
        if unread := unknown(units, self.subtrees):
            paths = Q()
            for unit in unread:
                paths |= under_path(self.agencies[unit][0])
            fields = ("id", "path", "toptier_code", "subtier_code", "fpds_id", "acronym", "name")
            rows = list(Agency.objects.filter(paths).values_list(*fields))
            for pk, path, top, sub, fpds, acronym, name in rows:
                self.remember_agency(pk, path, bool(top or sub or fpds), acronym or name)
            for unit in unread:
                top = self.agencies[unit][0]
                self.subtrees[unit] = [row[0] for row in rows if row[1].startswith(top)]
        return sorted({pk for unit in units for pk in self.subtrees[unit]})

    def _index_pairs(self, pairs: set[tuple[int, int]]) -> None:
        """Index the contract actions of the (unit, family) ``pairs`` not indexed yet.

        A pair's actions are those of an agency under the unit whose possible units include
        it and a vendor in the family: one query per ``PAIR_BATCH`` pairs reads the actions of
        their units' subtrees and their families' vendors. Once an export has read
        ``INDEX_ALL_AFTER`` actions this way, every pair is indexed in one pass instead.
        """
        if self.everything:
            return
        new = sorted(pair for pair in pairs if pair[0] << 32 | pair[1] not in self.actions)
        vendor = connection.vendor
        chosen = f"WHERE {in_ids('vendor_id', vendor)} AND {in_ids('agency_id', vendor)}"
        for batch in batched(new, PAIR_BATCH):
            if self.actions_read >= INDEX_ALL_AFTER:
                self._index_everything()
                return
            families = sorted({family for _, family in batch})
            agencies = self._read_subtrees({unit for unit, _ in batch})
            params = [ids_param(self._family_members(families), vendor),
                      ids_param(agencies, vendor)]  # fmt: skip
            found = {unit << 32 | family: array("q") for unit, family in batch}
            for groups in self._contract_actions(chosen, params):
                for vendor_id, agency_id, packed in groups:
                    self.actions_read += len(packed)
                    family = self.family_of[vendor_id]
                    for unit in self._possible_units(agency_id):
                        if (pair := unit << 32 | family) in found:
                            found[pair].extend(packed)
            for pair, actions in found.items():
                self.actions[pair] = _distinct(actions)

    @staticmethod
    def _contract_actions(condition: str, params: list[Any]) -> Iterator[list[tuple]]:
        """Chunks of (vendor id, agency id, packed actions) for the actions ``condition``
        selects: one per vendor and agency."""
        sql = CONTRACTS_SQL.format(packed=PACKED_ACTIONS[connection.vendor], filter=condition)
        with streaming_cursor(connection) as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(FETCH_SIZE):
                if connection.vendor == "sqlite":
                    rows = [(vendor, agency, orjson.loads(text)) for vendor, agency, text in rows]
                yield rows

    def _index_everything(self) -> None:
        """Index every contract action by (unit, family), for each unit it can follow a pitch
        to (``possible_units``), reading every vendor's family first."""
        self._read_vendors(Vendor.objects.all())
        found: dict[int, array] = {}
        for groups in self._contract_actions("", []):
            self._load_agencies({agency_id for _, agency_id, _ in groups})
            for vendor_id, agency_id, packed in groups:
                family = self.family_of.get(vendor_id)
                if family is None:
                    continue
                for unit in self._possible_units(agency_id):
                    if (actions := found.get(pair := unit << 32 | family)) is None:
                        actions = found[pair] = array("q")
                    actions.extend(packed)
        self.actions = {pair: _distinct(actions) for pair, actions in found.items()}
        self.everything = True

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
        wanted = {pair for plan in plans.values() for pair in plan[1]}
        self._load_families({family for _, family in wanted})
        self._index_pairs(wanted)
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


def _distinct(actions: array) -> array:
    """``actions`` sorted ascending, each once (an action can reach a pair through two of its
    agencies). Collected in arrays rather than sets: 8 bytes an action while indexing."""
    if len(actions) < 2:
        return actions
    return array("q", sorted(set(actions)))
