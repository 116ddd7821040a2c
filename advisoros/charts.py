"""Charts drawn on the server as inline SVG, each with its figures as a table.

Why drawn here and not by a script: the pages' Content-Security-Policy allows
no inline script and no `style` attribute, an htmx swap must redraw a chart
without a script running, and WeasyPrint prints inline SVG as it is. A chart
is SVG elements whose look is set by presentation attributes (`fill=`,
`stroke=`, `width=`, `font-size=`), which are not CSS and pass the policy.

Accessibility (WCAG 2.1 AA):
- the `<svg>` is `role="img"`, labelled by its `<title>` and described by a
  `<desc>` that says where the figures are;
- every chart carries its figures as a real `<table>` in a `<details>` under
  it ("Show the figures"), so a screen reader or a keyboard user reads the
  numbers, not the shapes;
- the palette's colours each have a contrast of at least 4.5:1 against white
  (well over the 3:1 that graphical objects need, WCAG 1.4.11), neighbouring
  stacked segments are parted by a white line, and a legend names each colour
  in text, so colour is never the only cue;
- every bar and point has a `<title>` (its category, series and value), which
  browsers show on hover.

Bars run across (categories down the left): names of clients and partners
need the room, and a phone shows them without turning its head. Time series
use `line_chart`, categories along the bottom.

Everything is built with `format_html`, so a label typed by a person (a
client's name) is escaped like any template variable; the output is
well-formed XML (tests/test_charts.py parses it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

Number = Decimal | int | float
Formatter = Callable[[Number], str]

# Tailwind's 700s (and one 600): each at least 4.5:1 on white, distinct in hue.
PALETTE = (
    "#1d4ed8",  # blue    6.7:1
    "#b45309",  # amber   5.0:1
    "#047857",  # green   5.5:1
    "#7e22ce",  # purple  7.0:1
    "#be185d",  # pink    6.0:1
    "#0e7490",  # cyan    5.4:1
    "#4d7c0f",  # lime    5.0:1
    "#b91c1c",  # red     6.5:1
    "#4b5563",  # grey    7.6:1
)
INK = "#111827"
MUTED = "#4b5563"  # axis text: 7.6:1 on white
GRID = "#e5e7eb"
AXIS = "#6b7280"
WIDTH = 640
LABEL_CHARS = 24  # a category label longer than this is cut (full text on hover)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Number]
    color: str = ""  # a PALETTE colour by position when empty


def format_number(value: Number) -> str:
    """1234.5 -> "1,234.50"; whole numbers without decimals."""
    value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if value == value.to_integral_value():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_compact(value: Number) -> str:
    """An axis tick: 1500 -> "1.5k", 2000000 -> "2M", -300 -> "-300"."""
    v = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            text = f"{v / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    if v == int(v):
        return f"{int(v)}"
    return f"{v:.2f}".rstrip("0").rstrip(".")


def nice_ticks(
    low: float, high: float, count: int = 5, *, whole: bool = False
) -> list[float]:
    """Round axis ticks covering [low, high] (steps of 1, 2, 2.5 or 5 x 10^n), with 0
    among them whenever the range spans it. An empty range (all values equal,
    or none) gets the ticks of [0, 1]. `whole`: the values are counts (tasks,
    documents), so no step is smaller than one and none is 2.5."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:
        high = 1.0
    raw = (high - low) / max(count - 1, 1)
    if whole:
        raw = max(raw, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in steps if m * magnitude >= raw)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    n = round((last - first) / step)
    return [round(first + i * step, 10) for i in range(n + 1)]


