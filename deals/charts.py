"""Bar charts drawn on the server as SVG: no JavaScript, nothing from a CDN, nothing the
Content-Security-Policy has to allow (colours come from classes in the stylesheet), and the
page stays printable and readable without scripts. Each chart is an image with a title for
screen readers; the numbers themselves are in the table beside it (templates/deals/_chart.html).
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 260
LEFT = 64  # room for the value axis
BOTTOM = 44  # room for the labels
TOP = 12
RIGHT = 8
GRID_LINES = 4


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value` (axis maximum)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def short_number(value: float) -> str:
    """12500 -> "12.5k", 3000000 -> "3M": axis ticks only (the table has exact values)."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:g}"


def _shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(labels: list[str], series: list[list[Decimal | int]], *, title: str) -> SafeString:
    """Grouped vertical bars: one group per label, one bar per series (classes chart-s0,
    chart-s1 … colour them). Negative values are drawn as zero (refunds do not appear in
    these charts)."""
    groups = max(len(labels), 1)
    values = [float(v) for bars in series for v in bars]
    top = nice_ceiling(max(values, default=0))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    group_width = plot_width / groups
    bar_width = max(min(group_width * 0.8 / max(len(series), 1), 48), 2)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
        ' xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
    ]
    for i in range(GRID_LINES + 1):
        y = TOP + plot_height - plot_height * i / GRID_LINES
        parts.append(f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        tick = short_number(top * i / GRID_LINES)
        parts.append(f'<text class="chart-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    label_limit = max(int(group_width / 7), 3)
    for g, label in enumerate(labels):
        group_x = LEFT + g * group_width
        bars_width = bar_width * len(series)
        start = group_x + (group_width - bars_width) / 2
        for s, bars in enumerate(series):
            value = max(float(bars[g]), 0.0)
            height = plot_height * value / top
            x = start + s * bar_width
            y = TOP + plot_height - height
            parts.append(
                f'<rect class="chart-s{s}" x="{x:.1f}" y="{y:.1f}" width="{bar_width - 1:.1f}" height="{height:.1f}">'
                f"<title>{escape(label)}: {escape(_plain(bars[g]))}</title></rect>"
            )
        parts.append(
            f'<text class="chart-label" x="{group_x + group_width / 2:.1f}" y="{HEIGHT - BOTTOM + 16}"'
            f' text-anchor="middle">{escape(_shorten(label, label_limit))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _plain(value: Decimal | int) -> str:
    return f"{value:,.2f}" if isinstance(value, Decimal) else f"{value:,}"
