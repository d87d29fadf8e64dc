"""URL map: public pages, exports, the JSON API, alerts and the admin."""

from django.contrib import admin
from django.urls import include, path

from tracker.security import admin_login_rate_limit
from tracker.views.health import healthz

admin_login_rate_limit(admin.site)

urlpatterns = [
    path("", include("tracker.views.urls")),
    path("", include("tracker.exports.urls")),
    # The JSON API: /api/v1/ is canonical; /api/ serves the same views as an alias.
    path("api/v1/", include("tracker.api.urls")),
    path("api/", include(("tracker.api.urls", "api"), namespace="api-alias")),
    path("alerts/", include("tracker.alerts.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
