"""Public pages: thin views over ``tracker.selectors`` and the timeline component."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, Exists, Model, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from tracker.alerts.tokens import CONFIRM_MAX_AGE
from tracker.caching import CACHE_TTL, HOME_COUNTS_KEY
from tracker.exports import (
    BOM,
    BULK_DATASETS,
    BULK_NAMES,
    DICTIONARY,
    ENTITY_DESCRIPTIONS,
    ENTITY_EXPORTS,
    EVIDENCE_SEPARATOR,
    LIST_SEPARATOR,
    entity_columns,
    parallel_groups,
)
from tracker.models import (
    RENAMED_TECHNOLOGIES,
    Agency,
    Council,
    Event,
    EventAgency,
    Technology,
    Vendor,
)
from tracker.selectors import (
    ORDERS,
    EventFilters,
    event_search,
    events_with_links,
    filters_resolve,
    relevant,
    relevant_by_kind,
)
from tracker.services.grants import grant_acceptances, related_federal_grants
from tracker.services.outcomes import event_outcome
from tracker.services.plan import query_summary
from tracker.services.scraping import source_query
from tracker.services.tag_review import tag_reasons
from tracker.stats import COUNTERPARTIES
from tracker.views.entities import (
    ancestor_map,
    identifiers,
    pretty_json,
    source_statuses,
)
from tracker.views.listing import listed
from tracker.views.timeline import (
    CONTRACT_KINDS,
    stored_counterparties,
    timeline_context,
    timeline_status,
    top_counterparties,
)

HOME_PITCH_KINDS = ("pitch", "meeting", "lobbying")
# A local agency's relationship page also lists these federal events of the vendor.
ELSEWHERE_KINDS = ("award", "modification", "pitch", "meeting", "lobbying")
ELSEWHERE_ROWS = 10
HOME_PITCHES_CHECKED = 5
LIST_PER_PAGE = 100


def home(request: HttpRequest) -> HttpResponse:
    """What Spyglass is, the latest events, counts, and recent pitches with no contract."""
    latest = listed(event_search(EventFilters())[:10])
    pitches = Event.objects.filter(relevant(), kind__in=HOME_PITCH_KINDS).order_by(
        *ORDERS["newest"]
    )
    unanswered = []
    for event in pitches[:HOME_PITCHES_CHECKED]:
        outcome = event_outcome(event)
        if outcome is not None and not outcome.has_contract:
            unanswered.append((event, outcome))
    context = {"latest": latest, "unanswered": unanswered, **cache.get_or_set(
        HOME_COUNTS_KEY, home_counts, CACHE_TTL
    )}
    return render(request, "tracker/home.html", context)


def home_counts() -> dict[str, Any]:
    """Relevant events by kind and by technology, and in all; cached, as they take a while."""
    by_kind = sorted(relevant_by_kind().items(), key=lambda item: (-item[1], item[0]))
    return {
        "by_kind": [{"kind": kind, "n": n} for kind, n in by_kind],
        "by_technology": list(
            Technology.objects.annotate(n=Count("event_links"))
            .filter(n__gt=0)
            .values("slug", "name", "n")
            .order_by("-n", "name")[:15]
        ),
        "total": sum(n for _, n in by_kind),
    }


def timeline(request: HttpRequest) -> HttpResponse:
    """Every event, filtered by the query string, newest first, 50 a page."""
    filters = filters_resolve(EventFilters.from_params(request.GET))
    context = timeline_context(request, filters, base_url=reverse("timeline"))
    return render(request, "tracker/timeline.html", context, status=timeline_status(filters))


def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One event: its parties, technologies, sources with raw payloads, and what followed."""
    event = get_object_or_404(events_with_links(Event.objects.all(), payloads=True), pk=pk)
    agency_links = list(event.agency_links.all())
    vendor_links = list(event.vendor_links.all())
    agency_chains = ancestor_map(link.agency for link in agency_links)
    vendor_chains = ancestor_map(link.vendor for link in vendor_links)
    pairs = {
        (a.agency.slug, v.vendor.slug): (a.agency, v.vendor)
        for a in agency_links
        for v in vendor_links
    }
    context = {
        "event": event,
        "agencies": [(link, agency_chains[link.agency_id]) for link in agency_links],
        "vendors": [(link, vendor_chains[link.vendor_id]) for link in vendor_links],
        "technologies": [
            (link, tag_reasons(link.evidence, link.tagged_by))
            for link in event.technology_links.all()
        ],
        "rejections": event.tag_rejections.select_related("technology").order_by(
            "technology__name"
        )
        if request.user.is_staff
        else [],
        "sources": [(source, pretty_json(source.raw)) for source in event.sources.all()],
        "pairs": list(pairs.values()),
        "outcome": event_outcome(event),
        "federal_grants": related_federal_grants(event),
        "acceptances": grant_acceptances(event),
    }
    return render(request, "tracker/event_detail.html", context)


