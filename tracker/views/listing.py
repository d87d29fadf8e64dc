"""The rows of an event list: events with their agencies, vendors, technologies and sources.

One query for a page's events and one for all their links. Links are plain ``RowLink``
values with their URL already built, not model instances behind related managers: the
template only shows names and links, and the managers, instances and ``reverse`` calls of
four prefetches cost more than both queries together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote

from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse

from tracker.exports.outcomes import ids_param, ids_subquery
from tracker.models import Event

LIST_FIELDS = ("id", "kind", "date", "date_precision", "title", "amount", "currency",
               "review_state")
ROW_LINKS_SQL = (
    "SELECT DISTINCT 0, l.event_id, t.name, t.slug, t.acronym FROM tracker_eventagency l"
    " JOIN tracker_agency t ON t.id = l.agency_id WHERE l.event_id IN ({ids})"
    " UNION ALL SELECT DISTINCT 1, l.event_id, t.name, t.slug, NULL FROM tracker_eventvendor l"
    " JOIN tracker_vendor t ON t.id = l.vendor_id WHERE l.event_id IN ({ids})"
    " UNION ALL SELECT 2, l.event_id, t.name, t.slug, NULL FROM tracker_eventtechnology l"
    " JOIN tracker_technology t ON t.id = l.technology_id WHERE l.event_id IN ({ids})"
    " UNION ALL SELECT 3, event_id, source, external_id, NULL FROM tracker_sourcerecord"
    " WHERE event_id IN ({ids})"
)
ROUTES = ("agency-detail", "vendor-detail", "technology-detail")
SLUG_PLACEHOLDER = "slug-placeholder"


@dataclass(frozen=True, slots=True)
class RowLink:
    """An agency, vendor or technology as a list row shows it."""

    url: str
    name: str
    short_name: str


@dataclass(slots=True)
class RowLinks:
    agencies: list[RowLink]
    vendors: list[RowLink]
    technologies: list[RowLink]
    sources: list[str]


def listed(events: QuerySet[Event], *fields: str) -> list[Event]:
    """``events`` (already sliced to a page) with ``event.links`` set: two queries in all.

    ``fields`` are read besides the ones a list row shows (the feed wants more).
    """
    rows = list(events.only(*LIST_FIELDS, *fields))
    attach_links(rows)
    return rows


def attach_links(events: list[Event]) -> None:
    """Set ``event.links`` (a ``RowLinks``) on each of ``events`` with one query."""
    if not events:
        return
    urls = [reverse(route, args=[SLUG_PLACEHOLDER]) for route in ROUTES]
    found: list[dict[int, list]] = [defaultdict(list) for _ in range(4)]
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(
            ROW_LINKS_SQL.format(ids=ids_subquery(vendor)),
            [ids_param([event.pk for event in events], vendor)] * 4,
        )
        for tag, event_id, name, slug, acronym in cursor.fetchall():
            found[tag][event_id].append((name, slug, acronym))
    for event in events:
        entities = []
        for tag in range(3):
            url = urls[tag]
            entities.append([
                RowLink(url.replace(SLUG_PLACEHOLDER, quote(slug)), name, acronym or name)
                for name, slug, acronym in sorted(found[tag].get(event.pk, ()))
            ])
        sources = sorted(found[3].get(event.pk, ()))
        event.links = RowLinks(*entities, list(dict.fromkeys(name for name, _, _ in sources)))
