"""Server-side inline SVG bar charts: accessible, labelled with their values, no JavaScript."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 640
LABEL_WIDTH = 90
VALUE_WIDTH = 150
ROW_HEIGHT = 28
BAR_HEIGHT = 18
_ids = count(1)


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    value_label: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> SafeString:
    """A horizontal bar chart as inline SVG; each bar carries a <title> and its value as text."""
    if not rows:
        return SafeString("")
    chart_id = f"chart-{next(_ids)}"
    largest = max((value for _, value in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = ROW_HEIGHT * len(rows) + 8
    bars = []
    for index, (label, value) in enumerate(rows):
        y = 4 + index * ROW_HEIGHT
        length = max(0.0, value) / largest * span
        text = value_label(value)
        bars.append(
            (
                label,
                text,
                LABEL_WIDTH,
                y,
                f"{length:.1f}",
                BAR_HEIGHT,
                LABEL_WIDTH + length + 6,
                y + BAR_HEIGHT - 4,
                text,
                LABEL_WIDTH - 8,
                y + BAR_HEIGHT - 4,
                label,
            )
        )
    description = "; ".join(f"{label}: {value_label(value)}" for label, value in rows)
    body = format_html_join(
        "",
        '<g class="bar"><title>{}: {}</title>'
        '<rect x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
        '<text class="value" x="{}" y="{}">{}</text>'
        '<text class="label" x="{}" y="{}" text-anchor="end">{}</text></g>',
        bars,
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{}-t {}-d" '
        'preserveAspectRatio="xMinYMin meet" focusable="false">'
        '<title id="{}-t">{}</title><desc id="{}-d">{}</desc>{}</svg>',
        WIDTH,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        body,
    )
