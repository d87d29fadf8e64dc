from django.urls import path

from tracker.views import pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("events/<int:pk>/", pages.event_detail, name="event-detail"),
    path("agencies/<slug:slug>/", pages.agency_detail, name="agency-detail"),
    path("vendors/<slug:slug>/", pages.vendor_detail, name="vendor-detail"),
    path("technologies/<slug:slug>/", pages.technology_detail, name="technology-detail"),
]
