"""The read-only JSON API under /api/: a browsable root, the endpoints, the schema and docs."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import APIRootView, DefaultRouter

from tracker.api import views
from tracker.api.docs import ApiDocsView


class ApiRoot(views.ReadOnlyApi, APIRootView):
    """Spyglass API: who bought or was pitched which surveillance technology, from whom.

    Read-only and open (CORS) for GET. Events take the same filters as the timeline.
    """

    schema = None

    def get(self, request: Request, *args, **kwargs) -> Response:
        response = super().get(request, *args, **kwargs)
        for name in ("api-schema", "api-docs"):
            response.data[name.removeprefix("api-")] = reverse(name, request=request)
        return response


class ApiSchemaView(views.ReadOnlyApi, SpectacularAPIView):
    """The OpenAPI 3 schema (YAML; ``?format=json`` for JSON)."""

    renderer_classes = SpectacularAPIView.renderer_classes
    custom_settings = views.SCHEMA_SETTINGS
    schema = None


class Router(DefaultRouter):
    APIRootView = ApiRoot
    include_format_suffixes = False


router = Router()
router.register("events", views.EventViewSet, basename="api-event")
router.register("agencies", views.AgencyViewSet, basename="api-agency")
router.register("vendors", views.VendorViewSet, basename="api-vendor")
router.register("technologies", views.TechnologyViewSet, basename="api-technology")
router.register("sources", views.SourceViewSet, basename="api-source")
router.root_view_name = "api-root"

urlpatterns = [
    *router.urls,
    path("schema/", ApiSchemaView.as_view(), name="api-schema"),
    path("docs/", ApiDocsView.as_view(), name="api-docs"),
    re_path(r"^(?P<path>[\s\S]*/)$", views.not_found),
]
