"""Re-apply the tagging rules to stored events.

Curators' tags are never removed and their rejections are never undone; a rule tag whose
evidence changed gets the new evidence. ``dry_run`` counts what would change and writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from tracker.models import Event, EventTechnology, EventVendor, TagRejection
from tracker.services.classifier import Tagger, Tags

CHUNK = 2000


@dataclass
class RetagResult:
    added: int = 0
    removed: int = 0
    updated: int = 0
    examples: list[str] = field(default_factory=list)  # "+ face recognition: event 12 …"


def events_retag(*, dry_run: bool = False, examples: int = 20) -> RetagResult:
    """Recompute rule tags for every event (in chunks, one transaction each)."""
    tagger = Tagger()
    names = tagger.names
    result = RetagResult()
    last_id = 0
    while True:
        chunk = list(
            Event.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "title", "summary", "body_text", "codes")[:CHUNK]
        )
        if not chunk:
            return result
        last_id = chunk[-1][0]
        ids = [row[0] for row in chunk]
        with transaction.atomic():
            existing: dict[int, dict[int, tuple[str, list]]] = defaultdict(dict)
            for event_id, tech_id, tagged_by, evidence in EventTechnology.objects.filter(
                event_id__in=ids
            ).values_list("event_id", "technology_id", "tagged_by", "evidence"):
                existing[event_id][tech_id] = (tagged_by, evidence)
            vendors: dict[int, list[str]] = defaultdict(list)
            for event_id, name in EventVendor.objects.filter(event_id__in=ids).values_list(
                "event_id", "vendor__name"
            ):
                vendors[event_id].append(name)
            rejected: dict[int, set[int]] = defaultdict(set)
            for event_id, tech_id in TagRejection.objects.filter(event_id__in=ids).values_list(
                "event_id", "technology_id"
            ):
                rejected[event_id].add(tech_id)
            for event_id, title, summary, body, codes in chunk:
                codes = codes or {}
                hints = [h for h in codes.get("source_technology", "").split(";") if h]
                tags = tagger.tag(
                    fields={"title": title, "summary": summary, "text": body},
                    vendors=vendors[event_id],
                    codes={k: v for k, v in codes.items() if k != "source_technology"},
                    hints=hints,
                )
                tags.drop(rejected[event_id])
                _apply(event_id, title, tags, existing[event_id], names, result, dry_run, examples)
    return result


def _apply(
    event_id: int,
    title: str,
    tags: Tags,
    have: dict[int, tuple[str, list]],
    names: dict[int, str],
    result: RetagResult,
    dry_run: bool,
    examples: int,
) -> None:
    inherited = {
        t
        for t, (by, evidence) in have.items()
        if by == "rule" and any(e.get("kind") == "base" for e in evidence)
    }
    stale = [
        t
        for t, (by, _) in have.items()
        if by == "rule" and t not in tags.technologies and t not in inherited
    ]
    new = [t for t in tags.technologies if t not in have]
    changed = [
        t
        for t in tags.technologies
        if t in have and have[t][0] == "rule" and have[t][1] != tags.evidence[t]
    ]
    result.removed += len(stale)
    result.added += len(new)
    result.updated += len(changed)
    for sign, techs in (("+", new), ("-", stale)):
        for tech in techs:
            if len(result.examples) < examples:
                result.examples.append(
                    f"{sign} {names.get(tech, tech)}: event {event_id} {title[:80]}"
                )
    if dry_run:
        return
    if stale:
        EventTechnology.objects.filter(event_id=event_id, technology_id__in=stale).delete()
    EventTechnology.objects.bulk_create(
        [
            EventTechnology(
                event_id=event_id,
                technology_id=t,
                rule_id=tags.technologies[t],
                tagged_by="rule",
                evidence=tags.evidence[t],
            )
            for t in new
        ],
        ignore_conflicts=True,
    )
    for tech in changed:
        EventTechnology.objects.filter(event_id=event_id, technology_id=tech).update(
            evidence=tags.evidence[tech], rule_id=tags.technologies[tech]
        )
    if stale or new or changed:
        Event.objects.filter(pk=event_id).update(updated_at=timezone.now())  # API sync sees it
