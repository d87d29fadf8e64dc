"""``{% source_health_flags %}``: the sources that need a look, for the about page."""

from __future__ import annotations

from django import template

from tracker.services.health import sources_health

register = template.Library()


@register.inclusion_tag("tracker/includes/source_health.html")
def source_health_flags() -> dict:
    """Every current health flag of the scheduled sources (two queries)."""
    return {"flags": [flag for flags in sources_health().values() for flag in flags]}