def _entity_page(request: HttpRequest, model: type[Model], slug: str, name: str) -> HttpResponse:
    entity = get_object_or_404(model, slug=slug)
    asked = filters_resolve(EventFilters.from_params(request.GET))  # reports unknown slugs
    filters = filters_resolve(replace(asked, **{name: slug}), entities=[entity])
    context = timeline_context(request, filters, base_url=entity.get_absolute_url(), fixed=(name,))
    stored = stored_counterparties(name, entity.pk)
    if stored is None:
        everything = event_search(EventFilters(**{name: slug}, all=True, nodes=filters.nodes))
        stored = {
            other: top_counterparties(everything, model)
            for other, model in (("agency", Agency), ("vendor", Vendor))
            if other in COUNTERPARTIES[name]
        }
    counterparties = [
        (heading, other, stored[other])
        for heading, other in (("Agencies", "agency"), ("Vendors", "vendor"))
        if other in COUNTERPARTIES[name]
    ]
    context.update(
        entity=entity,
        entity_type=name,
        ancestors=entity.ancestors(),
        children=entity.children.order_by("name"),
        counterparties=counterparties,
        identifiers=identifiers(entity),
        aliases=entity.aliases.order_by("name") if name != "technology" else [],
        contract_kinds=CONTRACT_KINDS,
    )
    return render(request, "tracker/entity_detail.html", context, status=timeline_status(filters))


def agency_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """An agency, its sub-agencies and its timeline (including sub-agencies)."""
    return _entity_page(request, Agency, slug, "agency")


def vendor_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A vendor, its subsidiaries and its timeline (including subsidiaries)."""
    return _entity_page(request, Vendor, slug, "vendor")


def technology_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A technology, its narrower technologies and its timeline (including them)."""
    renamed = RENAMED_TECHNOLOGIES.get(slug)
    if renamed and not Technology.objects.filter(slug=slug).exists():
        query = request.META.get("QUERY_STRING", "")
        target = reverse("technology-detail", args=[renamed])
        return redirect(f"{target}?{query}" if query else target, permanent=True)
    return _entity_page(request, Technology, slug, "technology")


def relationship(request: HttpRequest, agency: str, vendor: str) -> HttpResponse:
    """Everything between one agency (and its sub-agencies) and one vendor (and subsidiaries)."""
    agency_obj = get_object_or_404(Agency, slug=agency)
    vendor_obj = get_object_or_404(Vendor, slug=vendor)
    asked = filters_resolve(EventFilters.from_params(request.GET))  # reports unknown slugs
    filters = filters_resolve(
        replace(asked, agency=agency, vendor=vendor, all=True), entities=[agency_obj, vendor_obj]
    )
    base_url = reverse("relationship", args=[agency, vendor])
    context = timeline_context(
        request, filters, base_url=base_url, fixed=("agency", "vendor", "all")
    )
    context.update(agency=agency_obj, vendor=vendor_obj)
    if is_local(agency_obj):
        context["elsewhere"] = vendor_elsewhere(agency_obj, vendor_obj)
    return render(request, "tracker/relationship.html", context, status=timeline_status(filters))


def is_local(agency: Agency) -> bool:
    """Whether ``agency`` is local: of the local level, or within a council's city or police."""
    if agency.level == Agency.Level.LOCAL:
        return True
    ids = [agency.pk, *(node.pk for node in agency.ancestors())]
    return Council.objects.filter(Q(jurisdiction_id__in=ids) | Q(police_id__in=ids)).exists()


