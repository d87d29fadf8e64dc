"""Pagination: a keyset cursor for events (every ``event_search`` order), page numbers elsewhere.

The event cursor encodes the order and the last row's sort key (date or amount, and id). The
next page is "rows after that key" in the same order, with NULL dates or amounts last, so
pages never skip or repeat rows even when many events share a date or have none.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from tracker.models import Event

# order -> (sort field, descending?), matching tracker.selectors.ORDERS
ORDER_KEYS = {"newest": ("date", True), "oldest": ("date", False), "amount": ("amount", True)}
MAX_ID = 2**63 - 1
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def page_size_from(request: Request, warnings: list[str]) -> int:
    """The ``page_size`` parameter, clamped to 1..MAX_PAGE_SIZE (bad values noted in warnings)."""
    raw = request.query_params.get("page_size", "")
    if not raw:
        return DEFAULT_PAGE_SIZE
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        warnings.append(
            f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}; "
            f"using {DEFAULT_PAGE_SIZE}."
        )
        return DEFAULT_PAGE_SIZE
    return min(int(raw[:6]), MAX_PAGE_SIZE)


def cursor_encode(order: str, value: Any, pk: int) -> str:
    """An opaque cursor for "after the row with sort value ``value`` and id ``pk``"."""
    key = [order, None if value is None else str(value), pk]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def cursor_decode(cursor: str, order: str) -> tuple[Any, int]:
    """The (sort value, id) a cursor points after; ValidationError when it is not ours."""
    invalid = ValidationError({"cursor": "Invalid cursor: use the `next` link of a response."})
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        cursor_order, value, pk = json.loads(text)
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise invalid from None
    if cursor_order != order:
        raise ValidationError({"cursor": "This cursor belongs to another order; start again."})
    if type(pk) is not int or not 0 <= pk <= MAX_ID:
        raise invalid
    if not (value is None or isinstance(value, str)):
        raise invalid
    if value is None:
        return None, pk
    try:
        if ORDER_KEYS[order][0] == "date":
            return dt.date.fromisoformat(value), pk
        number = Decimal(value)
    except (ValueError, InvalidOperation):
        raise invalid from None
    if not number.is_finite() or abs(number) >= Decimal("1e16"):
        raise invalid
    return number, pk


def rows_after(events: QuerySet[Event], order: str, value: Any, pk: int) -> QuerySet[Event]:
    """The rows of ``events`` that come after (value, pk) in ``order`` (NULLs sort last)."""
    field, descending = ORDER_KEYS[order]
    beyond = "lt" if descending else "gt"
    if value is None:
        return events.filter(**{f"{field}__isnull": True, f"id__{beyond}": pk})
    return events.filter(
        Q(**{f"{field}__{beyond}": value})
        | Q(**{field: value, f"id__{beyond}": pk})
        | Q(**{f"{field}__isnull": True})
    )


class EventCursorPagination(BasePagination):
    """Keyset pagination over an ``event_search`` queryset: ``?cursor=`` from ``next``."""

    def paginate(
        self, events: QuerySet[Event], order: str, request: Request, warnings: list[str]
    ) -> list[Event]:
        """One page of ``events``; remembers the ``next`` link for the response."""
        size = page_size_from(request, warnings)
        cursor = request.query_params.get("cursor", "")
        if cursor:
            events = rows_after(events, order, *cursor_decode(cursor, order))
        page = list(events[: size + 1])
        self.next_link = None
        if len(page) > size:
            page = page[:size]
            last = page[-1]
            token = cursor_encode(order, getattr(last, ORDER_KEYS[order][0]), last.pk)
            self.next_link = replace_query_param(request.build_absolute_uri(), "cursor", token)
        return page

    def get_paginated_response(self, data: Any, warnings: list[str] | None = None) -> Response:
        return Response({"next": self.next_link, "warnings": warnings or [], "results": data})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "warnings", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "The opaque cursor from the previous response's `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": f"Events per page (default {DEFAULT_PAGE_SIZE}, "
                f"at most {MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


class EntityPagination(PageNumberPagination):
    """Numbered pages of agencies, vendors or technologies, with the filters' warnings."""

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_paginated_response(self, data: Any, warnings: list[str] | None = None) -> Response:
        response = super().get_paginated_response(data)
        response.data["warnings"] = warnings or []
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        wrapped = super().get_paginated_response_schema(schema)
        wrapped["properties"]["warnings"] = {"type": "array", "items": {"type": "string"}}
        return wrapped
