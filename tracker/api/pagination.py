"""Pagination: a keyset cursor for events (every order), page numbers elsewhere.

The event cursor encodes the order, the direction and one row's sort key (date, amount or
``updated_at``, and id). ``next`` asks for the rows after the page's last row, ``previous`` for
those before its first, in the same order with NULL dates or amounts last, so pages never skip
or repeat rows even when many events share a date or have none. Event lists are counted the
way the timeline counts them: up to ``COUNT_CAP``, and not at all for a broad entity filter.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ParseError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from tracker.models import Event
from tracker.selectors import COUNT_CAP, capped_count

# order -> (sort field, descending?), matching tracker.selectors.ORDERS and order=updated
ORDER_KEYS = {
    "newest": ("date", True),
    "oldest": ("date", False),
    "amount": ("amount", True),
    "updated": ("updated_at", False),
}
BEFORE = "before"
MAX_ID = 2**63 - 1
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
NULLABLE_LINK = {"type": "string", "format": "uri", "nullable": True}


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


def cursor_encode(order: str, value: Any, pk: int, *, backwards: bool = False) -> str:
    """An opaque cursor for the rows after (or ``backwards``: before) ``value`` and ``pk``."""
    text = value.isoformat() if isinstance(value, dt.date) else value
    key = [order, None if text is None else str(text), pk, *([BEFORE] if backwards else [])]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def cursor_decode(cursor: str, order: str) -> tuple[Any, int, bool]:
    """The (sort value, id, backwards?) of a cursor; ParseError when it is not ours."""
    invalid = ParseError("Invalid cursor: use the `next` or `previous` link of a response.")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        cursor_order, value, pk, *direction = json.loads(text)
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise invalid from None
    if cursor_order != order:
        raise ParseError("This cursor belongs to another order; start again.")
    if type(pk) is not int or not 0 <= pk <= MAX_ID or direction not in ([], [BEFORE]):
        raise invalid
    if not (value is None or isinstance(value, str)):
        raise invalid
    backwards = direction == [BEFORE]
    if value is None:
        return None, pk, backwards
    field = ORDER_KEYS[order][0]
    try:
        if field == "date":
            return dt.date.fromisoformat(value), pk, backwards
        if field == "updated_at":
            moment = dt.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise invalid
            return moment, pk, backwards
        number = Decimal(value)
    except (ValueError, InvalidOperation, OverflowError):
        raise invalid from None
    if not number.is_finite() or abs(number) >= Decimal("1e16"):
        raise invalid
    return number, pk, backwards


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


def rows_before(events: QuerySet[Event], order: str, value: Any, pk: int) -> QuerySet[Event]:
    """The rows of ``events`` that come before (value, pk) in ``order`` (NULLs sort last)."""
    field, descending = ORDER_KEYS[order]
    ahead = "gt" if descending else "lt"
    if value is None:
        return events.filter(
            Q(**{f"{field}__isnull": False}) | Q(**{f"{field}__isnull": True, f"id__{ahead}": pk})
        )
    return events.filter(
        Q(**{f"{field}__{ahead}": value}) | Q(**{field: value, f"id__{ahead}": pk})
    )


class EventCursorPagination(BasePagination):
    """Keyset pagination over an event queryset: ``?cursor=`` from ``next`` or ``previous``."""

    def paginate(
        self,
        events: QuerySet[Event],
        order: str,
        request: Request,
        warnings: list[str],
        *,
        counted: bool,
    ) -> list[Event]:
        """One page of ``events`` (already in ``order``); remembers the count and the links.

        ``counted``: count the whole list (up to ``COUNT_CAP``), as the timeline does when
        that is affordable; otherwise ``count`` is known only when the list fits on one page.
        """
        size = page_size_from(request, warnings)
        self.count, self.count_capped = None, False
        if counted:
            self.count, self.count_capped = capped_count(events)
        cursor = request.query_params.get("cursor", "")
        backwards = False
        if cursor:
            value, pk, backwards = cursor_decode(cursor, order)
            events = (rows_before if backwards else rows_after)(events, order, value, pk)
        page = list((events.reverse() if backwards else events)[: size + 1])
        more = len(page) > size
        page = page[:size]
        if backwards:
            page.reverse()
        if not cursor and not more:
            self.count = len(page)
        url = request.build_absolute_uri()
        field = ORDER_KEYS[order][0]
        self.next_link = self.previous_link = None
        if page and (backwards or more):
            last = page[-1]
            token = cursor_encode(order, getattr(last, field), last.pk)
            self.next_link = replace_query_param(url, "cursor", token)
        if page and (more if backwards else bool(cursor)):
            first = page[0]
            token = cursor_encode(order, getattr(first, field), first.pk, backwards=True)
            self.previous_link = replace_query_param(url, "cursor", token)
        return page

    def get_paginated_response(self, data: Any, warnings: list[str] | None = None) -> Response:
        return Response(
            {
                "count": self.count,
                "count_capped": self.count_capped,
                "next": self.next_link,
                "previous": self.previous_link,
                "warnings": warnings or [],
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["count", "count_capped", "next", "previous", "warnings", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "nullable": True,
                    "minimum": 0,
                    "maximum": COUNT_CAP,
                    "description": f"Events matching the query, counted up to {COUNT_CAP:,} "
                    "(see count_capped), as on the timeline. Null when the list is not counted "
                    "(a broad agency, vendor or technology filter) and does not fit on one page.",
                },
                "count_capped": {
                    "type": "boolean",
                    "description": f"True when more than {COUNT_CAP:,} events match: count "
                    "is then the cap, not the total.",
                },
                "next": {**NULLABLE_LINK, "description": "The next page; null on the last."},
                "previous": {
                    **NULLABLE_LINK,
                    "description": "The previous page; null on the first.",
                },
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
                "description": "The opaque cursor from a response's `next` or `previous` link.",
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