def _n(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _colors(series: Sequence[Series]) -> list[str]:
    return [s.color or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]


def _check(categories: Sequence[str], series: Sequence[Series]) -> None:
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(
                f"Series {s.label!r} has {len(s.values)} values for"
                f" {len(categories)} categories."
            )


def _legend(series: Sequence[Series], colors: Sequence[str]) -> SafeString:
    if len(series) < 2:
        return mark_safe("")  # noqa: S308 (a constant)
    items = format_html_join(
        "",
        '<li><svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true"'
        ' focusable="false"><rect width="12" height="12" rx="2" fill="{}"/></svg>'
        " {}</li>",
        ((color, s.label) for s, color in zip(series, colors, strict=True)),
    )
    return format_html('<ul class="chart-legend">{}</ul>', items)


def _table(
    title: str,
    category_title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter,
    totals: bool,
) -> SafeString:
    head = format_html_join(
        "", '<th scope="col" class="num">{}</th>', ((s.label,) for s in series)
    )
    if totals and len(series) > 1:
        head = format_html('{}<th scope="col" class="num">Total</th>', head)
    rows = []
    for i, category in enumerate(categories):
        values = [s.values[i] for s in series]
        cells = format_html_join(
            "", '<td class="num">{}</td>', ((fmt(v),) for v in values)
        )
        if totals and len(series) > 1:
            cells = format_html('{}<td class="num">{}</td>', cells, fmt(sum(values)))
        rows.append(format_html('<tr><th scope="row">{}</th>{}</tr>', category, cells))
    return format_html(
        '<details class="chart-data"><summary>Show the figures</summary>'
        '<div class="table-wrap" tabindex="0"><table class="list">'
        "<caption>{}</caption>"
        '<thead><tr><th scope="col">{}</th>{}</tr></thead>'
        "<tbody>{}</tbody></table></div></details>",
        title,
        category_title,
        head,
        mark_safe("".join(rows)),  # noqa: S308 (each row built by format_html)
    )


def _figure(
    *,
    chart_id: str,
    title: str,
    summary: str,
    width: float,
    height: float,
    body: Sequence[SafeString],
    legend: SafeString,
    table: SafeString,
) -> SafeString:
    svg = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg"'
        ' viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img"'
        ' aria-labelledby="{id}-title {id}-desc" font-family="inherit"'
        ' font-size="12">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{body}</svg>",
        w=_n(width),
        h=_n(height),
        id=chart_id,
        title=title,
        desc=summary or "The figures are in the table under the chart.",
        body=mark_safe("".join(body)),  # noqa: S308 (each part built by format_html)
    )
    return format_html(
        '<figure class="chart" id="{}"><figcaption class="chart-title">{}'
        "</figcaption>{}{}{}</figure>",
        chart_id,
        title,
        legend,
        svg,
        table,
    )


def _empty(chart_id: str, title: str, empty_text: str) -> SafeString:
    return format_html(
        '<figure class="chart chart-is-empty" id="{}">'
        '<figcaption class="chart-title">{}</figcaption>'
        '<p class="chart-empty muted">{}</p></figure>',
        chart_id,
        title,
        empty_text,
    )


def _value_axis_x(
    ticks: Sequence[float], scale: Callable[[float], float], y0: float, y1: float
) -> list[SafeString]:
    """Vertical grid lines at each tick, their labels under the plot, and the
    zero line darker."""
    parts = []
    for tick in ticks:
        x = scale(tick)
        parts.append(
            format_html(
                '<line x1="{x}" y1="{a}" x2="{x}" y2="{b}" stroke="{c}"/>'
                '<text x="{x}" y="{t}" text-anchor="middle" fill="{m}">{label}</text>',
                x=_n(x),
                a=_n(y0),
                b=_n(y1),
                c=AXIS if tick == 0 else GRID,
                t=_n(y1 + 16),
                m=MUTED,
                label=format_compact(tick),
            )
        )
    return parts


def _horizontal_bars(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    stacked: bool,
    fmt: Formatter,
    category_title: str,
    summary: str,
    chart_id: str,
    empty_text: str,
    table: bool,
    whole: bool = False,
) -> SafeString:
    _check(categories, series)
    chart_id = chart_id or f"chart-{slugify(title)}"
    if not categories or not series:
        return _empty(chart_id, title, empty_text)
    colors = _colors(series)
    if stacked:
        lows = [
            sum(min(float(s.values[i]), 0.0) for s in series)
            for i in range(len(categories))
        ]
        highs = [
            sum(max(float(s.values[i]), 0.0) for s in series)
            for i in range(len(categories))
        ]
    else:
        lows = highs = [float(v) for s in series for v in s.values]
    ticks = nice_ticks(min(lows), max(highs), whole=whole)
    low, high = ticks[0], ticks[-1]
    left, right, top = 168.0, WIDTH - 24.0, 8.0
    bar = 18.0 if stacked else max(8.0, 18.0 - 3 * (len(series) - 1))
    band = 30.0 if stacked else len(series) * bar + 12.0
    plot_bottom = top + band * len(categories)

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * (right - left)

    zero = x(0.0)
    parts = _value_axis_x(ticks, x, top, plot_bottom)
    for i, category in enumerate(categories):
        band_top = top + band * i
        parts.append(
            format_html(
                '<text x="{x}" y="{y}" text-anchor="end" dominant-baseline="middle"'
                ' fill="{ink}"><title>{full}</title>{short}</text>',
                x=_n(left - 8),
                y=_n(band_top + band / 2),
                ink=INK,
                full=category,
                short=_short(category),
            )
        )
        pos, neg = zero, zero  # where the next stacked segment starts
        for j, (s, color) in enumerate(zip(series, colors, strict=True)):
            value = float(s.values[i])
            if stacked:
                y, start = band_top + (band - bar) / 2, pos if value >= 0 else neg
                end = start + (x(value) - zero)
                if value >= 0:
                    pos = end
                else:
                    neg = end
            else:
                y, start, end = band_top + 6 + j * bar, zero, x(value)
            parts.append(
                format_html(
                    '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"'
                    "{edge}><title>{cat} – {label}: {value}</title></rect>",
                    x=_n(min(start, end)),
                    y=_n(y),
                    w=_n(abs(end - start)),
                    h=_n(bar - (0 if stacked else 2)),
                    fill=color,
                    edge=mark_safe(' stroke="#fff" stroke-width="1"')  # noqa: S308
                    if stacked
                    else "",
                    cat=category,
                    label=s.label,
                    value=fmt(s.values[i]),
                )
            )
    return _figure(
        chart_id=chart_id,
        title=title,
        summary=summary,
        width=WIDTH,
        height=plot_bottom + 26,
        body=parts,
        legend=_legend(series, colors),
        table=_table(title, category_title, categories, series, fmt, stacked)
        if table
        else mark_safe(""),  # noqa: S308 (a constant)
    )


