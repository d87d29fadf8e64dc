"""Curators' review of technology tags: confirm one, reject one for good, or allow it again;
and the sentence every surface shows for why an event carries a tag."""

from __future__ import annotations

from django.db import transaction

from tracker.models import EventTechnology, Strength, TagRejection
from tracker.stats import refresh_stats_for_technologies

CONFIRMED = "confirmed by a curator"
# What a tag without recorded evidence says, by who made it (rows tagged before evidence
# was kept have none until the next retag).
NO_EVIDENCE = {
    EventTechnology.TaggedBy.RULE: "tagged by rule (no evidence recorded; run retag)",
    EventTechnology.TaggedBy.CURATOR: "added by a curator",
    EventTechnology.TaggedBy.SOURCE: "tagged by the source",
}


def evidence_text(evidence: list[dict]) -> str:
    """The "why" sentences of ``evidence`` joined with "; ", each once, in their order."""
    return "; ".join(dict.fromkeys(str(item["why"]) for item in evidence if item.get("why")))


def tag_explanation(evidence: list[dict], tagged_by: str) -> str:
    """``evidence_text``, or an honest note on how the tag was made when it has none."""
    return evidence_text(evidence) or NO_EVIDENCE.get(tagged_by, f"tagged by {tagged_by}")


def tag_reasons(evidence: list[dict], tagged_by: str) -> list[tuple[str, str]]:
    """(sentence, strength) for each clue of ``evidence``, each sentence once, for the event
    page; a curator's confirmation has no strength; one honest note when there is none."""
    reasons: dict[str, str] = {}
    for item in evidence:
        if item.get("why"):
            strength = "" if item.get("kind") == "curator" else str(item.get("strength") or "")
            reasons.setdefault(str(item["why"]), strength)
    return list(reasons.items()) or [(tag_explanation([], tagged_by), "")]


def tag_confirm(event_id: int, technology_id: int) -> None:
    """Make the tag a curator's (retag keeps it), keeping its evidence; idempotent.

    Raises ``EventTechnology.DoesNotExist`` when the event does not carry the technology.
    """
    with transaction.atomic():
        link = EventTechnology.objects.select_for_update().get(
            event_id=event_id, technology_id=technology_id
        )
        evidence = list(link.evidence or [])
        if not any(item.get("kind") == "curator" for item in evidence):
            evidence.append(
                {
                    "kind": "curator",
                    "field": "",
                    "match": "",
                    "strength": Strength.STRONG.value,
                    "rule": None,
                    "product": None,
                    "why": CONFIRMED,
                }
            )
        if link.tagged_by != EventTechnology.TaggedBy.CURATOR or evidence != link.evidence:
            link.tagged_by = EventTechnology.TaggedBy.CURATOR
            link.evidence = evidence
            link.save(update_fields=["tagged_by", "evidence"])


def tag_reject(event_id: int, technology_id: int, note: str = "") -> None:
    """Remove the tag and remember the rejection, so no retag or import adds it back.

    Idempotent: rejecting again keeps the first rejection and its note.
    """
    with transaction.atomic():
        removed, _ = EventTechnology.objects.filter(
            event_id=event_id, technology_id=technology_id
        ).delete()
        TagRejection.objects.get_or_create(
            event_id=event_id, technology_id=technology_id, defaults={"note": note[:255]}
        )
        if removed:
            transaction.on_commit(lambda: refresh_stats_for_technologies([technology_id]))


def tag_unreject(event_id: int, technology_id: int) -> None:
    """Forget a rejection; the next retag may tag the event with the technology again."""
    TagRejection.objects.filter(event_id=event_id, technology_id=technology_id).delete()
