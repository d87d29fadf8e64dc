"""In-memory matching of many subscriptions against a batch of new events.

Running ``event_search`` once per subscription costs one query each; instead the new events are
loaded once (with every path prefix of their agencies, vendors and technologies), each
subscription's stored query string is parsed by ``EventFilters.from_params`` and compiled, and
each subscription only looks at the candidates of its most selective indexed condition (an entity
path prefix, a kind, a level, or for a search-only alert its longest search term).

The conditions are those of ``tracker.selectors.event_search``: entity filters include everything
below the named node; kinds are alternatives; dates and amounts are inclusive and exclude events
without a date or amount; ``level`` means "linked to some agency at that level"; the search text
is read by ``tracker.fulltext.query_terms`` (words, phrases, ``OR``, ``-word``) and matched by
``text_matches``, the same reading the database search uses; without ``all`` only events with a
technology tagged or of a curated kind match. One documented difference:
SQLite's LIKE folds case for ASCII letters only, while this matcher (like PostgreSQL) folds all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from tracker.fulltext import query_terms, text_matches, text_words
from tracker.models import (
    Agency,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    Technology,
    Vendor,
)
from tracker.selectors import CURATED_KINDS, MAX_QUERY_LENGTH, EventFilters

ENTITIES = {"agency": Agency, "vendor": Vendor, "technology": Technology}
CHUNK = 500
MAX_TERMS = 10  # event_search uses the first ten terms
PathMap = Mapping[tuple[str, str], str]


@dataclass(slots=True)
class EventFacts:
    """What matching needs to know about one event."""

    id: int
    kind: str
    date: dt.date | None
    amount: Decimal | None
    text: str
    agencies: frozenset[str]
    vendors: frozenset[str]
    technologies: frozenset[str]
    levels: frozenset[str]
    updated_at: dt.datetime | None = None


@dataclass(slots=True, frozen=True)
class CompiledQuery:
    """One subscription's filters with entity slugs resolved to tree paths."""

    id: int
    agency: str = ""
    vendor: str = ""
    technology: str = ""
    kinds: frozenset[str] = frozenset()
    since: dt.date | None = None
    until: dt.date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    level: str = ""
    terms: tuple[tuple[str, ...], ...] = ()
    all: bool = False
    impossible: bool = False


def path_prefixes(path: str) -> list[str]:
    """Every ancestor-or-self path of a materialised path: "/1/7/" → ["/1/", "/1/7/"]."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[: index + 1]) + "/" for index in range(len(parts))]


def _slug(value: Any) -> str:
    """A stored entity slug, normalised as ``EventFilters.from_params`` normalises it."""
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    return str(value).replace("\x00", "").strip()[:MAX_QUERY_LENGTH].lower()


def stored_filters(params: Mapping[str, Any], paths: PathMap) -> EventFilters | None:
    """Parse stored params with ``EventFilters.from_params``; entity slugs are checked in ``paths``.

    ``from_params`` reads no database and does not check slugs (``filters_resolve`` would, with
    queries per subscription and by dropping an unknown one, which would then match everything);
    for a stored alert a vanished agency, vendor or technology must match nothing, so None is
    returned instead.
    """
    filters = EventFilters.from_params({k: v for k, v in params.items() if k not in ENTITIES})
    found: dict[str, str] = {}
    for name in ENTITIES:
        slug = _slug(params.get(name, ""))
        if slug and (name, slug) not in paths:
            return None
        found[name] = slug
    return replace(filters, **found)


def compile_query(query_id: int, params: Mapping[str, Any], paths: PathMap) -> CompiledQuery:
    """Compile one stored query string; unknown entities make it match nothing."""
    filters = stored_filters(params, paths)
    if filters is None:
        return CompiledQuery(id=query_id, impossible=True)
    return CompiledQuery(
        id=query_id,
        agency=paths.get(("agency", filters.agency), "") if filters.agency else "",
        vendor=paths.get(("vendor", filters.vendor), "") if filters.vendor else "",
        technology=paths.get(("technology", filters.technology), "") if filters.technology else "",
        kinds=frozenset(filters.kind),
        since=filters.since,
        until=filters.until,
        amount_min=filters.amount_min,
        amount_max=filters.amount_max,
        level=filters.level,
        terms=tuple(query_terms(filters.q)),
        all=filters.all,
    )


def entity_paths(params_list: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """The tree path of every entity slug named in ``params_list`` (one query per entity type)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for params in params_list:
        for name in ENTITIES:
            slug = _slug(params.get(name, ""))
            if slug:
                wanted[name].add(slug)
    paths: dict[tuple[str, str], str] = {}
    for name, slugs in wanted.items():
        rows = ENTITIES[name].objects.filter(slug__in=slugs).values_list("slug", "path")
        paths.update({(name, slug): path for slug, path in rows})
    return paths


