"""Public page URLs (mounted at the site root)."""

from django.contrib.sitemaps import views as sitemaps
from django.urls import path

from tracker.views import pages, tag_review
from tracker.views.feeds import EventsFeed
from tracker.views.sitemaps import SITEMAPS

urlpatterns = [
    path("", pages.home, name="home"),
    path("events/", pages.timeline, name="timeline"),
    path("events/feed/", EventsFeed(), name="timeline-feed"),
    path("events/<int:pk>/", pages.event_detail, name="event-detail"),
    path(
        "events/<int:pk>/technologies/<int:technology>/confirm/",
        tag_review.confirm,
        name="tag-confirm",
    ),
    path(
        "events/<int:pk>/technologies/<int:technology>/reject/",
        tag_review.reject,
        name="tag-reject",
    ),
    path(
        "events/<int:pk>/technologies/<int:technology>/unreject/",
        tag_review.unreject,
        name="tag-unreject",
    ),
    path("agencies/", pages.agency_list, name="agency-list"),
    path("agencies/<slug:agency>/vendors/<slug:vendor>/", pages.relationship, name="relationship"),
    path("agencies/<slug:slug>/", pages.agency_detail, name="agency-detail"),
    path("vendors/", pages.vendor_list, name="vendor-list"),
    path("vendors/<slug:slug>/", pages.vendor_detail, name="vendor-detail"),
    path("technologies/", pages.technology_list, name="technology-list"),
    path("technologies/<slug:slug>/", pages.technology_detail, name="technology-detail"),
    path("about/", pages.about, name="about"),
    path("data/", pages.data, name="data"),
    path("privacy/", pages.privacy, name="privacy"),
    path(
        "sitemap.xml",
        sitemaps.index,
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        sitemaps.sitemap,
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
]
