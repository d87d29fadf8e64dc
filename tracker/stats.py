"""Denormalised per-entity statistics: yearly totals, all-time counts and top counterparties.

Entity pages and filter choices read these instead of aggregating 100,000+ link rows per view.
Every figure counts an entity together with everything below it (sub-agencies, subsidiaries,
narrower technologies), each event once, exactly as ``event_search`` filters. Counterparties
are the directly linked agencies or vendors, as ``top_counterparties`` counts them live.
``refresh_stats()`` rebuilds everything; ``refresh_stats_for_events(ids)`` only the entities
those events touch (after an import).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Model

from tracker.caching import forget_cached_counts
from tracker.models import (
    CONTRACT_KINDS,
    Agency,
    EntityCounterparty,
    EntityStat,
    EntityTotal,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    Technology,
    Vendor,
)

TOP_COUNTERPARTIES = 10
CHUNK = 20_000
TYPES: dict[str, tuple[type[Model], type[Model]]] = {
    "agency": (Agency, EventAgency),
    "vendor": (Vendor, EventVendor),
    "technology": (Technology, EventTechnology),
}
# Which counterparties each entity page shows.
COUNTERPARTIES = {"agency": ("vendor",), "vendor": ("agency",), "technology": ("agency", "vendor")}

Key = tuple[str, int]


def _ancestors(model: type[Model]) -> dict[int, tuple[int, ...]]:
    """Each node id with the ids on its path (itself and every ancestor)."""
    return {
        pk: tuple(int(part) for part in path.strip("/").split("/") if part) or (pk,)
        for pk, path in model.objects.values_list("pk", "path")
    }


def _links(link_model: type[Model], fk: str, ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for event_id, other in link_model.objects.filter(event_id__in=ids).values_list(
        "event_id", f"{fk}_id"
    ).order_by():
        found[event_id].append(other)
    return found


def _compute(event_ids: Iterable[int] | None, targets: set[Key] | None) -> tuple[dict, dict]:
    """Per-(type, id) yearly totals and counterparty counters for ``targets`` (None = all)."""
    trees = {name: _ancestors(model) for name, (model, _) in TYPES.items()}
    years: dict[Key, dict[int | None, list]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    parties: dict[Key, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    events = Event.objects.order_by("pk").values_list("pk", "date", "kind", "amount")
    if event_ids is None:
        chunks = _id_chunks(Event.objects.order_by("pk").values_list("pk", flat=True))
    else:
        chunks = _id_chunks(sorted(set(event_ids)))
    for chunk in chunks:
        links = {name: _links(link, name, chunk) for name, (_, link) in TYPES.items()}
        for pk, date, kind, amount in events.filter(pk__in=chunk):
            year = date.year if date else None
            obligated = amount if kind in CONTRACT_KINDS and amount is not None else 0
            direct = {name: links[name].get(pk, ()) for name in TYPES}
            for name in TYPES:
                nodes = {node for d in direct[name] for node in trees[name].get(d, (d,))}
                for node in nodes:
                    key = (name, node)
                    if targets is not None and key not in targets:
                        continue
                    row = years[key][year]
                    row[0] += 1
                    row[1] += obligated
                    for other in COUNTERPARTIES[name]:
                        parties[key][other].update(set(direct[other]))
    return years, parties


def _id_chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    chunk: list[int] = []
    for pk in ids:
        chunk.append(pk)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _names(parties: dict) -> dict[str, dict[int, str]]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for counters in parties.values():
        for other, counter in counters.items():
            wanted[other].update(counter)
    return {
        other: dict(TYPES[other][0].objects.filter(pk__in=ids).values_list("pk", "name"))
        for other, ids in wanted.items()
    }


def _write(keys: set[Key] | None, years: dict, parties: dict) -> None:
    names = _names(parties)
    stats, totals, cps = [], [], []
    for (name, pk), rows in years.items():
        events = 0
        for year, (n, obligated) in rows.items():
            stats.append(EntityStat(entity_type=name, entity_id=pk, year=year, events=n,
                                    obligated=Decimal(obligated)))
            events += n
        totals.append(EntityTotal(entity_type=name, entity_id=pk, events=events))
        for other, counter in parties[(name, pk)].items():
            top = sorted(counter.items(), key=lambda item: (-item[1], names[other][item[0]]))
            cps += [
                EntityCounterparty(entity_type=name, entity_id=pk, other_type=other,
                                   other_id=other_id, events=n)
                for other_id, n in top[:TOP_COUNTERPARTIES]
            ]
    with transaction.atomic():
        for model in (EntityStat, EntityTotal, EntityCounterparty):
            if keys is None:
                model.objects.all().delete()
            else:
                for name in TYPES:
                    ids = [pk for kind, pk in keys if kind == name]
                    model.objects.filter(entity_type=name, entity_id__in=ids).delete()
        EntityStat.objects.bulk_create(stats, batch_size=5000)
        EntityTotal.objects.bulk_create(totals, batch_size=5000)
        EntityCounterparty.objects.bulk_create(cps, batch_size=5000)
    forget_cached_counts()


def refresh_stats() -> int:
    """Rebuild every entity's statistics from the events; returns the number of entities."""
    years, parties = _compute(None, None)
    _write(None, years, parties)
    return len(years)


def refresh_stats_for_events(event_ids: Iterable[int]) -> int:
    """Recompute the entities (and their ancestors) linked to ``event_ids``; returns how many."""
    event_ids = list(event_ids)
    if not event_ids:
        return 0
    targets: set[Key] = set()
    affected: set[int] = set()
    for name, (_, link) in TYPES.items():
        direct = set(
            link.objects.filter(event_id__in=event_ids).values_list(f"{name}_id", flat=True)
        )
        more_targets, more_events = _tree(name, direct)
        targets |= more_targets
        affected |= more_events
    years, parties = _compute(affected, targets)
    _write(targets, years, parties)
    return len(targets)


def refresh_stats_for_technologies(technology_ids: Iterable[int]) -> int:
    """Recompute ``technology_ids`` and the broader technologies above them; returns how many.

    For a tag a curator removed: no link of the event leads to the technology any more.
    """
    targets, affected = _tree("technology", set(technology_ids))
    years, parties = _compute(affected, targets)
    _write(targets, years, parties)
    return len(targets)


def _tree(name: str, direct: set[int]) -> tuple[set[Key], set[int]]:
    """The ``name`` entities ``direct`` with their ancestors, and every event linked to them
    or to anything below them."""
    model, link = TYPES[name]
    paths = model.objects.filter(pk__in=direct).values_list("path", flat=True)
    nodes = {int(part) for path in paths for part in path.strip("/").split("/") if part}
    subtree = _subtree_ids(model, nodes)
    affected = set(
        link.objects.filter(**{f"{name}_id__in": subtree}).values_list("event_id", flat=True)
    )
    return {(name, node) for node in nodes}, affected


def _subtree_ids(model: type[Model], nodes: set[int]) -> set[int]:
    """The ids of ``nodes`` and everything below them."""
    prefixes = list(model.objects.filter(pk__in=nodes).values_list("path", flat=True))
    return {
        pk
        for pk, path in model.objects.values_list("pk", "path")
        if any(path.startswith(prefix) for prefix in prefixes)
    }
