"""The site's URLs plus the CSV and download routes, until the lead includes them."""

from django.urls import include, path

urlpatterns = [
    path("", include("tracker.exports.urls")),
    path("", include("tracker.urls")),
]
