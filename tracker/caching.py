"""Cached page parts that depend on counts, and when they are forgotten.

The timeline's filter choices (up to 400 options per entity type, ranked by event counts)
and the home page's counts by kind and technology are the same on every request until
entities or their events change; they are kept in the cache and forgotten when an agency,
vendor or technology is saved or deleted and after every statistics refresh (which follows
every import). The time limit covers changes made without signals (raw SQL,
``QuerySet.update``).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

CHOICES_KEY = "spyglass:filter-choices:{}"
HOME_COUNTS_KEY = "spyglass:home-counts"
CACHE_TTL = 300
CHOICE_MODELS = ("agency", "vendor", "technology")


def choices_key(name: str) -> str:
    return CHOICES_KEY.format(name)


def forget_cached_counts(*_args: Any, **_kwargs: Any) -> None:
    """Drop the cached filter choices and home-page counts (usable as a signal receiver)."""
    cache.delete_many([*(choices_key(name) for name in CHOICE_MODELS), HOME_COUNTS_KEY])
