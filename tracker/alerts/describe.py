"""Alerts described in words ("Pitch events involving ICE …"), and text made safe for headers."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from tracker.alerts.matching import ENTITIES
from tracker.selectors import EventFilters

ENTITY_WORDS = {
    "agency": "involving {} (or its sub-agencies)",
    "vendor": "with vendor {} (or its subsidiaries)",
    "technology": "about {} (or narrower technologies)",
}


def header_safe(text: str, max_length: int = 120) -> str:
    """One line of text for an email header: no control/format characters, CR/LF or separators."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        kept.append(" " if category[0] in "CZ" else char)
    line = " ".join("".join(kept).split())
    if len(line) > max_length:
        line = line[: max_length - 1].rstrip() + "…"
    return line


def entity_names(filters_list: Sequence[EventFilters]) -> dict[tuple[str, str], str]:
    """Display names of the entities named by ``filters_list`` (one query per entity type)."""
    names: dict[tuple[str, str], str] = {}
    for name, model in ENTITIES.items():
        slugs = {getattr(filters, name) for filters in filters_list} - {""}
        if slugs:
            names.update({(name, e.slug): str(e) for e in model.objects.filter(slug__in=slugs)})
    return names


def filters_describe(filters: EventFilters, names: Mapping[tuple[str, str], str]) -> str:
    """A sentence describing what an alert with these filters sends."""
    subject = " or ".join(filters.kind) + " events" if filters.kind else "events"
    parts = [subject]
    for name, words in ENTITY_WORDS.items():
        slug = getattr(filters, name)
        if slug:
            parts.append(words.format(names.get((name, slug), slug)))
    if filters.level:
        parts.append(f"involving a {filters.level} agency")
    if filters.since and filters.until:
        parts.append(f"dated {filters.since:%Y-%m-%d} to {filters.until:%Y-%m-%d}")
    elif filters.since:
        parts.append(f"dated from {filters.since:%Y-%m-%d}")
    elif filters.until:
        parts.append(f"dated until {filters.until:%Y-%m-%d}")
    if filters.amount_min is not None:
        parts.append(f"worth at least ${filters.amount_min:,}")
    if filters.amount_max is not None:
        parts.append(f"worth at most ${filters.amount_max:,}")
    terms = filters.q.split()[:10]
    if terms:
        parts.append("mentioning " + " and ".join(f"“{term}”" for term in terms))
    others = ", including those with no technology tagged" if filters.all else ""
    if len(parts) == 1 and not filters.kind:
        return "All new events" + others
    return "New " + " ".join(parts) + others


def filters_describe_many(filters_list: Sequence[EventFilters]) -> list[str]:
    """``filters_describe`` for many filters with the entity names fetched once."""
    names = entity_names(filters_list)
    return [filters_describe(filters, names) for filters in filters_list]