def compile_queries(items: Sequence[tuple[int, Mapping[str, Any]]]) -> list[CompiledQuery]:
    """Compile (id, stored params) pairs, resolving all their entities in at most three queries."""
    paths = entity_paths(params for _, params in items)
    return [compile_query(query_id, params, paths) for query_id, params in items]


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def load_event_facts(event_ids: Iterable[int]) -> list[EventFacts]:
    """Load events and their entity paths, four queries per 500 events."""
    ids = sorted(set(event_ids))
    facts: list[EventFacts] = []
    for chunk in _chunks(ids):
        prefixes: dict[str, dict[int, set[str]]] = {
            name: defaultdict(set) for name in ("agency", "vendor", "technology")
        }
        levels: dict[int, set[str]] = defaultdict(set)
        for event_id, path, level in EventAgency.objects.filter(event_id__in=chunk).values_list(
            "event_id", "agency__path", "agency__level"
        ):
            prefixes["agency"][event_id].update(path_prefixes(path))
            levels[event_id].add(level)
        for name, link in (("vendor", EventVendor), ("technology", EventTechnology)):
            rows = link.objects.filter(event_id__in=chunk).values_list("event_id", f"{name}__path")
            for event_id, path in rows:
                prefixes[name][event_id].update(path_prefixes(path))
        rows = Event.objects.filter(pk__in=chunk).order_by("pk").values_list(
            "id", "kind", "date", "amount", "title", "summary", "body_text", "updated_at"
        )
        for event_id, kind, date, amount, title, summary, body, updated_at in rows:
            facts.append(
                EventFacts(
                    id=event_id,
                    kind=kind,
                    date=date,
                    amount=amount,
                    text=text_words(f"{title}\n{summary}\n{body}"),
                    agencies=frozenset(prefixes["agency"].get(event_id, ())),
                    vendors=frozenset(prefixes["vendor"].get(event_id, ())),
                    technologies=frozenset(prefixes["technology"].get(event_id, ())),
                    levels=frozenset(levels.get(event_id, ())),
                    updated_at=updated_at,
                )
            )
    return facts


def _accepts(query: CompiledQuery, event: EventFacts) -> bool:
    """The same conditions as ``event_search`` for one event."""
    if query.agency and query.agency not in event.agencies:
        return False
    if query.vendor and query.vendor not in event.vendors:
        return False
    if query.technology and query.technology not in event.technologies:
        return False
    if query.kinds and event.kind not in query.kinds:
        return False
    if query.since is not None and (event.date is None or event.date < query.since):
        return False
    if query.until is not None and (event.date is None or event.date > query.until):
        return False
    if query.amount_min is not None and (event.amount is None or event.amount < query.amount_min):
        return False
    if query.amount_max is not None and (event.amount is None or event.amount > query.amount_max):
        return False
    if query.level and query.level not in event.levels:
        return False
    if not (query.all or event.technologies or event.kind in CURATED_KINDS):
        return False
    return text_matches(query.terms, event.text)


class _Index:
    """Events grouped by every value a subscription can be indexed on."""

    def __init__(self, events: Sequence[EventFacts]) -> None:
        self.events = events
        self.by: dict[str, dict[str, list[EventFacts]]] = {
            name: defaultdict(list) for name in ("agency", "vendor", "technology", "kind", "level")
        }
        self.by_term: dict[str, list[EventFacts]] = {}
        for event in events:
            for name, values in (
                ("agency", event.agencies),
                ("vendor", event.vendors),
                ("technology", event.technologies),
                ("level", event.levels),
            ):
                for value in values:
                    self.by[name][value].append(event)
            self.by["kind"][event.kind].append(event)

    def candidates(self, query: CompiledQuery) -> Sequence[EventFacts]:
        """The smallest list of events that can possibly match ``query``."""
        options: list[Sequence[EventFacts]] = [
            self.by[name].get(value, ())
            for name, value in (
                ("agency", query.agency),
                ("vendor", query.vendor),
                ("technology", query.technology),
                ("level", query.level),
            )
            if value
        ]
        if query.kinds:
            options.append([e for kind in query.kinds for e in self.by["kind"].get(kind, ())])
        if options:
            return min(options, key=len)
        if query.terms:
            term = max(query.terms, key=len)
            if term not in self.by_term:
                start = " " + " ".join(term)
                self.by_term[term] = [e for e in self.events if start in e.text]
            return self.by_term[term]
        return self.events


def match_events(
    subscriptions: Sequence[CompiledQuery], events: Sequence[EventFacts]
) -> dict[int, list[int]]:
    """For each subscription id, the ids of the events it matches (absent when none)."""
    index = _Index(events)
    matches: dict[int, list[int]] = {}
    for query in subscriptions:
        if query.impossible:
            continue
        hits = [event.id for event in index.candidates(query) if _accepts(query, event)]
        if hits:
            matches[query.id] = sorted(hits)
    return matches

