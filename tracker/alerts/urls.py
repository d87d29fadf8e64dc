"""Email alerts: subscriptions to searches and entities, digests, one-click unsubscribe."""

from django.urls import path

from tracker.alerts import views

urlpatterns = [
    path("subscribe/", views.subscribe, name="alerts-subscribe"),
    path("subscribe/sent/", views.subscribe_sent, name="alerts-subscribe-sent"),
    path("confirm/<str:token>/", views.confirm, name="alerts-confirm"),
    path("manage/", views.manage_request, name="alerts-manage-request"),
    path("manage/<str:token>/", views.manage, name="alerts-manage"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="alerts-unsubscribe"),
]
