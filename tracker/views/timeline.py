"""The timeline component: one filtered, paginated, grouped event list shared by every page.

The home page, the timeline, entity pages and relationship pages all build their list with
``timeline_context``, which parses and plans nothing itself: it takes resolved ``EventFilters``
and renders what ``event_search_result`` finds, so a page's list, its CSV link, its feed and
its alert link agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count, Model, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear
from django.http import HttpRequest
from django.utils.safestring import SafeString

from tracker.caching import CACHE_TTL, choices_key
from tracker.models import (
    CONTRACT_KINDS,
    Agency,
    EntityCounterparty,
    EntityStat,
    EntityTotal,
    Event,
    Technology,
    Vendor,
)
from tracker.selectors import (
    COUNT_CAP,
    EventFilters,
    capped,
    capped_count,
    event_search_result,
    hides_some,
    with_match_count,
)
from tracker.templatetags.spyglass import money
from tracker.views.charts import bar_chart
from tracker.views.listing import listed

PER_PAGE = 50
CHOICES_LIMIT = 400
ENTITY_FILTERS: dict[str, type[Model]] = {
    "agency": Agency,
    "vendor": Vendor,
    "technology": Technology,
}
ORDER_LABELS = {
    "newest": "newest first",
    "oldest": "oldest first",
    "amount": "largest amount first",
}
INDENT = "\u2013 "  # an en dash per level marks sub-entries inside a <select>
FIELD_COLUMNS = {
    Agency: ("id", "name", "acronym", "slug", "path"),
    Vendor: ("id", "name", "slug", "path"),
    Technology: ("id", "name", "slug", "path"),
}


@dataclass
class MonthGroup:
    label: str
    events: list[Event]


@dataclass
class YearGroup:
    label: str
    months: list[MonthGroup] = field(default_factory=list)


def _month_key(event: Event) -> tuple[int | None, int | None]:
    if event.date is None:
        return (None, None)
    if event.date_precision == "year":
        return (event.date.year, None)
    return (event.date.year, event.date.month)


def group_by_month(events: Iterable[Event]) -> list[YearGroup]:
    """Consecutive events grouped by year, then month ("2018" events get their own group)."""
    years: list[YearGroup] = []
    for (year, month), items in groupby(events, key=_month_key):
        year_label = str(year) if year else "Undated"
        if not years or years[-1].label != year_label:
            years.append(YearGroup(year_label))
        if year is None:
            month_label = "Date unknown"
        elif month is None:
            month_label = f"Sometime in {year}"
        else:
            month_label = f"{dt.date(year, month, 1):%B} {year}"
        years[-1].months.append(MonthGroup(month_label, list(items)))
    return years


@dataclass
class YearRow:
    year: int | None
    events: int
    obligated: Decimal

    @property
    def label(self) -> str:
        return str(self.year) if self.year else "undated"


@dataclass
class YearTotals:
    rows: list[YearRow]
    everything: bool = False  # counts every event, also those the list leaves out

    @property
    def events(self) -> int:
        return sum(row.events for row in self.rows)

    @property
    def obligated(self) -> Decimal:
        return sum((row.obligated for row in self.rows), Decimal(0))

    @property
    def count_chart(self) -> SafeString:
        return bar_chart(
            [(row.label, row.events) for row in self.rows],
            title="Events by year",
            value_label=lambda v: f"{v:,.0f} event{'s' if v != 1 else ''}",
        )

    @property
    def amount_chart(self) -> SafeString:
        if not self.obligated:
            return SafeString("")
        return bar_chart(
            [(row.label, float(row.obligated)) for row in self.rows],
            title="Obligated amount (awards and modifications) by year, US dollars",
            value_label=lambda v: money(Decimal(str(round(v)))),
        )


def year_totals(events: QuerySet[Event]) -> YearTotals:
    """Event counts and obligated award+modification amounts per year, in one aggregate query."""
    rows = (
        events.order_by()
        .annotate(year=ExtractYear("date"))
        .values("year")
        .annotate(n=Count("id"), obligated=Sum("amount", filter=Q(kind__in=CONTRACT_KINDS)))
    )
    ordered = sorted(rows, key=lambda r: (r["year"] is None, r["year"] or 0))
    return YearTotals([YearRow(r["year"], r["n"], r["obligated"] or Decimal(0)) for r in ordered])


@dataclass
class Counterparty:
    slug: str
    name: str
    events: int


def top_counterparties(
    events: QuerySet[Event], model: type[Model], limit: int = 10
) -> list[Counterparty]:
    """The agencies or vendors most often on ``events``, with event counts (one query)."""
    link_model = {Agency: Event.agencies.through, Vendor: Event.vendors.through}[model]
    fk = model.__name__.lower()
    rows = (
        link_model.objects.filter(event__in=events.order_by().values("pk"))
        .values(f"{fk}__slug", f"{fk}__name")
        .annotate(n=Count("event", distinct=True))
        .order_by("-n", f"{fk}__name")[:limit]
    )
    return [Counterparty(r[f"{fk}__slug"], r[f"{fk}__name"], r["n"]) for r in rows]


def tree_order(nodes: Sequence[Any]) -> list[tuple[Any, int]]:
    """Nodes sorted as a tree (children under their parent, siblings by name), with depths."""
    by_id = {node.pk: node for node in nodes}

    def key(node: Any) -> tuple[str, ...]:
        ids = [int(part) for part in node.path.strip("/").split("/") if part]
        return tuple(by_id[pk].name.lower() for pk in ids if pk in by_id) or (node.name.lower(),)

    return [(node, len(key(node)) - 1) for node in sorted(nodes, key=key)]


def cached_filter_choices(model: type[Model], selected: str = "") -> list[tuple[str, str]]:
    """``filter_choices``, kept in the cache (see ``tracker.caching``) while nothing changes.

    Only the list without a selection is cached; a selected entity outside it (a vendor
    beyond the 400 most used) is looked up afresh.
    """
    key = choices_key(model.__name__.lower())
    options = cache.get(key)
    if options is None:
        options = filter_choices(model)
        cache.set(key, options, CACHE_TTL)
    if selected and selected not in {slug for slug, _ in options}:
        return filter_choices(model, selected)
    return options


def filter_choices(model: type[Model], selected: str = "") -> list[tuple[str, str]]:
    """(slug, label) options for a filter select: the whole tree, or the most used when large.

    "Most used" comes from the denormalised ``EntityTotal`` counts (refreshed after imports);
    only before the first refresh are the links counted live.
    """
    columns = FIELD_COLUMNS[model]
    nodes = list(model.objects.only(*columns).order_by()[: CHOICES_LIMIT + 1])
    if len(nodes) > CHOICES_LIMIT:
        entity_type = model.__name__.lower()
        ranked = list(
            EntityTotal.objects.filter(entity_type=entity_type, events__gt=0)
            .order_by("-events")
            .values_list("entity_id", flat=True)[:CHOICES_LIMIT]
        )
        if ranked:
            nodes = list(model.objects.only(*columns).filter(pk__in=ranked))
        else:
            nodes = list(
                model.objects.only(*columns)
                .annotate(n=Count("event_links"))
                .filter(Q(n__gt=0) | Q(slug=selected))
                .order_by("-n")[:CHOICES_LIMIT]
            )
    if selected and selected not in {node.slug for node in nodes}:
        nodes += list(model.objects.only(*columns).filter(slug=selected))
    return [(node.slug, INDENT * depth + str(node)) for node, depth in tree_order(nodes)]


@dataclass
class FilterSelect:
    name: str
    selected: str
    options: list[tuple[str, str]]


@dataclass
class Chip:
    label: str
    remove_url: str


def _chip_value(name: str, value: Any, labels: dict[str, dict[str, str]]) -> str:
    if name in labels:
        return labels[name].get(value, value).lstrip(INDENT)
    if name in ("amount_min", "amount_max"):
        return money(value)
    if name == "order":
        return ORDER_LABELS.get(value, value)
    if name == "all":
        return "events with no technology tagged"
    return str(value)


CHIP_NAMES = {
    "agency": "Agency",
    "vendor": "Vendor",
    "technology": "Technology",
    "kind": "Kind",
    "since": "Since",
    "until": "Until",
    "amount_min": "At least",
    "amount_max": "At most",
    "level": "Level",
    "q": "Text",
    "order": "Order",
    "all": "Including",
}


def query_string(filters: EventFilters, **extra: Any) -> str:
    """The filters (plus ``extra``) as a query string, without the leading "?"."""
    return urlencode({**filters.to_params(), **extra}, doseq=True)


def build_chips(
    filters: EventFilters, base_url: str, labels: dict[str, dict[str, str]]
) -> list[Chip]:
    """One removable chip per active filter value; each links to the query minus that value."""
    chips = []
    for name, value in filters.to_params().items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            rest = filters.without(name, item if name == "kind" else None)
            query = query_string(rest)
            chips.append(
                Chip(
                    f"{CHIP_NAMES[name]}: {_chip_value(name, item, labels)}",
                    f"{base_url}?{query}" if query else base_url,
                )
            )
    return chips


@dataclass
class TimelinePage:
    """One page of the list; ``count`` is exact, capped at ``COUNT_CAP``, or None (not counted)."""

    number: int
    object_list: list[Event]
    count: int | None
    capped: bool
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def num_pages(self) -> int | None:
        if self.count is None:
            return None
        return max(1, -(-self.count // PER_PAGE))

    @property
    def start_index(self) -> int:
        return (self.number - 1) * PER_PAGE + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * PER_PAGE + len(self.object_list)


def _page_number(value: str | None, last: int) -> int:
    try:
        number = int(value or 1)
    except (TypeError, ValueError):
        return 1
    return last if number < 1 else min(number, last)


def timeline_page(
    events: QuerySet[Event], page: str | None, *, counted: bool, count_in_page: bool = False
) -> TimelinePage:
    """The requested page of ``events`` (50 rows), counted up to ``COUNT_CAP`` if ``counted``.

    ``count_in_page`` (see ``SearchResult``): the page's ids are read with the count of the
    list, in one pass; a separate count runs only when the page asked for lies past the end.
    """
    last = max(1, COUNT_CAP // PER_PAGE)
    number = _page_number(page, last)
    rows, found = None, None
    if counted and count_in_page:
        rows, found = _counted_rows(events, number)
        if not rows and number > 1:  # past the end: count, then read the last page
            rows, found = None, None
    count, over = None, False
    if counted:
        count, over = capped_count(events) if found is None else capped(found)
        last = max(1, -(-count // PER_PAGE))
        number = min(number, last)
    if rows is None:
        rows = _page_rows(events, number)
    if not rows and number > 1:
        number = 1
        rows = _page_rows(events, number)
    offset = (number - 1) * PER_PAGE
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    if count is None and not more:
        count = offset + len(rows)
    return TimelinePage(number, rows, count, over, more and number < last)


def _counted_rows(events: QuerySet[Event], number: int) -> tuple[list[Event], int]:
    """``_page_rows`` and the number of ``events`` (0 past the end), in one pass over the
    matching ids and the order's columns; the page's rows are then read by id."""
    offset = (number - 1) * PER_PAGE
    page = with_match_count(events).values_list("id", "matching")[offset : offset + PER_PAGE + 1]
    found = dict(page)
    rows = {event.pk: event for event in listed(Event.objects.filter(pk__in=list(found)))}
    return [rows[pk] for pk in found], next(iter(found.values()), 0)


def _page_rows(events: QuerySet[Event], number: int) -> list[Event]:
    """Page ``number`` of ``events`` and the first row after it (whether there is more)."""
    offset = (number - 1) * PER_PAGE
    return listed(events[offset : offset + PER_PAGE + 1])


@dataclass
class HiddenEvents:
    """The "also show the others" control: how many ``all=1`` would add, and the link to it.

    ``count`` is None when the list itself has no exact count (see ``hidden_events``).
    """

    count: int | None
    capped: bool
    url: str


def hidden_events(
    others: QuerySet[Event] | None, page: TimelinePage, url: str, *, counted: bool
) -> HiddenEvents | None:
    """The control for a list without ``all``; None when it would add nothing.

    The others are counted (up to ``COUNT_CAP``) only when the list itself was counted
    exactly: past the cap, counting them too would double the cost of the broadest pages.
    """
    if others is None:
        return None
    count, over = None, False
    if counted and not page.capped:
        count, over = capped_count(others)
        if not count:
            return None
    return HiddenEvents(count, over, url)


def single_entity(filters: EventFilters) -> tuple[str, int | None] | None:
    """(name, id) when the filters are exactly one agency, vendor or technology (and ``all``)."""
    params = {k: v for k, v in filters.to_params().items() if k not in ("order", "all")}
    if len(params) == 1:
        name = next(iter(params))
        if name in ENTITY_FILTERS:
            node = filters.node(name)
            return name, node.id if node else None
    return None


def stored_year_totals(name: str, entity_id: int | None) -> YearTotals | None:
    """Year totals for one entity (with its subtree) from ``EntityStat``; None if not stored."""
    rows = list(
        EntityStat.objects.filter(entity_type=name, entity_id=entity_id).values_list(
            "year", "events", "obligated"
        )
    )
    if not rows:
        return None
    rows.sort(key=lambda r: (r[0] is None, r[0] or 0))
    return YearTotals([YearRow(year, n, obligated) for year, n, obligated in rows], everything=True)


def page_year_totals(
    events: QuerySet[Event], filters: EventFilters, page: TimelinePage
) -> YearTotals | None:
    """Per-year totals: stored or live, else None when too many events match.

    The stored totals of a single entity count every event, relevant or not: they are used
    first when the list shows every event too, and as a labelled fallback (``everything``)
    when the relevant events are too many to total live.
    """
    entity = single_entity(filters)
    exact = not hides_some(filters)
    if entity is not None and exact:
        stored = stored_year_totals(*entity)
        if stored is not None:
            return stored
    if page.count is not None and not page.capped:
        return year_totals(events)
    if entity is not None and not exact:
        return stored_year_totals(*entity)
    return None


def stored_counterparties(name: str, entity_id: int) -> dict[str, list[Counterparty]] | None:
    """Top agencies/vendors of one entity from ``EntityCounterparty``; None if never refreshed."""
    if not EntityTotal.objects.filter(entity_type=name, entity_id=entity_id).exists():
        return None
    rows = list(
        EntityCounterparty.objects.filter(entity_type=name, entity_id=entity_id).values_list(
            "other_type", "other_id", "events"
        )
    )
    found: dict[str, list[Counterparty]] = {"agency": [], "vendor": []}
    for other, model in (("agency", Agency), ("vendor", Vendor)):
        ids = [other_id for kind, other_id, _ in rows if kind == other]
        if not ids:
            continue
        nodes = {pk: (slug, node_name) for pk, slug, node_name in
                 model.objects.filter(pk__in=ids).values_list("pk", "slug", "name")}
        parties = [Counterparty(*nodes[other_id], n) for kind, other_id, n in rows
                   if kind == other and other_id in nodes]
        found[other] = sorted(parties, key=lambda p: (-p.events, p.name))
    return found


def timeline_status(filters: EventFilters) -> int:
    """The HTTP status of a timeline page: 400 when a filter cannot be used (``parse_filters``)."""
    return 400 if filters.errors else 200


def timeline_context(
    request: HttpRequest, filters: EventFilters, *, base_url: str, fixed: Sequence[str] = ()
) -> dict[str, Any]:
    """Everything the timeline include needs: the page, groups, chips, charts and links.

    ``filters`` come from ``filters_resolve``. ``fixed`` names filters set by the page itself
    (the agency on an agency page): they apply to the list but are neither shown as chips nor
    offered in the form. When a filter cannot be used (``filters.errors``) nothing is
    searched: the page shows the errors and the form, never the events of a broader search.
    """
    own = filters
    for name in fixed:
        own = own.without(name)
    choices = [
        FilterSelect(
            name, getattr(filters, name), cached_filter_choices(model, getattr(filters, name))
        )
        for name, model in ENTITY_FILTERS.items()
        if name not in fixed
    ]
    context = {
        "filters": filters,
        "count_cap": COUNT_CAP,
        "choices": choices,
        "fixed": fixed,
        "base_url": base_url,
        "kinds": Event.Kind.values,
        "levels": Agency.Level.values,
        "orders": ORDER_LABELS,
    }
    if filters.errors:
        return context
    found = event_search_result(filters)
    page = timeline_page(
        found.events, request.GET.get("page"), counted=found.countable,
        count_in_page=found.count_in_page,
    )
    labels = {choice.name: dict(choice.options) for choice in choices}
    return {
        **context,
        "page_obj": page,
        "groups": group_by_month(page.object_list),
        "years": page_year_totals(found.events, filters, page),
        "chips": build_chips(own, base_url, labels),
        "page_query": query_string(own),
        "hidden": hidden_events(
            found.others, page, f"{base_url}?{query_string(own, all='1')}",
            counted=found.countable,
        ),
        "export_query": query_string(filters),
    }
