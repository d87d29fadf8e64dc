"""Resolve and tag: the agencies, vendors and technologies a record asks its event to link to.

The import's middle step (parse → resolve → tag → upsert). Names and codes are resolved to
rows here, with per-run caches, never while scraping.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from django.db.models import Model

from scrapers.base import Record
from tracker.models import Event, EventAgency, EventTechnology, EventVendor, TagRejection
from tracker.services.bulk import values_insert
from tracker.services.classifier import Tagger, Tags, inherited_evidence
from tracker.services.entities import AgencyResolver, VendorResolver
from tracker.services.organisations import Mentions
from tracker.services.record_fields import base_key, record_codes
from tracker.services.tagging import EntityFinder

TEXT_MINED = {"news", "muckrock", "documentcloud", "legistar"}  # free text searched for entities
UNFILTERED = {"news"}  # cannot filter by topic: items naming nothing we track are skipped
Links = tuple[Tags, set[tuple[int, str]], set[tuple[int, str]]]  # tags, agencies, vendors


class Linker:
    """One run's resolvers and taggers; ``reset`` after a rolled-back transaction."""

    def __init__(self) -> None:
        self.mentions = Mentions()  # unknown organisations named in text, proposed at the end
        self.vendors_created: set[int] = set()  # for near-match review after the run

    @cached_property
    def agencies(self) -> AgencyResolver:
        return AgencyResolver()

    @cached_property
    def vendors(self) -> VendorResolver:
        return VendorResolver()

    @cached_property
    def tagger(self) -> Tagger:
        return Tagger()

    @cached_property
    def finder(self) -> EntityFinder:
        return EntityFinder()

    def reset(self) -> None:
        """Forget resolved rows: the resolvers' caches may hold rows that were rolled back."""
        if "vendors" in self.__dict__:
            self.vendors_created |= self.vendors.created
        self.__dict__.pop("agencies", None)
        self.__dict__.pop("vendors", None)

    def links(self, record: Record, event: Event | None) -> Links | None:
        """The tags and links ``record`` asks for (for its existing ``event``, if any); None
        when an unfiltered source's new item names nothing we track."""
        text = "\n".join(filter(None, [record.title, record.summary, record.text]))
        tags = self.tagger.tag(
            fields={"title": record.title, "summary": record.summary, "text": record.text},
            vendors=[v.name for v in record.vendors],
            codes=record_codes(record),
            hints=record.technology_hints,
        )
        rejected = _rejected(event)  # a curator's rejections: no import adds them back
        tags.drop(rejected)
        mined = self.finder.find(text) if record.source in TEXT_MINED else None
        if (
            record.source in UNFILTERED
            and event is None
            and not tags.technologies
            and not (mined and mined.vendors)
        ):
            return None
        agency_links = {(self.agencies.resolve(r).pk, r.role) for r in record.agencies if r.name}
        vendor_links = {(self.vendors.resolve(r), r.role) for r in record.vendors if r.name}
        base = None
        if not agency_links and not vendor_links and (key := base_key(record)):
            base = Event.objects.filter(match_key=key).first()
        if base is not None:  # a modification naming no one takes the base award's parties
            agency_links = set(base.agency_links.values_list("agency_id", "role"))
            vendor_links = set(base.vendor_links.values_list("vendor_id", "role"))
            for tech, rule in base.technology_links.values_list("technology_id", "rule_id"):
                if tech not in rejected:
                    tags.add(tech, rule, inherited_evidence(base.title))
        if mined is not None:
            mentioned_role = "pitched-to" if record.kind in ("pitch", "meeting") else "subject"
            agency_links |= {(pk, mentioned_role) for pk in mined.agencies}
            vendor_links |= {(pk, "vendor") for pk in mined.vendors}
            self.mentions.note(record, text)
        return tags, agency_links, vendor_links


# The columns of each link table that ``link_rows`` fills, in its order.
LINK_COLUMNS: dict[type[Model], tuple[str, ...]] = {
    EventAgency: ("event_id", "agency_id", "role"),
    EventVendor: ("event_id", "vendor_id", "role"),
    EventTechnology: ("event_id", "technology_id", "rule_id", "tagged_by", "evidence"),
}
LinkRows = dict[type[Model], list[tuple]]


def link_rows(event: Event, links: Links, real: dict[int, int]) -> LinkRows:
    """``event``'s agency, vendor and technology link rows, as values of ``LINK_COLUMNS``;
    ``real`` maps provisional vendor ids (``VendorResolver.commit``) to the rows written."""
    tags, agencies, vendors = links
    return {
        EventAgency: [(event.pk, pk, role) for pk, role in agencies],
        EventVendor: [(event.pk, real.get(pk, pk), role) for pk, role in vendors],
        EventTechnology: [
            (event.pk, tech, rule, "rule", tags.evidence.get(tech, []))
            for tech, rule in tags.technologies.items()
        ],
    }


def links_save(rows: Iterable[LinkRows], *, new_events: bool) -> None:
    """Insert link rows; the links an existing event has already stay as they are."""
    for model, columns in LINK_COLUMNS.items():
        of_model = [row for event_rows in rows for row in event_rows[model]]
        if new_events:
            values_insert(model, columns, of_model)  # nothing to skip: no links yet
        else:
            model.objects.bulk_create(
                [model(**dict(zip(columns, row, strict=True))) for row in of_model],
                ignore_conflicts=True,
            )


def _rejected(event: Event | None) -> set[int]:
    """Technologies a curator rejected for ``event``."""
    if event is None:
        return set()
    return set(TagRejection.objects.filter(event=event).values_list("technology_id", flat=True))
