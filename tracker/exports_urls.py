"""CSV twins of the timelines and the bulk downloads (included at the site root)."""

from django.urls import path

from tracker import exports_views as views

urlpatterns = [
    path("events.csv", views.events_csv, name="events-csv"),
    path("agencies/<slug:slug>/events.csv", views.agency_events_csv, name="agency-events-csv"),
    path("vendors/<slug:slug>/events.csv", views.vendor_events_csv, name="vendor-events-csv"),
    path(
        "technologies/<slug:slug>/events.csv",
        views.technology_events_csv,
        name="technology-events-csv",
    ),
    path(
        "agencies/<slug:agency>/vendors/<slug:vendor>/events.csv",
        views.agency_vendor_events_csv,
        name="agency-vendor-events-csv",
    ),
    path("downloads/", views.downloads, name="downloads"),
    path("downloads/<str:name>", views.download, name="download"),
]
