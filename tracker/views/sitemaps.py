"""The sitemap index and its sections: static pages, events, agencies, vendors, technologies."""

from __future__ import annotations

import datetime as dt

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from tracker.models import Agency, Event, Technology, Vendor


class StaticSitemap(Sitemap):
    changefreq = "daily"

    def items(self) -> list[str]:
        return ["home", "timeline", "about", "agency-list", "vendor-list", "technology-list"]

    def location(self, item: str) -> str:
        return reverse(item)


class EventSitemap(Sitemap):
    changefreq = "weekly"

    def items(self) -> QuerySet[Event]:
        return Event.objects.only("id", "updated_at").order_by("id")

    def lastmod(self, item: Event) -> dt.datetime:
        return item.updated_at


class EntitySitemap(Sitemap):
    changefreq = "weekly"
    model: type = Agency

    def items(self) -> QuerySet:
        return self.model.objects.only("id", "slug").order_by("id")


class AgencySitemap(EntitySitemap):
    model = Agency


class VendorSitemap(EntitySitemap):
    model = Vendor


class TechnologySitemap(EntitySitemap):
    model = Technology


SITEMAPS = {
    "pages": StaticSitemap,
    "events": EventSitemap,
    "agencies": AgencySitemap,
    "vendors": VendorSitemap,
    "technologies": TechnologySitemap,
}
