"""The event list's query: the timeline filters plus the API's own ``updated_since`` and
``order=updated``, for researchers who sync the data incrementally.

Everything the timeline understands is parsed by ``EventFilters`` and resolved by
``filters_resolve`` (one read path); this module only adds what a sync needs and refuses, like
``parse_filters``, any value it cannot use.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.http import QueryDict

from tracker.selectors import (
    MAX_QUERY_LENGTH,
    ORDERS,
    BadFilter,
    EventFilters,
    SearchResult,
    event_search_result,
    filters_resolve,
)

# "updated": the least recently changed first, (updated_at, id) ascending. An event changed
# while a client pages moves behind its cursor, so a walk never skips one.
UPDATED = "updated"
API_ORDERS = (*ORDERS, UPDATED)
# An unescaped "+" in a query string arrives as a space: "…T10:00:00 02:00" means "+02:00".
SPACED_OFFSET = re.compile(r"^(.+[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?) (\d\d(?::?\d\d)?)$")


@dataclass(frozen=True)
class EventQuery:
    """A parsed event list request: the timeline filters, the order and ``updated_since``."""

    filters: EventFilters
    order: str
    updated_since: dt.datetime | None = None


def one(params: Mapping[str, Any], name: str) -> str:
    """One parameter the way ``EventFilters`` reads it: its last value, cleaned and cut."""
    value = params.get(name, "")
    return str(value).replace("\x00", "").strip()[:MAX_QUERY_LENGTH]


def updated_since_parse(value: str, errors: list[str]) -> dt.datetime | None:
    """``value`` (an ISO 8601 date or date-time; naive means UTC) as an aware UTC datetime.

    A date is its midnight UTC. Unusable values are described in ``errors``.
    """
    if not value:
        return None
    text = SPACED_OFFSET.sub(r"\1+\2", value).upper()
    try:
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        errors.append(
            f"updated_since: “{value[:40]}” is not a date or time "
            "(use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)."
        )
        return None


def event_query(params: QueryDict) -> EventQuery:
    """The request ``params`` make, or ``BadFilter`` naming every value that cannot be used."""
    order = one(params, "order").lower()
    if order == UPDATED:
        params = params.copy()
        params.pop("order")
    filters = filters_resolve(EventFilters.from_params(params))
    errors = list(filters.errors)
    updated_since = updated_since_parse(one(params, "updated_since"), errors)
    if errors:
        raise BadFilter(" ".join(errors))
    return EventQuery(filters, UPDATED if order == UPDATED else filters.order, updated_since)


def event_list(query: EventQuery) -> SearchResult:
    """``event_search_result`` for the filters, its events then changed on or after
    ``updated_since``, in order (``countable`` as planned for the filters)."""
    found = event_search_result(query.filters)
    events = found.events
    if query.updated_since is not None:
        events = events.filter(updated_at__gte=query.updated_since)
    if query.order == UPDATED:
        events = events.order_by("updated_at", "id")
    return replace(found, events=events)
