"""Home, timeline and entity pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from tracker.models import Agency, Event, Technology, Vendor
from tracker.selectors import EventFilters, event_search


def home(request: HttpRequest) -> HttpResponse:
    events = event_search(EventFilters()).prefetch_related("agencies", "vendors", "technologies")
    return render(request, "tracker/home.html", {"events": events[:20]})


def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(Event, pk=pk)
    return render(request, "tracker/event_detail.html", {"event": event})


def _entity(request: HttpRequest, model: type, slug: str, name: str) -> HttpResponse:
    entity = get_object_or_404(model, slug=slug)
    events = event_search(EventFilters(**{name: slug}))
    return render(request, "tracker/entity_detail.html", {"entity": entity, "events": events[:50]})


def agency_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _entity(request, Agency, slug, "agency")


def vendor_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _entity(request, Vendor, slug, "vendor")


def technology_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _entity(request, Technology, slug, "technology")
