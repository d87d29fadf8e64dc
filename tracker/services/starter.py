"""Load the starter data shipped in ``tracker/starter/``: taxonomy, agencies, vendors, the story.

Idempotent: every row is keyed by its slug (events by a curator key), so loading twice
changes nothing, and a curator's later edits to other fields are kept.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from tracker.models import (
    Agency,
    AgencyAlias,
    Council,
    Event,
    EventAgency,
    EventTechnology,
    EventVendor,
    NewsFeed,
    Product,
    SourceRecord,
    Strength,
    TaggingRule,
    Technology,
    Vendor,
    VendorAlias,
)
from tracker.normalize import agency_key, vendor_key

STARTER_DIR = Path(__file__).resolve().parent.parent / "starter"
_ASSISTANCE_LISTING = re.compile(r"^\d{2}\.\d{3}$")


@dataclass
class StarterCounts:
    technologies: int = 0
    rules: int = 0
    agencies: int = 0
    vendors: int = 0
    products: int = 0
    events: int = 0
    feeds: int = 0

    def __str__(self) -> str:
        return " ".join(f"{name}={value}" for name, value in vars(self).items())


def _read(name: str) -> Any:
    return json.loads((STARTER_DIR / name).read_text("utf-8"))


def grant_programs() -> list[dict[str, str]]:
    """The grant programmes sources sweep, from ``grant_programs.json``, sorted by number.

    Read from the file on every call (there is no table for them): curators edit the file and
    the next run uses it. Raises ``ValueError`` for a number that is not an assistance listing
    ("16.738"), so a typo fails loudly instead of sweeping nothing.
    """
    programs = sorted(_read("grant_programs.json")["programs"], key=lambda p: p["number"])
    for program in programs:
        if not _ASSISTANCE_LISTING.match(program["number"]):
            raise ValueError(f"grant_programs.json: {program['number']!r} is not NN.NNN")
    return programs


def _upsert(model: type, slug: str, defaults: dict[str, Any]) -> tuple[Any, bool]:
    """Create the row with ``defaults`` or return the existing one untouched (curators win)."""
    return model.objects.get_or_create(slug=slug, defaults=defaults)


def _load_technologies(counts: StarterCounts) -> None:
    for item in _read("technologies.json")["technologies"]:
        parent = Technology.objects.get(slug=item["parent"]) if item.get("parent") else None
        tech, created = _upsert(
            Technology,
            item["slug"],
            {
                "name": item["name"],
                "parent": parent,
                "description": item.get("description", ""),
                "atlas_category": item.get("atlas", ""),
            },
        )
        counts.technologies += created
        have = set(tech.rules.values_list("kind", "value"))
        new = [
            TaggingRule(
                technology=tech,
                kind=rule["kind"],
                value=rule["value"],
                search_term=rule.get("search", False),
                strength=rule.get("strength", Strength.STRONG),
            )
            for rule in item.get("rules", [])
            if (rule["kind"], rule["value"]) not in have
        ]
        TaggingRule.objects.bulk_create(new)
        counts.rules += len(new)


def _load_agencies(counts: StarterCounts) -> None:
    for item in _read("agencies.json")["agencies"]:
        parent = Agency.objects.get(slug=item["parent"]) if item.get("parent") else None
        agency, created = _upsert(
            Agency,
            item["slug"],
            {
                "name": item["name"],
                "acronym": item.get("acronym", ""),
                "parent": parent,
                "level": item.get("level", "federal"),
                "state": item.get("state", ""),
                "place": item.get("place", ""),
                "agency_type": item.get("agency_type", ""),
                "toptier_code": item.get("toptier", ""),
                "subtier_code": item.get("subtier", ""),
                "fpds_id": item.get("fpds", ""),
                "description": item.get("description", ""),
            },
        )
        counts.agencies += created
        for name in [item["name"], *item.get("aliases", [])]:
            if not agency.aliases.filter(normalized=agency_key(name)).exists():
                AgencyAlias.objects.create(agency=agency, name=name)


def _load_vendors(counts: StarterCounts) -> None:
    for item in _read("vendors.json")["vendors"]:
        parent = Vendor.objects.get(slug=item["parent"]) if item.get("parent") else None
        vendor, created = _upsert(Vendor, item["slug"], {"name": item["name"], "parent": parent})
        counts.vendors += created
        for alias in item.get("aliases", []):
            alias = alias if isinstance(alias, dict) else {"name": alias}
            if not vendor.aliases.filter(normalized=vendor_key(alias["name"])).exists():
                VendorAlias.objects.create(
                    vendor=vendor,
                    name=alias["name"],
                    valid_from=_date(alias.get("from")),
                    valid_until=_date(alias.get("until")),
                )
        for product in item.get("products", []):
            _, created = _upsert(
                Product,
                product["slug"],
                {
                    "name": product["name"],
                    "vendor": vendor,
                    "technology": Technology.objects.get(slug=product["technology"]),
                    "aliases": product.get("aliases", []),
                    "strength": product.get("strength", Strength.STRONG),
                },
            )
            counts.products += created


def _link_vendor_rules() -> None:
    """A vendor rule naming a known vendor covers its whole family (aliases, subsidiaries)."""
    rules = TaggingRule.objects.filter(kind=TaggingRule.Kind.VENDOR, vendor__isnull=True)
    by_key: dict[str, list[int]] = {}
    for pk, value in rules.values_list("pk", "value"):
        by_key.setdefault(vendor_key(value), []).append(pk)
    vendors = Vendor.objects.filter(normalized__in=by_key).order_by("-pk")
    for key, vendor_id in vendors.values_list("normalized", "pk"):
        TaggingRule.objects.filter(pk__in=by_key[key]).update(vendor=vendor_id)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _load_events(counts: StarterCounts) -> None:
    now = timezone.now()
    for item in _read("events.json")["events"]:
        event, created = Event.objects.get_or_create(
            match_key=item["key"],
            defaults={
                "kind": item["kind"],
                "date": _date(item["date"]),
                "date_precision": item["date_precision"],
                "title": item["title"],
                "summary": item["summary"],
                "review_state": Event.Review.VERIFIED,
            },
        )
        counts.events += created
        for link in item["agencies"]:
            EventAgency.objects.get_or_create(
                event=event, agency=Agency.objects.get(slug=link["slug"]), role=link["role"]
            )
        for link in item["vendors"]:
            EventVendor.objects.get_or_create(
                event=event, vendor=Vendor.objects.get(slug=link["slug"]), role=link["role"]
            )
        for slug in item["technologies"]:
            EventTechnology.objects.get_or_create(
                event=event,
                technology=Technology.objects.get(slug=slug),
                defaults={"tagged_by": EventTechnology.TaggedBy.CURATOR},
            )
        for source in item["sources"]:
            SourceRecord.objects.get_or_create(
                source="curator",
                external_id=source["id"],
                defaults={
                    "event": event,
                    "url": source["url"],
                    "retrieved_at": now,
                    "raw": {"note": source["note"]},
                },
            )


def _load_councils() -> int:
    """Add the starter councils that are missing; returns how many were created.

    Keyed by client name: a council a curator edited (or deactivated) keeps its fields.
    """
    created = 0
    for item in _read("councils.json")["councils"]:
        police = Agency.objects.get(slug=item["police"]) if item.get("police") else None
        _, new = Council.objects.get_or_create(
            client=item["client"],
            defaults={
                "name": item["name"],
                "jurisdiction": Agency.objects.get(slug=item["jurisdiction"]),
                "police": police,
                "token": item.get("token", ""),
            },
        )
        created += new
    return created


@transaction.atomic
def starter_data_load() -> StarterCounts:
    """Load the shipped starter data; returns how many rows of each kind were created."""
    counts = StarterCounts()
    _load_technologies(counts)
    _load_agencies(counts)
    _load_vendors(counts)
    _link_vendor_rules()
    _load_events(counts)
    _load_councils()
    for feed in _read("feeds.json")["feeds"]:
        _, created = NewsFeed.objects.get_or_create(
            url=feed["url"], defaults={"name": feed["name"]}
        )
        counts.feeds += created
    return counts
