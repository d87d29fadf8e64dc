"""Formatting filters for the public pages: amounts, dates at their precision, safe links."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.safestring import SafeString, mark_safe

from tracker.selectors import CURATED_KINDS

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


def escape(value: Any) -> str:
    """What ``django.utils.html.escape`` gives, without its lazy-string wrapper (50 rows of
    about a dozen values each)."""
    return html.escape(str(value))


def _links(label: str, links: list[Any], titled: bool = False) -> str:
    if not links:
        return ""
    anchors = ", ".join(
        f'<a href="{escape(link.url)}"'
        + (f' title="{escape(link.name)}">{escape(link.short_name)}</a>' if titled else
           f">{escape(link.name)}</a>")
        for link in links
    )  # fmt: skip
    return f"<div><dt>{label}</dt><dd>{anchors}</dd></div>"


@register.simple_tag
def event_item(event: Any) -> SafeString:
    """One event of a list, ``<li class="event">``, from an event ``listed`` prepared.

    Built here rather than by including a template for each row: a page shows 50 rows, and
    the template engine's variable look-ups for them took over half the page's server time.
    Every value is escaped.
    """
    links = event.links
    date, precision = event.date, event.date_precision
    meta = [
        f'<time datetime="{escape(machine_date(date, precision))}">'
        f"{escape(at_precision(date, precision))}</time>",
        f'<span class="badge kind-{escape(event.kind)}">{escape(event.get_kind_display())}</span>',
    ]
    if event.amount is not None:
        meta.append(f'<span class="amount">{escape(money(event.amount, event.currency))}</span>')
    if event.review_state == "needs_review":
        meta.append('<span class="flag">needs review</span>')
    if not links.technologies and event.kind not in CURATED_KINDS:
        meta.append('<span class="untagged">no technology tagged</span>')
    sources = (
        f"<div><dt>Sources</dt><dd>{escape(', '.join(links.sources))}</dd></div>"
        if links.sources
        else ""
    )
    facts = (
        _links("Agencies", links.agencies, titled=True)
        + _links("Vendors", links.vendors)
        + _links("Technology", links.technologies)
        + sources
    )
    return mark_safe(  # every value above is escaped
        '<li class="event">\n  <div class="event-meta">\n    '
        + "\n    ".join(meta)
        + '\n  </div>\n  <p class="event-title">'
        + f'<a href="{escape(event.get_absolute_url())}">{escape(event.title)}</a></p>\n'
        + f'  <dl class="facts">{facts}</dl>\n</li>'
    )
