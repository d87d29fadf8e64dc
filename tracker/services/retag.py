"""Re-apply tagging rules to stored events; curators' tags are never removed."""

from __future__ import annotations

from django.db import transaction

from tracker.models import Event, EventTechnology
from tracker.services.tagging import Tagger

CHUNK = 2000


def events_retag() -> tuple[int, int]:
    """Recompute rule tags for every event; returns (tags added, rule tags removed)."""
    tagger = Tagger()
    added = removed = 0
    last_id = 0
    while True:
        chunk = list(
            Event.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "title", "summary", "body_text", "codes")[:CHUNK]
        )
        if not chunk:
            return added, removed
        last_id = chunk[-1][0]
        with transaction.atomic():
            existing: dict[int, dict[int, str]] = {}
            for event_id, tech_id, tagged_by in EventTechnology.objects.filter(
                event_id__in=[row[0] for row in chunk]
            ).values_list("event_id", "technology_id", "tagged_by"):
                existing.setdefault(event_id, {})[tech_id] = tagged_by
            new_links = []
            for event_id, title, summary, body, codes in chunk:
                hints = [h for h in (codes or {}).get("source_technology", "").split(";") if h]
                tags = tagger.tag(text="\n".join([title, summary, body]), codes=codes, hints=hints)
                have = existing.get(event_id, {})
                stale = [t for t, by in have.items() if by == "rule" and t not in tags.technologies]
                if stale:
                    removed += EventTechnology.objects.filter(
                        event_id=event_id, technology_id__in=stale
                    ).delete()[0]
                new_links += [
                    EventTechnology(event_id=event_id, technology_id=t, rule_id=r, tagged_by="rule")
                    for t, r in tags.technologies.items()
                    if t not in have
                ]
            EventTechnology.objects.bulk_create(new_links, ignore_conflicts=True)
            added += len(new_links)
