"""Lenient readers of untyped JSON values, shared by the sources: never raise, default empty.

A source reads a field with these when a wrong type or a missing value should count as
absent (the record keeps what the other fields say), not as a bad row.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def as_text(value: Any) -> str:
    """Return a scalar as stripped text without NULs ("" for null, objects and lists)."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return ""
    return str(value).replace("\x00", "").strip()


def as_dict(value: Any) -> dict[str, Any]:
    """Return ``value`` if it is an object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """Return ``value`` if it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def as_amount(value: Any) -> Decimal | None:
    """Return an amount ("5000000.00", "$1,200.50" or a number) as Decimal, else None."""
    try:
        amount = Decimal(as_text(value).replace(",", "").replace("$", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None
