"""Cached page parts and when they are forgotten.

The timeline's filter choices (up to 400 options per entity type, ranked by event counts)
are the same on every page until entities or their counts change; they are kept in the
cache and forgotten when an agency, vendor or technology is saved or deleted and after
every statistics refresh. The time limit covers changes made without signals (raw SQL,
``QuerySet.update``).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

CHOICES_KEY = "spyglass:filter-choices:{}"
CHOICES_TTL = 300
CHOICE_MODELS = ("agency", "vendor", "technology")


def choices_key(name: str) -> str:
    return CHOICES_KEY.format(name)


def forget_filter_choices(*_args: Any, **_kwargs: Any) -> None:
    """Drop the cached filter choices (usable as a signal receiver)."""
    cache.delete_many([choices_key(name) for name in CHOICE_MODELS])
