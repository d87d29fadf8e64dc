"""How the API documents itself: parameters, responses (errors too) and the canonical paths.

``SPECTACULAR_SETTINGS`` (tracker/settings.py) names ``canonical_only`` as a preprocessing hook,
so the schema and the docs page describe /api/v1/ only; /api/ serves the same views as an alias.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from tracker.api import serializers as out
from tracker.api.query import API_ORDERS
from tracker.models import Agency, Event

CANONICAL_PREFIX = "/api/v1/"

FILTER_PARAMETERS = [
    OpenApiParameter("agency", str, description="Agency slug; includes its sub-agencies."),
    OpenApiParameter("vendor", str, description="Vendor slug; includes its subsidiaries."),
    OpenApiParameter("technology", str, description="Technology slug; includes narrower ones."),
    OpenApiParameter(
        "kind",
        str,
        many=True,
        enum=Event.Kind.values,
        description="Event kind; repeat or comma-separate for several.",
    ),
    OpenApiParameter("since", OpenApiTypes.DATE, description="On or after (YYYY-MM-DD)."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="On or before (YYYY-MM-DD)."),
    OpenApiParameter("amount_min", OpenApiTypes.DECIMAL, description="Smallest amount."),
    OpenApiParameter("amount_max", OpenApiTypes.DECIMAL, description="Largest amount."),
    OpenApiParameter("level", str, enum=Agency.Level.values, description="Agency level."),
    OpenApiParameter("q", str, description="Words that must all appear in the text."),
    OpenApiParameter(
        "order",
        str,
        enum=list(API_ORDERS),
        description="newest (default), oldest, amount (largest first), or updated (least "
        "recently changed first, by updated_at then id: the stable order for a sync).",
    ),
    OpenApiParameter(
        "all",
        str,
        enum=["1"],
        description="1: also events with no technology tagged and not a pitch, meeting, report "
        "or FOIA (left out by default).",
    ),
    OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description="Only events created or changed at or after this moment (ISO 8601: "
        "YYYY-MM-DD for midnight UTC, or YYYY-MM-DDTHH:MM:SSZ; no offset means UTC). For an "
        "incremental sync, with order=updated.",
    ),
]


class ErrorSerializer(serializers.Serializer):
    """Why a request was refused, in one line."""

    detail = serializers.CharField()

    class Meta:
        ref_name = "Error"


BAD_FILTER = OpenApiResponse(
    ErrorSerializer, description="A filter or cursor that cannot be used (one line in detail)."
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such object (or page).")
THROTTLED = OpenApiResponse(
    ErrorSerializer, description="Over the rate limit; retry after Retry-After seconds."
)


class ApiSchema(AutoSchema):
    """The view's own response as 200, and the errors it can answer with."""

    def errors(self) -> dict[str, OpenApiResponse]:
        if getattr(self.view, "action", None) == "retrieve":
            return {"404": NOT_FOUND, "429": THROTTLED}
        return {"429": THROTTLED}

    def ok(self) -> Any:
        return super().get_response_serializers()

    def get_response_serializers(self) -> dict[str, Any]:
        return {"200": self.ok(), **self.errors()}


class EventSchema(ApiSchema):
    """Documents the timeline filters on the list and the detail's extra fields."""

    def get_override_parameters(self) -> list:
        return FILTER_PARAMETERS if self.view.action == "list" else []

    def ok(self) -> Any:
        if self.view.action == "retrieve":
            return out.EventDetailSerializer
        return super().ok()

    def errors(self) -> dict[str, OpenApiResponse]:
        if self.view.action == "list":
            return {"400": BAD_FILTER, "429": THROTTLED}
        return super().errors()


class EntitySchema(ApiSchema):
    """Documents the entity list filters (and the 404 for a page past the end)."""

    def get_override_parameters(self) -> list:
        if self.view.action != "list":
            return []
        parameters = [
            OpenApiParameter("parent", str, description="Only the direct children of this slug."),
            OpenApiParameter("q", str, description="Part of the name (or of an alias)."),
        ]
        if self.view.queryset.model is Agency:
            parameters.append(
                OpenApiParameter("level", str, enum=Agency.Level.values, description="Level.")
            )
        return parameters

    def errors(self) -> dict[str, OpenApiResponse]:
        return {"404": NOT_FOUND, "429": THROTTLED}


class SourceSchema(ApiSchema):
    def ok(self) -> Any:
        return out.SourceListSerializer


def canonical_only(endpoints: list[tuple[str, str, str, Any]]) -> list[tuple[str, str, str, Any]]:
    """Preprocessing hook: only the /api/v1/ endpoints (the /api/ alias stays undocumented)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(CANONICAL_PREFIX)]


def nullable_refs_inlined(result: dict, **kwargs: Any) -> dict:
    """Postprocessing hook: ``{"allOf": [$ref], "nullable": true}`` becomes the object itself.

    OpenAPI 3.0.3 says ``nullable`` only adds null to an explicit ``type`` in the same schema,
    so strict validators refuse null for a nullable reference (a top-level agency's
    ``parent``, a source's ``last_run``). Inlining the referenced object makes it explicit.
    """
    components = result.get("components", {}).get("schemas", {})

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        refs = node.get("allOf", [])
        if node.get("nullable") and "type" not in node and len(refs) == 1 and "$ref" in refs[0]:
            target = components[refs[0]["$ref"].rsplit("/", 1)[-1]]
            rest = {key: value for key, value in node.items() if key != "allOf"}
            return visit({**target, **rest})
        return {key: visit(value) for key, value in node.items()}

    return visit(result)
