"""The Atom feed of any filtered timeline: same query string, same search, newest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from tracker.exports.views import bad_filter_response
from tracker.models import Event
from tracker.selectors import BadFilter, EventFilters, event_search, parse_filters
from tracker.templatetags.spyglass import at_precision, money
from tracker.views.listing import listed
from tracker.views.timeline import CHIP_NAMES, query_string

FEED_SIZE = 50


class EventsFeed(Feed):
    """Events matching the query string; the title names the filters."""

    feed_type = Atom1Feed
    author_name = "Spyglass"  # RFC 4287: a feed without entry authors needs a feed author

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """The feed, or a 400 naming the filter that cannot be used (see ``parse_filters``)."""
        try:
            return super().__call__(request, *args, **kwargs)
        except BadFilter as error:
            return bad_filter_response(error)

    def get_object(self, request: HttpRequest, *args, **kwargs) -> EventFilters:
        return replace(parse_filters(request.GET), order="newest")

    def title(self, filters: EventFilters) -> str:
        parts = []
        for name, value in filters.to_params().items():
            if name == "all":
                parts.append("including events with no technology tagged")
                continue
            shown = ", ".join(value) if isinstance(value, list) else value
            parts.append(f"{CHIP_NAMES[name].lower()} {shown}")
        return "Spyglass: events" + (f" ({'; '.join(parts)})" if parts else "")

    def subtitle(self, filters: EventFilters) -> str:
        return "Government surveillance-technology procurement events tracked by Spyglass."

    def link(self, filters: EventFilters) -> str:
        query = query_string(filters)
        return reverse("timeline") + (f"?{query}" if query else "")

    def items(self, filters: EventFilters) -> list[Event]:
        return listed(event_search(filters)[:FEED_SIZE], "summary", "updated_at", "created_at")

    def item_title(self, item: Event) -> str:
        return f"{item.get_kind_display()}: {item.title}"

    def item_description(self, item: Event) -> str:
        # Atom marks summaries type="html": escape scraped text so readers show it as text.
        facts = [at_precision(item.date, item.date_precision)]
        if item.amount is not None:
            facts.append(money(item.amount, item.currency))
        facts += [agency.short_name for agency in item.links.agencies]
        facts += [vendor.name for vendor in item.links.vendors]
        return escape(" · ".join(facts) + (f" — {item.summary}" if item.summary else ""))

    def item_updateddate(self, item: Event) -> dt.datetime:
        return item.updated_at

    def item_pubdate(self, item: Event) -> dt.datetime:
        return item.created_at

    def item_categories(self, item: Event) -> list[str]:
        return [item.kind, *(tech.name for tech in item.links.technologies)]
