"""CSV twins of the timelines and the bulk downloads (included at the site root).

The CSV twins are ``export_limited``: a few at once per process and per client, so long
downloads never take every thread from page views. Bulk files are served from the configured
``STORAGES["bulk"]`` (``tracker.exports.bulk.bulk_download``), the escape hatch the 429 points to.
"""

from django.urls import path

from tracker.exports import views
from tracker.exports.bulk import bulk_download
from tracker.exports.limits import export_limited

urlpatterns = [
    path("events.csv", export_limited(views.events_csv), name="events-csv"),
    path(
        "agencies/<slug:slug>/events.csv",
        export_limited(views.agency_events_csv),
        name="agency-events-csv",
    ),
    path(
        "vendors/<slug:slug>/events.csv",
        export_limited(views.vendor_events_csv),
        name="vendor-events-csv",
    ),
    path(
        "technologies/<slug:slug>/events.csv",
        export_limited(views.technology_events_csv),
        name="technology-events-csv",
    ),
    path(
        "agencies/<slug:agency>/vendors/<slug:vendor>/events.csv",
        export_limited(views.agency_vendor_events_csv),
        name="agency-vendor-events-csv",
    ),
    path("downloads/", views.downloads, name="downloads"),
    path("downloads/<str:name>", bulk_download, name="download"),
]