def bar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter = format_number,
    category_title: str = "",
    summary: str = "",
    chart_id: str = "",
    empty_text: str = "Nothing to show for this choice.",
    table: bool = True,
    whole: bool = False,
) -> SafeString:
    """Bars across, one per category and series (grouped when several series);
    negative values extend left of the zero line. `whole`: counts, ticked in
    whole numbers."""
    return _horizontal_bars(
        title=title,
        categories=categories,
        series=series,
        stacked=False,
        fmt=fmt,
        category_title=category_title,
        summary=summary,
        chart_id=chart_id,
        empty_text=empty_text,
        table=table,
        whole=whole,
    )


def stacked_bar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter = format_number,
    category_title: str = "",
    summary: str = "",
    chart_id: str = "",
    empty_text: str = "Nothing to show for this choice.",
    table: bool = True,
    whole: bool = False,
) -> SafeString:
    """One bar across per category, its series stacked end to end (negative parts
    stacked left of zero); the table adds each category's total. `whole`:
    counts, ticked in whole numbers."""
    return _horizontal_bars(
        title=title,
        categories=categories,
        series=series,
        stacked=True,
        fmt=fmt,
        category_title=category_title,
        summary=summary,
        chart_id=chart_id,
        empty_text=empty_text,
        table=table,
        whole=whole,
    )


def line_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter = format_number,
    category_title: str = "",
    summary: str = "",
    chart_id: str = "",
    empty_text: str = "Nothing to show for this choice.",
    table: bool = True,
) -> SafeString:
    """A line per series over categories in order (months), a marker at each
    point; the value axis up the left, always including zero."""
    _check(categories, series)
    chart_id = chart_id or f"chart-{slugify(title)}"
    if not categories or not series:
        return _empty(chart_id, title, empty_text)
    colors = _colors(series)
    values = [float(v) for s in series for v in s.values]
    ticks = nice_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]
    left, right, top, bottom = 56.0, WIDTH - 16.0, 10.0, 210.0
    step = (right - left) / len(categories)
    # A label every `every` categories, so neighbours never overlap: about 7
    # units a character at the 12-unit font, plus a gap (every category gets its
    # own label when they fit; the table and each point's title name them all).
    widest = max(len(_short(c, 9)) for c in categories) * 7 + 8
    every = max(1, math.ceil(widest / step))

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    def y(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    parts = []
    for tick in ticks:
        parts.append(
            format_html(
                '<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="{c}"/>'
                '<text x="{tx}" y="{y}" text-anchor="end" dominant-baseline="middle"'
                ' fill="{m}">{label}</text>',
                l=_n(left),
                r=_n(right),
                y=_n(y(tick)),
                c=AXIS if tick == 0 else GRID,
                tx=_n(left - 6),
                m=MUTED,
                label=format_compact(tick),
            )
        )
    for i, category in enumerate(categories):
        if i % every == 0:
            parts.append(
                format_html(
                    '<text x="{x}" y="{y}" text-anchor="middle" fill="{ink}">'
                    "<title>{full}</title>{short}</text>",
                    x=_n(x(i)),
                    y=_n(bottom + 18),
                    ink=INK,
                    full=category,
                    short=_short(category, 9),
                )
            )
    for s, color in zip(series, colors, strict=True):
        points = " ".join(
            f"{_n(x(i))},{_n(y(float(v)))}" for i, v in enumerate(s.values)
        )
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"'
                ' stroke-linejoin="round"/>',
                points,
                color,
            )
        )
        parts.extend(
            format_html(
                '<circle cx="{}" cy="{}" r="4" fill="{}" stroke="#fff"'
                ' stroke-width="1.5"><title>{} – {}: {}</title></circle>',
                _n(x(i)),
                _n(y(float(v))),
                color,
                categories[i],
                s.label,
                fmt(v),
            )
            for i, v in enumerate(s.values)
        )
    return _figure(
        chart_id=chart_id,
        title=title,
        summary=summary,
        width=WIDTH,
        height=bottom + 30,
        body=parts,
        legend=_legend(series, colors),
        table=_table(title, category_title, categories, series, fmt, False)
        if table
        else mark_safe(""),  # noqa: S308 (a constant)
    )
