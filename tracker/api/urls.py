"""The read-only JSON API: a browsable root, the endpoints, the schema and docs.

Included twice by tracker/urls.py: at /api/v1/, the canonical address that every link, the
schema and the docs use, and at /api/ (namespace ``api-alias``), which serves the same views so
that addresses published before versioning keep working. A future v2 gets its own prefix.
"""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import APIRootView, DefaultRouter

from tracker.api import views
from tracker.api.docs import ApiDocsView

VERSION = "v1"


class ApiRoot(views.ReadOnlyApi, APIRootView):
    """Spyglass API v1: who bought or was pitched which surveillance technology, from whom.

    Read-only and open (CORS) for GET. Events take the same filters as the timeline.
    /api/v1/ is the canonical address; /api/ answers the same requests (an alias, kept for
    links made before versioning), but every link in a response points to /api/v1/.
    """

    schema = None

    def get(self, request: Request, *args, **kwargs) -> Response:
        names = {**self.api_root_dict, "schema": "api-schema", "docs": "api-docs"}
        links = {key: reverse(name, request=request) for key, name in names.items()}
        return Response({"version": VERSION, **links})


class ApiSchemaView(views.ReadOnlyApi, SpectacularAPIView):
    """The OpenAPI 3 schema (YAML; ``?format=json`` for JSON)."""

    renderer_classes = SpectacularAPIView.renderer_classes
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
