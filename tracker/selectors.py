"""The one read path: ``event_search`` feeds the timeline, the Atom feed, CSV, the API and alerts.

The same query-string parameters mean the same thing everywhere: they are parsed into
``EventFilters`` without touching the database (``EventFilters.from_params``), the agencies,
vendors and technologies they name are read once (``filters_resolve``; both steps together:
``parse_filters``), and the search, with its choice of query plan and whether counting is
affordable, is made in one place (``event_search_result``). A value that cannot be used (an
unknown slug, kind, level or order, an impossible date, a malformed amount) is never silently
dropped: every surface answers with its one-line message (HTTP 400, a command error, a form
error) instead of answering a broader question than the one asked.

Unless ``all=1`` is given, only relevant events match: those with a technology tagged or of a
curated kind (``CURATED_KINDS``). Vendor- and agency-wide imports also bring in ordinary
purchases (food, fencing, guard services); they are kept, but shown only on request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, Exists, F, Model, OuterRef, Prefetch, Q, QuerySet, Window

from tracker.fulltext import reads_every_match, search_filter
from tracker.models import (
    RENAMED_TECHNOLOGIES,
    Agency,
    EntityTotal,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    SourceRecord,
    Technology,
    Vendor,
    under_path,
)

ORDERS = {
    "newest": (F("date").desc(nulls_last=True), F("id").desc()),
    "oldest": (F("date").asc(nulls_last=True), F("id").asc()),
    "amount": (F("amount").desc(nulls_last=True), F("id").desc()),
}
MAX_QUERY_LENGTH = 200
CURATED_KINDS = ("pitch", "meeting", "report", "foia")
TRUE_VALUES = ("1", "true", "yes", "on")
# name -> (the tree, the events' link table); also the order entity filters are planned in
ENTITIES: dict[str, tuple[type[Model], type[Model]]] = {
    "agency": (Agency, EventAgency),
    "vendor": (Vendor, EventVendor),
    "technology": (Technology, EventTechnology),
}
# The messages ``from_params`` writes after the (unknown) entities' place: "<name>: …".
LATER_MESSAGES = ("since:", "until:", "amount_min:", "amount_max:")


@dataclass(frozen=True)
class Node:
    """A named agency, vendor or technology: its id and the ids of it and everything below."""

    name: str
    slug: str
    id: int | None
    ids: tuple[int, ...]


@dataclass(frozen=True)
class EventFilters:
    """Parsed timeline filters; unusable values are left out and described in ``errors``.

    ``nodes`` holds the named entities once ``filters_resolve`` has read them; a node is
    used only while its slug is still the filter's (``node``), so ``replace`` stays safe.
    """

    agency: str = ""
    vendor: str = ""
    technology: str = ""
    kind: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    level: str = ""
    q: str = ""
    order: str = "newest"
    all: bool = False
    errors: tuple[str, ...] = field(default=(), compare=False)
    nodes: tuple[Node, ...] = field(default=(), compare=False, repr=False)

    FIELDS = (
        "agency",
        "vendor",
        "technology",
        "kind",
        "since",
        "until",
        "amount_min",
        "amount_max",
        "level",
        "q",
        "order",
        "all",
    )

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EventFilters:
        """Parse a query string (a QueryDict or a plain mapping); never raises on bad input.

        Syntax only, no database: values that cannot be used are left out and described in
        ``errors``; whether the agency, vendor and technology slugs exist is checked by
        ``filters_resolve``. CSV, feed, API, command and alert form call ``parse_filters``
        (both), which refuses such a query; the HTML pages call both themselves to redisplay
        the form beside the errors (with status 400 and no events).
        """
        errors: list[str] = []

        def one(name: str) -> str:
            value = params.get(name, "")
            if isinstance(value, list | tuple):
                value = value[-1] if value else ""
            return str(value).replace("\x00", "").strip()[:MAX_QUERY_LENGTH]

        kinds: list[str] = []
        raw_kinds = params.getlist("kind") if hasattr(params, "getlist") else params.get("kind", ())
        if isinstance(raw_kinds, str):
            raw_kinds = [raw_kinds]
        for value in raw_kinds:
            for kind in str(value).split(","):
                kind = kind.strip().lower()
                if kind in Event.Kind.values and kind not in kinds:
                    kinds.append(kind)
                elif kind:
                    known = ", ".join(Event.Kind.values)
                    errors.append(f"Unknown kind “{kind[:40]}” (use {known}).")

        def date(name: str) -> dt.date | None:
            value = one(name)
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                errors.append(f"{name}: “{value[:40]}” is not a date (use YYYY-MM-DD).")
                return None

        def amount(name: str) -> Decimal | None:
            value = one(name).replace(",", "").replace("$", "")
            if not value:
                return None
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite() or abs(number) >= Decimal("1e15"):
                errors.append(f"{name}: “{value[:40]}” is not an amount (use a number of dollars).")
                return None
            return number

        level = one("level").lower()
        if level and level not in Agency.Level.values:
            errors.append(f"Unknown level “{level[:40]}” (use {', '.join(Agency.Level.values)}).")
            level = ""
        order = one("order").lower() or "newest"
        if order not in ORDERS:
            errors.append(f"Unknown order “{order[:40]}” (use {', '.join(ORDERS)}).")
            order = "newest"
        slugs = {name: one(name).lower() for name in ENTITIES}
        slugs["technology"] = RENAMED_TECHNOLOGIES.get(slugs["technology"], slugs["technology"])
        return cls(
            kind=tuple(kinds),
            since=date("since"),
            until=date("until"),
            amount_min=amount("amount_min"),
            amount_max=amount("amount_max"),
            level=level,
            q=one("q"),
            order=order,
            all=one("all").lower() in TRUE_VALUES,
            errors=tuple(errors),
            **slugs,
        )

    def to_params(self) -> dict[str, str | list[str]]:
        """The query-string form (only the filters that are set; order only if not default)."""
        params: dict[str, str | list[str]] = {}
        for name in self.FIELDS:
            value = getattr(self, name)
            if (
                value in ("", None, ())
                or value is False
                or (name == "order" and value == "newest")
            ):
                continue
            if value is True:
                params[name] = "1"
            else:
                params[name] = list(value) if isinstance(value, tuple) else str(value)
        return params

    def without(self, name: str, value: str | None = None) -> EventFilters:
        """The same filters minus one (or minus one value of ``kind``)."""
        if name == "kind" and value:
            return replace(self, kind=tuple(k for k in self.kind if k != value))
        default = EventFilters.__dataclass_fields__[name].default
        return replace(self, **{name: default})

    @property
    def is_empty(self) -> bool:
        return not any(v for k, v in self.to_params().items() if k != "order")

    def node(self, name: str) -> Node | None:
        """The resolved node of the ``name`` filter; None when unset or not resolved yet."""
        slug = getattr(self, name)
        return next((n for n in self.nodes if n.name == name and n.slug == slug), None)


class BadFilter(ValueError):
    """A query that cannot be answered as asked; the message is one line for the reader."""


def _node_read(name: str, slug: str, path: str | None = None) -> Node | None:
    """The node named ``slug`` with the ids of it and everything below; None if there is none.

    The path is read first (unless given) so that the subtree query has a constant prefix:
    PostgreSQL's pattern index only serves a constant ``LIKE``; a prefix read in the same
    query would scan every path instead.
    """
    model = ENTITIES[name][0]
    if path is None:
        path = model.objects.filter(slug=slug).values_list("path", flat=True).first()
        if path is None:
            return None
    rows = list(model.objects.filter(under_path(path)).values_list("id", "slug"))
    node = next((pk for pk, found in rows if found == slug), None)
    return Node(name, slug, node, tuple(pk for pk, _ in rows))


def filters_resolve(filters: EventFilters, *, entities: Iterable[Model] = ()) -> EventFilters:
    """``filters`` with each agency, vendor and technology they name read (``nodes``).

    Two queries per named entity (its path, then its subtree), one when the caller passes the
    row in ``entities`` (an entity page's own); none for one already resolved, so calling this
    again is free. An unknown slug is left out and described in ``errors``, where
    ``from_params`` used to name it: after kinds, level and order, before dates and amounts.
    """
    paths = {(row._meta.model_name, row.slug): row.path for row in entities}
    nodes, slugs, unknown = [], {}, []
    for name in ENTITIES:
        slug = getattr(filters, name)
        if not slug:
            continue
        node = filters.node(name) or _node_read(name, slug, paths.get((name, slug)))
        if node is None:
            unknown.append(f"No {name} “{slug[:60]}”.")
            slugs[name] = ""
        else:
            nodes.append(node)
    errors = list(filters.errors)
    at = next(
        (i for i, error in enumerate(errors) if error.startswith(LATER_MESSAGES)), len(errors)
    )
    errors[at:at] = unknown
    return replace(filters, **slugs, errors=tuple(errors), nodes=tuple(nodes))


def parse_filters(params: Mapping[str, Any]) -> EventFilters:
    """The filters ``params`` ask for, resolved (``filters_resolve``), or ``BadFilter`` naming
    every value that cannot be used."""
    filters = filters_resolve(EventFilters.from_params(params))
    if filters.errors:
        raise BadFilter(" ".join(filters.errors))
    return filters


DRIVE_LIMIT = 10_000
COUNT_CAP = 10_000  # lists count their events up to this many


def relevant() -> Q:
    """Events with at least one technology tagged, or of a curated kind."""
    tagged = EventTechnology.objects.filter(event_id=OuterRef("pk"))
    return Q(kind__in=CURATED_KINDS) | Q(Exists(tagged))


def relevant_by_kind() -> dict[str, int]:
    """How many ``relevant()`` events there are of each kind (kinds with none are left out).

    Curated kinds are counted whole, the others joined to their technology links: grouping
    ``relevant()`` itself is slower on both databases, because an ``EXISTS`` under ``OR`` is
    probed row by row, never joined.
    """
    curated = Event.objects.filter(kind__in=CURATED_KINDS)
    tagged = Event.objects.exclude(kind__in=CURATED_KINDS).filter(
        pk__in=EventTechnology.objects.values("event_id")
    )
    counts: dict[str, int] = {}
    for events in (curated, tagged):
        counts.update(events.order_by().values_list("kind").annotate(n=Count("id")))
    return counts


def hides_some(filters: EventFilters) -> bool:
    """Can the relevance condition leave out an event the other filters match?

    Not with ``all``, nor with a technology filter (every such event has one), nor when every
    kind asked for is curated: the condition is then left out of the query altogether.
    """
    if filters.all or filters.technology:
        return False
    return not (filters.kind and set(filters.kind) <= set(CURATED_KINDS))


def _stored_sizes(nodes: dict[str, int]) -> dict[str, int]:
    """Events per named node (with its subtree) from ``EntityTotal``, for planning only.

    The figures are as of the last statistics refresh; a stale one only makes the chosen
    plan slower, never the result different. Nodes never refreshed are missing.
    """
    match = Q(pk__in=[])
    for name, pk in nodes.items():
        match |= Q(entity_type=name, entity_id=pk)
    return dict(EntityTotal.objects.filter(match).values_list("entity_type", "events"))


@dataclass(frozen=True)
class SearchResult:
    """The events a list shows, those ``all`` would add, and whether counting is affordable."""

    events: QuerySet[Event]  # in the requested order
    others: QuerySet[Event] | None  # unordered; None when ``all`` is given or could add nothing
    countable: bool  # an exact (capped) count is affordable: see ``event_search_result``
    # The page's own query reads every match anyway (``reads_every_match``): count them there.
    count_in_page: bool = False


def event_search(
    filters: EventFilters, *, drive_limit: int | None = DRIVE_LIMIT
) -> QuerySet[Event]:
    """Events matching ``filters``, in the requested order (see ``event_search_result``)."""
    return event_search_result(filters, drive_limit=drive_limit).events


def event_search_result(
    filters: EventFilters, *, drive_limit: int | None = DRIVE_LIMIT
) -> SearchResult:
    """Events matching ``filters`` in the requested order, the others ``all`` adds, and
    whether a list may count them: one plan for the page, its count and its "also show" link.

    Agency, vendor and technology filters include everything below the named node
    (sub-agencies, subsidiaries, narrower technologies); nodes not yet resolved
    (``filters_resolve``) are read here, once; an unknown one matches nothing. The most
    selective entity filter (at most ``DRIVE_LIMIT`` links) becomes an ``IN`` list the
    database reads first, the others (and broad ones) ``EXISTS`` probes on the link tables'
    (event, …) index while the date index supplies the order. Sizes come from the stored
    per-entity totals, or a capped count of the links where none is stored.
    ``drive_limit=None`` always drives from the smallest filter (see ``event_count``).
    Without ``all``, only ``relevant()`` events: a kind test or an ``EXISTS`` probe on the
    technology links' unique (event, technology) index, for the rows the other filters keep.

    Counting is affordable with no entity filter, or one narrow enough to drive (or with no
    stored size): broad entity filters alone would make the count walk every event in range,
    so those lists are paged without a total. Where the page's query reads every match
    anyway (a full-text search on SQLite), ``count_in_page`` lets the timeline count them in
    the same pass (``with_match_count``) instead of matching the words twice.
    """
    events = Event.objects.all()
    nodes = []
    for name in ENTITIES:
        slug = getattr(filters, name)
        if not slug:
            continue
        node = filters.node(name) or _node_read(name, slug)
        if node is None or not node.ids:
            return SearchResult(events.none(), None, countable=True)
        nodes.append(node)
    sizes = _stored_sizes({node.name: node.id for node in nodes}) if nodes else {}
    linked = []
    for node in nodes:
        link_model = ENTITIES[node.name][1]
        rows = link_model.objects.filter(**{f"{node.name}_id__in": node.ids})
        size = sizes.get(node.name)
        linked.append((rows[: DRIVE_LIMIT + 1].count() if size is None else size, rows))
    linked.sort(key=lambda item: item[0])
    for index, (size, rows) in enumerate(linked):
        if index == 0 and (drive_limit is None or size <= drive_limit):
            events = events.filter(pk__in=rows.values("event_id"))
        else:
            events = events.filter(Exists(rows.filter(event_id=OuterRef("pk"))))
    countable = len(sizes) < len(nodes) or min(sizes.values(), default=0) <= DRIVE_LIMIT
    if filters.kind:
        events = events.filter(kind__in=filters.kind)
    if filters.since:
        events = events.filter(date__gte=filters.since)
    if filters.until:
        events = events.filter(date__lte=filters.until)
    if filters.amount_min is not None:
        events = events.filter(amount__gte=filters.amount_min)
    if filters.amount_max is not None:
        events = events.filter(amount__lte=filters.amount_max)
    if filters.level:
        at_level = EventAgency.objects.filter(event=OuterRef("pk"), agency__level=filters.level)
        events = events.filter(Exists(at_level))
    in_page = False
    if filters.q:
        events = search_filter(events, filters.q)
        in_page = reads_every_match(filters.q, events.db)
    if not hides_some(filters):
        return SearchResult(events.order_by(*ORDERS[filters.order]), None, countable, in_page)
    shown = events.filter(relevant()).order_by(*ORDERS[filters.order])
    return SearchResult(shown, events.exclude(relevant()).order_by(), countable, in_page)


def capped(found: int) -> tuple[int, bool]:
    """A count as lists show it: at most ``COUNT_CAP``, and whether there are more."""
    return min(found, COUNT_CAP), found > COUNT_CAP


def capped_count(events: QuerySet[Event]) -> tuple[int, bool]:
    """How many ``events`` there are, at most ``COUNT_CAP``, and whether there are more."""
    return capped(events.order_by()[: COUNT_CAP + 1].count())


def with_match_count(events: QuerySet[Event]) -> QuerySet[Event]:
    """``events`` with each row's ``matching``: how many rows ``events`` has in all (a window
    count, so that a page and the count of its list are one query)."""
    return events.annotate(matching=Window(Count("*")))


def event_count(filters: EventFilters, cap: int | None = None) -> int:
    """How many events match ``filters`` (at most ``cap``).

    A count keeps no order, so the smallest entity filter drives it whatever its size: its
    events are checked against the other filters instead of every event in the date range
    being probed for both.
    """
    events = event_search(filters, drive_limit=None).order_by()
    return (events[:cap] if cap is not None else events).count()


def events_with_links(events: QuerySet[Event], *, payloads: bool = False) -> QuerySet[Event]:
    """``events`` with their links and source records, four extra queries in all.

    Agency, vendor and technology links come with their entity, by the entity's name (a
    technology link also with the rule that tagged it); source records by source and
    external id, without their raw payloads unless ``payloads`` (the event page shows them).
    The one way an event's links are read one event (or one page) at a time: the event page
    and the API. Lists and exports read link names for many events in bulk instead
    (``tracker.views.listing``, ``tracker.exports``).
    """
    sources = SourceRecord.objects.order_by("source", "external_id")
    return events.prefetch_related(
        Prefetch(
            "agency_links",
            EventAgency.objects.select_related("agency").order_by(
                "agency__name", "agency_id", "role"
            ),
        ),
        Prefetch(
            "vendor_links",
            EventVendor.objects.select_related("vendor").order_by(
                "vendor__name", "vendor_id", "role"
            ),
        ),
        Prefetch(
            "technology_links",
            EventTechnology.objects.select_related("technology", "rule").order_by(
                "technology__name", "technology_id"
            ),
        ),
        Prefetch("sources", sources if payloads else sources.defer("raw", "content_hash")),
    )
