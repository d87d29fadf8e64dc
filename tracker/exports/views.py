"""CSV twins of the timelines (same query string, same rows) and the bulk download pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from tracker.exports.bulk import bulk_files
from tracker.exports.rows import export_rows
from tracker.models import Agency, Technology, Vendor
from tracker.selectors import BadFilter, EventFilters, parse_filters


def csv_filename(filters: EventFilters, today: dt.date) -> str:
    """A download's name: its filters and the day, so saved files say what they hold.

    ``spyglass-events-agency-ice-technology-face-recognition-2026-12-03.csv``
    """
    parts = ["spyglass-events"]
    for name in ("agency", "vendor", "technology", "level"):
        if value := getattr(filters, name):
            parts += [name, value]
    if filters.kind:
        parts += ["kind", *filters.kind]
    for name in ("since", "until"):
        if value := getattr(filters, name):
            parts += [name, value.isoformat()]
    if filters.q:
        parts += ["search", filters.q]
    parts.append(today.isoformat())
    return "-".join(slugify(part)[:60] for part in parts if slugify(part)) + ".csv"


def csv_response(filters: EventFilters) -> StreamingHttpResponse:
    """A streamed CSV download of the events ``filters`` find.

    It starts with a UTF-8 byte-order mark: people open these in spreadsheets, and Excel
    otherwise reads accented names and curly quotes as another encoding. Programs get the
    same rows from the JSON API, ``export_events`` or the bulk files.
    """
    chunks = export_rows(filters, bom=True)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    filename = csv_filename(filters, timezone.localdate())
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def bad_filter_response(error: BadFilter) -> HttpResponse:
    """The 400 answer to a filter that cannot be used: its one-line message, as plain text."""
    return HttpResponse(f"{error}\n", status=400, content_type="text/plain; charset=utf-8")


@require_safe
def events_csv(request: HttpRequest) -> HttpResponseBase:
    try:
        filters = parse_filters(request.GET)
    except BadFilter as error:
        return bad_filter_response(error)
    return csv_response(filters)


def _entity_csv(
    request: HttpRequest, *, everything: bool = False, **slugs: str
) -> HttpResponseBase:
    models = {"agency": Agency, "vendor": Vendor, "technology": Technology}
    for name, slug in slugs.items():
        get_object_or_404(models[name], slug=slug)
    try:
        filters = replace(parse_filters(request.GET), **slugs)
    except BadFilter as error:
        return bad_filter_response(error)
    if everything:
        filters = replace(filters, all=True)
    return csv_response(filters)


@require_safe
def agency_events_csv(request: HttpRequest, slug: str) -> HttpResponseBase:
    return _entity_csv(request, agency=slug)


@require_safe
def vendor_events_csv(request: HttpRequest, slug: str) -> HttpResponseBase:
    return _entity_csv(request, vendor=slug)


@require_safe
def technology_events_csv(request: HttpRequest, slug: str) -> HttpResponseBase:
    return _entity_csv(request, technology=slug)


@require_safe
def agency_vendor_events_csv(
    request: HttpRequest, agency: str, vendor: str
) -> HttpResponseBase:
    return _entity_csv(request, agency=agency, vendor=vendor, everything=True)  # as the page


@require_safe
def downloads(request: HttpRequest) -> HttpResponse:
    return render(request, "tracker/exports/downloads.html", {"files": bulk_files()})

