"""What a source's record becomes in the database: an event's values, which source's values win
when several report one event, and the source record that keeps the payload and its hash.

Pure mapping and single-row saves; the importer decides when each is called.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from django.utils import timezone

from scrapers.base import Record
from tracker.models import Event, SourceRecord

# Which source's version of an event's fields wins when several report it (lower wins).
SOURCE_PRIORITY = {
    "curator": 0,
    "usaspending": 1,
    "fpds": 2,
    "sam_awards": 3,
    "sam": 4,
    "lda": 5,
    "muckrock": 6,
    "documentcloud": 7,
    "atlas": 8,
    "news": 9,
    "legistar": 10,
}
# Between variants of one id (lower wins): an award's detail, then the award's own search row or
# a modification's row in its award's transactions, then a row of the transaction search.
VARIANT_PRIORITY = {"detail": 0, "": 1, "action": 2}
EVENT_FIELDS = (
    "kind",
    "date",
    "date_precision",
    "title",
    "summary",
    "body_text",
    "amount",
    "currency",
    "codes",
)
KINDS = frozenset(Event.Kind.values)
MAX_AMOUNT = Decimal("1e16")  # Event.amount holds 18 digits, 2 after the point
EMPTY = (None, "", {})


def event_values(record: Record) -> dict[str, Any]:
    """The event fields ``record`` gives; raises ``ValueError`` for an amount out of range."""
    if record.amount is not None and (
        not record.amount.is_finite() or abs(record.amount) >= MAX_AMOUNT
    ):
        raise ValueError(
            f"{record.source} {record.external_id}: amount {record.amount} out of range"
        )
    codes = {key: clean(value) for key, value in record_codes(record).items()}
    if record.technology_hints:
        codes["source_technology"] = ";".join(record.technology_hints)
    return {
        "kind": record.kind if record.kind in KINDS else "other",
        "date": record.date,
        "date_precision": record.date_precision,
        "title": clean((record.title or f"{record.source} {record.external_id}")[:500]),
        "summary": clean(record.summary),
        "body_text": clean(record.text) if record.text != record.summary else "",
        "amount": record.amount,
        "currency": (record.currency or "USD")[:3],
        "codes": codes,
        "review_state": Event.Review.NEEDS_REVIEW if record.review else Event.Review.AUTO,
    }


def event_update(
    event: Event, values: dict[str, Any], source_record: SourceRecord, variant: str
) -> None:
    """Apply a record's values: the best-ranked record owns the fields, others fill gaps; a
    curator-verified event only has its gaps filled. Saves only the fields that changed.

    Records rank by their source's priority, then, between two records of one source (an
    award's search row and its base transaction), by external id, then between variants of one
    id (``VARIANT_PRIORITY``): so the event ends the same whichever import ran first, as when
    parallel backfill windows bring both. ``source_record`` holds the variants stored so far.
    """
    source, external_id = source_record.source, source_record.external_id
    rank = (SOURCE_PRIORITY.get(source, 99), external_id)
    others = event.sources.exclude(source=source, external_id=external_id)
    outranked = any(
        (SOURCE_PRIORITY.get(other, 99), other_id) < rank
        for other, other_id in others.values_list("source", "external_id")
    ) or any(
        VARIANT_PRIORITY.get(held, 99) < VARIANT_PRIORITY.get(variant, 99)
        for held in source_record.raw.get("_hashes", {})
    )
    verified = event.review_state == Event.Review.VERIFIED
    changed = []
    for name in EVENT_FIELDS:
        value, current = values[name], getattr(event, name)
        if value in EMPTY or current == value or ((outranked or verified) and current not in EMPTY):
            continue
        setattr(event, name, value)
        changed.append(name)
    if (
        values["review_state"] == Event.Review.NEEDS_REVIEW
        and event.review_state == Event.Review.AUTO
    ):
        event.review_state = Event.Review.NEEDS_REVIEW
        changed.append("review_state")
    if changed:
        event.save(update_fields=[*changed, "updated_at"])


def source_record_new(record: Record, digest: str, variant: str) -> SourceRecord:
    """An unsaved source record keeping ``record``'s payload under ``variant`` and its hash."""
    return SourceRecord(
        source=record.source,
        external_id=record.external_id[:500],
        url=(record.url or "")[:2000],
        retrieved_at=timezone.now(),
        raw={variant or "record": json_safe(record.raw), "_hashes": {variant: digest}},
    )


def source_record_store(
    record: Record, event: Event, source_record: SourceRecord | None, digest: str, variant: str
) -> SourceRecord:
    """Save ``record``'s payload and hash on its source record (a new one if it has none)."""
    if source_record is None:
        source_record = source_record_new(record, digest, variant)
        source_record.event = event
        source_record.save()
        return source_record
    raw = dict(source_record.raw)
    raw["_hashes"] = {**raw.get("_hashes", {}), variant: digest}
    raw[variant or "record"] = json_safe(record.raw)
    source_record.raw, source_record.event = raw, event
    source_record.retrieved_at = timezone.now()
    if record.url and not record.extra.get("partial"):
        source_record.url = record.url[:2000]
    source_record.save(update_fields=["raw", "retrieved_at", "url", "event"])
    return source_record


def base_key(record: Record) -> str:
    """The base award's match key of a contract modification ("" otherwise).

    Contract keys read ``contract:<agency>:<PIID>:<mod>:<parent IDV>``; mod 0 is the base.
    """
    parts = record.match_key.split(":")
    if record.kind != "modification" or len(parts) != 5 or parts[0] != "contract":
        return ""
    return ":".join([*parts[:3], "0", parts[4]])


def record_codes(record: Record) -> dict[str, str]:
    """The record's PSC and NAICS codes with their descriptions, which the tagging rules read."""
    codes = dict(record.codes)
    for name in ("psc_description", "naics_description"):
        if record.extra.get(name):
            codes[name] = str(record.extra[name])
    return codes


def clean(value: Any) -> Any:
    """Strip NUL bytes, which PostgreSQL refuses in text."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types, without NUL bytes."""
    dumped = orjson.dumps(value, default=str)
    loaded = orjson.loads(dumped)
    return clean(loaded) if b"\\u0000" in dumped else loaded