def vendor_elsewhere(agency: Agency, vendor: Vendor) -> dict[str, Any]:
    """The vendor family's latest federal contracts and pitches (the timeline's search, at
    most ``ELSEWHERE_ROWS``), leaving out those that involve ``agency`` or its sub-agencies
    (the page lists them already), and the vendor timeline's URL for all of them."""
    filters = EventFilters(vendor=vendor.slug, level=Agency.Level.FEDERAL, kind=ELSEWHERE_KINDS)
    here = EventAgency.objects.filter(event=OuterRef("pk"), agency__path__startswith=agency.path)
    events = event_search(filters).exclude(Exists(here))
    rows = listed(events[: ELSEWHERE_ROWS + 1])
    query = urlencode({"level": filters.level, "kind": ",".join(filters.kind)})
    return {
        "events": rows[:ELSEWHERE_ROWS],
        "more": len(rows) > ELSEWHERE_ROWS,
        "url": f"{vendor.get_absolute_url()}?{query}",
    }


def _entity_list(request: HttpRequest, model: type[Model], title: str) -> HttpResponse:
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    entities = model.objects.select_related("parent")
    if query:
        match = Q(name__icontains=query) | Q(slug__icontains=query)
        if model is not Technology:
            match |= Q(aliases__name__icontains=query)
        entities = entities.filter(match).distinct()
    entities = entities.annotate(n=Count("event_links", distinct=True))
    page = Paginator(entities.order_by("name", "pk"), LIST_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "tracker/entity_list.html",
        {"title": title, "page_obj": page, "q": query, "list_url": request.path},
    )


def agency_list(request: HttpRequest) -> HttpResponse:
    """All agencies, alphabetically, with their event counts."""
    return _entity_list(request, Agency, "Agencies")


def vendor_list(request: HttpRequest) -> HttpResponse:
    """All vendors, alphabetically, with their event counts."""
    return _entity_list(request, Vendor, "Vendors")


def technology_list(request: HttpRequest) -> HttpResponse:
    """All technologies, alphabetically, with their event counts."""
    return _entity_list(request, Technology, "Technologies")


def about(request: HttpRequest) -> HttpResponse:
    """The sources, their freshness and what they are searched for (the rest is on /data/)."""
    scope = query_summary(source_query("usaspending", since=None, until=None))
    return render(
        request,
        "tracker/about.html",
        {"sources": source_statuses(), "scope": scope[1:-1]},  # without dates and credentials
    )


def data(request: HttpRequest) -> HttpResponse:
    """Bulk downloads, the API, every CSV column (from the exporter's own list), licences and
    how to cite, with today as the access date."""
    context = {
        "columns": DICTIONARY,
        "groups": parallel_groups(),
        "bulk": [
            (name, [file for file in BULK_NAMES if file.startswith(f"spyglass-{name}.")])
            for name in BULK_DATASETS
        ],
        "entity_files": [
            (name, [(column, ENTITY_DESCRIPTIONS[column]) for column in entity_columns(name)])
            for name in ENTITY_EXPORTS
        ],
        "list_separator": LIST_SEPARATOR,
        "evidence_separator": EVIDENCE_SEPARATOR,
        "bom": f"U+{ord(BOM):04X}",
        "site_url": settings.SITE_URL,
        "today": timezone.localdate(),
    }
    return render(request, "tracker/data.html", context)


def alert_rate_windows() -> dict[str, int]:
    """How long, in hours, the alert rate-limit counters of an address and of a client last
    (``tracker.alerts.services``: the same settings and defaults)."""
    address = getattr(settings, "ALERTS_RATE_LIMIT_ADDRESS", (5, 86400))[1]
    client = getattr(settings, "ALERTS_RATE_LIMIT_CLIENT", (20, 3600))[1]
    return {"address_hours": max(1, address // 3600), "client_hours": max(1, client // 3600)}


def privacy(request: HttpRequest) -> HttpResponse:
    """What the email alerts store about a subscriber, for how long, and how to delete it."""
    context = {
        "confirm_days": CONFIRM_MAX_AGE.days,
        "contact_url": settings.SPYGLASS_CONTACT_URL,
        **alert_rate_windows(),
    }
    return render(request, "tracker/privacy.html", context)
