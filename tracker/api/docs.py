"""A plain HTML reference of the API, rendered on the server from the OpenAPI schema.

Swagger UI and ReDoc load their scripts from CDNs; this page needs no JavaScript and no
third-party assets, and stays in step with the schema because it is generated from it.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.generators import SchemaGenerator
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker.api.views import ReadOnlyApi

METHODS = ("get", "head", "options")


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    text = schema.get("type", "object")
    if schema.get("format"):
        text += f" ({schema['format']})"
    if schema.get("enum"):
        text += ": " + ", ".join(str(value) for value in schema["enum"] if value not in ("", None))
    if schema.get("nullable"):
        text += " or null"
    return text


def api_reference(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema reduced to what the docs page lists: operations and object shapes."""
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": operation.get("operationId", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _type(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "responses": sorted(operation.get("responses", {})),
                }
            )
    shapes = []
    for name, component in sorted(schema.get("components", {}).get("schemas", {}).items()):
        fields = [
            {"name": field, "type": _type(spec), "description": spec.get("description", "")}
            for field, spec in component.get("properties", {}).items()
        ]
        shapes.append(
            {"name": name, "description": component.get("description", ""), "fields": fields}
        )
    return {"info": schema.get("info", {}), "operations": operations, "shapes": shapes}


class ApiDocsView(ReadOnlyApi, APIView):
    """The API reference as an accessible HTML page (no scripts, nothing from a CDN)."""

    renderer_classes = (TemplateHTMLRenderer,)
    schema = None

    def get(self, request: Request) -> Response:
        generated = SchemaGenerator().get_schema(request=None, public=True)
        return Response(api_reference(generated), template_name="tracker/api/docs.html")
