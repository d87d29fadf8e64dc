"""Formatting filters for the public pages: amounts, dates at their precision, safe links."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$"}
REVIEW_LABELS = {
    "auto": "automatic — not yet checked by a curator",
    "needs_review": "needs review",
    "verified": "verified",
}


@register.filter
def money(amount: Decimal | float | None, currency: str = "USD") -> str:
    """``$1,234,567`` (cents only when present; other currencies get their code)."""
    if amount is None:
        return ""
    value = Decimal(amount)
    sign = "-" if value < 0 else ""
    value = abs(value)
    digits = f"{value:.2f}" if value != value.to_integral_value() else f"{value:.0f}"
    number = intcomma(digits, use_l10n=False)
    code = (currency or "USD").upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code}"


@register.filter
def at_precision(date: dt.date | None, precision: str = "day") -> str:
    """The date as precisely as it is known: "June 2018", "2018" or "June 1, 2018"."""
    if date is None:
        return "undated"
    if precision == "year":
        return str(date.year)
    if precision == "month":
        return f"{date:%B} {date.year}"
    return f"{date:%B} {date.day}, {date.year}"


@register.filter
def machine_date(date: dt.date | None, precision: str = "day") -> str:
    """The HTML ``datetime`` attribute value at the date's precision (2018, 2018-06, 2018-06-01)."""
    if date is None:
        return ""
    if precision == "year":
        return f"{date.year:04d}"
    if precision == "month":
        return f"{date.year:04d}-{date.month:02d}"
    return date.isoformat()


@register.filter
def http_url(url: str | None) -> str:
    """The URL if it is an absolute http(s) link, else "" (never link ``javascript:`` etc.)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


@register.filter
def review_label(state: str) -> str:
    """What a review state means to a reader."""
    return REVIEW_LABELS.get(state, state)


@register.simple_tag
def heading(level: int, offset: int = 0) -> str:
    """A heading tag name ("h2"…"h6") for nesting a component at any depth."""
    return f"h{min(6, max(1, int(level) + offset))}"
