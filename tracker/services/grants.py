"""Federal grants and the council votes that accept them, linked when a page is read.

A council's grant acceptance carries the award numbers and assistance listings its text names
(``Event.codes``, from ``scrapers/legistar_parse.matter_record``); a federal grant imported from
USAspending keeps its award id (FAIN) and assistance listing (CFDA number) in its source row.
There is no stored link between two events, so these read-only lookups pair them: by the same
award number, or, when only the programme is named, by the same programme, recipient and period.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform

from tracker.models import Agency, Event, EventAgency, SourceRecord

GRANT_SOURCE = "usaspending"
GRANT_PREFIX = "ASST_"  # USAspending's generated ids of assistance (grant) awards
# The raw row of a grant action, as ``record_fields.source_record_new`` keeps it.
AWARD_ID = "raw__action__Award ID"
LISTING = "raw__action__Assistance Listing__cfda_number"
AWARD_ID_TEXT = KeyTextTransform("Award ID", KeyTransform("action", "raw"))
LISTING_TEXT = KeyTextTransform(
    "cfda_number", KeyTransform("Assistance Listing", KeyTransform("action", "raw"))
)
# A council accepts a grant within months of the award (JAG: awarded in the autumn, accepted
# before or after); a programme match further apart is another year's grant.
PROGRAMME_WINDOW = dt.timedelta(days=366)
LIMIT = 10


@dataclass(frozen=True)
class GrantLink:
    """A related event and why it is related ("award number …" or "programme … and …")."""

    event: Event
    reason: str


def compact(number: str) -> str:
    """An award number as USAspending lists it, no separators: 2019-DJ-BX-0123 → 2019DJBX0123."""
    return re.sub(r"[^0-9A-Z]", "", number.upper())


def _listed(codes: object, key: str) -> list[str]:
    value = codes.get(key, "") if isinstance(codes, dict) else ""
    return [part.strip() for part in str(value).split(";") if part.strip()]


def _grant_records() -> QuerySet[SourceRecord]:
    return SourceRecord.objects.filter(source=GRANT_SOURCE, external_id__startswith=GRANT_PREFIX)


def _near(date: dt.date | None, field: str = "date") -> Q:
    """Within ``PROGRAMME_WINDOW`` of ``date`` (anything when the date is unknown)."""
    if date is None:
        return Q()
    return Q(**{f"{field}__range": (date - PROGRAMME_WINDOW, date + PROGRAMME_WINDOW)})


def _local_agency_ids(event: Event, roles: Iterable[str]) -> list[int]:
    return list(
        EventAgency.objects.filter(
            event=event, role__in=list(roles), agency__level=Agency.Level.LOCAL
        ).values_list("agency_id", flat=True)
    )


def _events(pks: Iterable[int], exclude: int) -> list[Event]:
    ids = set(pks) - {exclude}
    return list(Event.objects.filter(pk__in=ids).order_by("-date", "-pk")[:LIMIT])


def related_federal_grants(event: Event) -> list[GrantLink]:
    """The federal grants a grant acceptance names: those with an award number it names
    (hyphens or not), then, for each programme it names, the grants of that programme to
    the same city or police department awarded within a year of the vote. Newest first,
    at most ``LIMIT`` of each; empty for an event that names no number."""
    numbers = _listed(event.codes, "award_number")
    listings = _listed(event.codes, "assistance_listing")
    links: list[GrantLink] = []
    if numbers:
        forms = sorted({form for n in numbers for form in (n, compact(n))})
        rows = _grant_records().filter(**{f"{AWARD_ID}__in": forms})
        by_event: dict[int, str] = {}
        for event_id, award_id in rows.values_list("event_id", AWARD_ID_TEXT):
            by_event.setdefault(event_id, str(award_id))
        for grant in _events(by_event, event.pk):
            links.append(GrantLink(grant, f"award number {by_event[grant.pk]}"))
    roles = [EventAgency.Role.BUYER, EventAgency.Role.REQUESTER]
    recipients = _local_agency_ids(event, roles) if listings else []
    if recipients:
        seen = {link.event.pk for link in links}
        rows = _grant_records().filter(
            **{f"{LISTING}__in": listings},
            event__kind=Event.Kind.AWARD,
            event__agency_links__agency_id__in=recipients,
            event__agency_links__role=EventAgency.Role.REQUESTER,
        )
        rows = rows.filter(_near(event.date, "event__date"))
        by_event = dict(rows.values_list("event_id", LISTING_TEXT))
        for grant in _events(set(by_event) - seen, event.pk):
            links.append(GrantLink(grant, f"programme {by_event[grant.pk]} to the same recipient"))
    return links


def _grant_row(event: Event) -> dict:
    for source in event.sources.all():
        if source.source == GRANT_SOURCE and source.external_id.startswith(GRANT_PREFIX):
            row = source.raw.get("action") if isinstance(source.raw, dict) else None
            if isinstance(row, dict):
                return row
    return {}


def grant_acceptances(event: Event) -> list[GrantLink]:
    """The mirror of ``related_federal_grants`` on a federal grant's page: the council votes
    that name its award number, or its programme for the same recipient within a year of
    the award. Newest first, at most ``LIMIT`` of each; empty for any other event."""
    row = _grant_row(event)
    if not row:
        return []
    fain = compact(str(row.get("Award ID") or ""))
    listing_field = row.get("Assistance Listing")
    listing = str(listing_field.get("cfda_number") or "") if isinstance(listing_field, dict) else ""
    links: list[GrantLink] = []
    if fain:
        naming = Event.objects.filter(codes__has_key="award_number").exclude(pk=event.pk)
        matched = {
            pk: number
            for pk, codes in naming.values_list("pk", "codes").iterator(chunk_size=500)
            for number in _listed(codes, "award_number")
            if compact(number) == fain
        }
        for vote in _events(matched, event.pk):
            links.append(GrantLink(vote, f"award number {matched[vote.pk]}"))
    recipients = _local_agency_ids(event, [EventAgency.Role.REQUESTER])
    if listing and recipients and event.kind == Event.Kind.AWARD:
        seen = {link.event.pk for link in links}
        votes = (
            Event.objects.exclude(pk=event.pk)
            .filter(
                codes__assistance_listing__icontains=listing,
                agency_links__agency_id__in=recipients,
            )
            .filter(_near(event.date))
        )
        candidates = [
            vote
            for vote in votes.distinct().order_by("-date", "-pk")[: LIMIT * 2]
            if listing in _listed(vote.codes, "assistance_listing") and vote.pk not in seen
        ]
        for vote in candidates[:LIMIT]:
            links.append(GrantLink(vote, f"programme {listing} to the same recipient"))
    return links
