"""Server-drawn SVG bar charts (issue 21, decision 0019).

No JavaScript and no CDN: the chart is an inline ``<svg>`` with presentation attributes
only (``fill=``, ``x=`` …, never ``style=``, which the Content-Security-Policy forbids),
so it prints as drawn and needs nothing from the network. Each chart carries its own data
table (``includes/chart.html`` shows it in a ``<details>`` beside the picture, and in
full on paper) for screen readers.

The numbers come from the pages' existing selectors (reports/figures.py, the monitoring
overview, the evaluation campaign, the deadline board): this module only draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .units import half_up

#: Fills that keep ≥ 3:1 against white and tell apart in greyscale print as well.
RED = "#c0392b"
AMBER = "#d4a017"
GREEN = "#2f7d4f"
BLUE = "#2b6cb0"
GREY = "#8a949e"
BRAND = "#1d4f7c"
TEAL = "#2a8c8c"
PALETTE = [BRAND, TEAL, AMBER, RED, GREY, GREEN]

WIDTH = 720
LABEL_W = 170
VALUE_W = 70
LEGEND_H = 26
AXIS_H = 22
BAR_H = 16
GAP = 10
MAX_LABEL = 12


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: list
    fill: str


@dataclass
class Chart:
    """A horizontal bar chart: one row per category, one bar (or segment) per series."""

    chart_id: str
    title: str
    categories: list[str]
    series: list[Series]
    unit: str = ""
    stacked: bool = True
    #: values are percentages (0–100): the axis ends at 100
    percent: bool = False
    total_label: str = ""
    #: the heading of the data table's first column (部门, 等次 …)
    category_label: str = ""
    svg: SafeString = field(init=False)

    def __post_init__(self) -> None:
        self.svg = render_svg(self)

    @property
    def empty(self) -> bool:
        return not self.categories

    @property
    def rows(self) -> list[tuple[str, list[str], str | None]]:
        """(category, [value per series], total or None) for the data table."""
        out: list[tuple[str, list[str], str | None]] = []
        for i, name in enumerate(self.categories):
            values = [s.values[i] for s in self.series]
            total = sum((_num(v) for v in values), Decimal(0)) if self.stacked and len(self.series) > 1 else None
            out.append((name, [_shown(v) for v in values], _shown(total) if total is not None else None))
        return out

    @property
    def show_total(self) -> bool:
        return self.stacked and len(self.series) > 1


def _num(value) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    d = _num(value)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return f"{half_up(d):,}"  # processes.units: half-up, as every figure


def _nice_max(value: Decimal, *, whole: bool = False) -> Decimal:
    """The axis end: 1, 2, 2.5 or 5 times a power of ten, at least ``value`` (2.5 is skipped
    when the values are whole numbers and it would not be one)."""
    if value <= 0:
        return Decimal(1)
    exp = len(str(int(value))) - 1 if value >= 1 else 0
    base = Decimal(10) ** exp
    for step in (1, 2, Decimal("2.5"), 5, 10):
        end = base * step
        if whole and end != end.to_integral_value():
            continue
        if value <= end:
            return end
    return base * 10  # pragma: no cover


def _intervals(top: Decimal, whole: bool) -> int:
    """How many gridline intervals the axis gets: 4 or 5 (2, or 1, for small whole counts),
    so that every tick is a round number."""
    for n in (4, 5, 2, 1):
        step = top / n
        if whole and step != step.to_integral_value():
            continue
        if step == step.quantize(Decimal("0.01")):
            return n
    return 4  # pragma: no cover


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def render_svg(chart: Chart) -> SafeString:
    if chart.empty:
        return mark_safe("")
    per_row = BAR_H if chart.stacked else BAR_H * len(chart.series)
    row_h = per_row + GAP
    plot_h = row_h * len(chart.categories)
    height = LEGEND_H + plot_h + AXIS_H
    plot_w = WIDTH - LABEL_W - VALUE_W
    whole = all(_num(v) == _num(v).to_integral_value() for s in chart.series for v in s.values)
    if chart.percent:
        top = Decimal(100)
    elif chart.stacked:
        top = _nice_max(
            max(sum((_num(s.values[i]) for s in chart.series), Decimal(0)) for i in range(len(chart.categories))),
            whole=whole,
        )
    else:
        top = _nice_max(max(_num(v) for s in chart.series for v in s.values), whole=whole)
    intervals = _intervals(top, whole)

    def x(value) -> float:
        return round(float(_num(value) / top) * plot_w, 1)

    title_id = f"{chart.chart_id}-title"
    out = [
        f'<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{title_id}" data-chart="{escape(chart.chart_id)}">',
        f'<title id="{title_id}">{escape(chart.title)}</title>',
    ]
    # legend
    lx = LABEL_W
    for s in chart.series:
        out.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{s.fill}"/>')
        out.append(f'<text x="{lx + 16}" y="16" font-size="12" fill="#1f2933">{escape(s.label)}</text>')
        lx += 28 + 13 * len(s.label)
    # grid and axis
    axis_y = LEGEND_H + plot_h
    for k in range(intervals + 1):
        tick = top * k / intervals
        tx = LABEL_W + x(tick)
        out.append(f'<line x1="{tx}" y1="{LEGEND_H}" x2="{tx}" y2="{axis_y}" stroke="#d9dee4" stroke-width="1"/>')
        label = _shown(tick) + ("%" if chart.percent else "")
        out.append(
            f'<text x="{tx}" y="{axis_y + 15}" font-size="11" text-anchor="middle" fill="#52606d">{label}</text>'
        )
    if chart.unit:
        out.append(
            f'<text x="{WIDTH - 4}" y="{axis_y + 15}" font-size="11" text-anchor="end" fill="#52606d">'
            f"{escape(chart.unit)}</text>"
        )
    # bars
    for i, name in enumerate(chart.categories):
        y0 = LEGEND_H + i * row_h + GAP / 2
        out.append(
            f'<text x="{LABEL_W - 8}" y="{y0 + per_row / 2 + 4}" font-size="12" text-anchor="end" fill="#1f2933">'
            f"<title>{escape(name)}</title>{escape(_short(name))}</text>"
        )
        cursor = 0.0
        for j, s in enumerate(chart.series):
            value = s.values[i]
            w = x(value)
            if chart.stacked:
                bx, by = LABEL_W + cursor, y0
                cursor += w
            else:
                bx, by = LABEL_W, y0 + j * BAR_H
            if w > 0:
                out.append(
                    f'<rect x="{bx}" y="{by}" width="{w}" height="{BAR_H - 2}" fill="{s.fill}">'
                    f"<title>{escape(name)} · {escape(s.label)}：{_shown(value)}</title></rect>"
                )
            if not chart.stacked:
                out.append(
                    f'<text x="{LABEL_W + w + 4}" y="{by + BAR_H - 5}" font-size="11" fill="#1f2933">'
                    f"{_shown(value)}{'%' if chart.percent else ''}</text>"
                )
        if chart.stacked:
            total = sum((_num(s.values[i]) for s in chart.series), Decimal(0))
            out.append(
                f'<text x="{LABEL_W + cursor + 4}" y="{y0 + BAR_H - 5}" font-size="11" fill="#1f2933">'
                f"{_shown(total)}{'%' if chart.percent else ''}</text>"
            )
    out.append("</svg>")
    return mark_safe("".join(out))  # every text is escaped above
