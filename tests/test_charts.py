"""Server-drawn SVG charts (advisoros/charts.py): well-formed, escaped, accessible,
and scaled sensibly for zero, negative and missing figures."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from advisoros.charts import (
    PALETTE,
    Series,
    bar_chart,
    format_compact,
    format_number,
    line_chart,
    nice_ticks,
    stacked_bar_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = [bar_chart, stacked_bar_chart, line_chart]


def _parse(html: str) -> ET.Element:
    """The chart as XML: it must be well-formed (no stray entity, every tag shut)."""
    return ET.fromstring(html)  # noqa: S314 (our own output, no entities)


def _svg(root: ET.Element) -> ET.Element:
    (svg,) = root.iter(f"{SVG}svg")
    return svg


def _rects(root: ET.Element) -> list[ET.Element]:
    # The legend's swatches are outside the chart's own <svg>.
    return list(_svg(root).iter(f"{SVG}rect"))


def _relative_luminance(hex_color: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


@pytest.mark.parametrize("chart", CHARTS)
def test_it_is_well_formed_xml_with_an_accessible_name(chart):
    html = chart(
        title="Revenue by month",
        categories=["Jan", "Feb"],
        series=[Series("Billed", [Decimal("10.50"), Decimal("20")])],
        summary="Billed fees for two months.",
    )
    root = _parse(html)
    svg = _svg(root)

    assert root.tag == "figure"
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{SVG}title").get("id") == title_id
    assert svg.find(f"{SVG}title").text == "Revenue by month"
    assert svg.find(f"{SVG}desc").get("id") == desc_id
    assert svg.find(f"{SVG}desc").text == "Billed fees for two months."
    # No CSS in the markup: the pages' CSP forbids style attributes.
    assert "style=" not in html


@pytest.mark.parametrize("chart", CHARTS)
def test_the_figures_are_in_a_table_under_the_chart(chart):
    html = chart(
        title="Fees",
        categories=["Acme", "Zenith"],
        category_title="Client",
        series=[
            Series("Time", [Decimal("1200.50"), Decimal("0")]),
            Series("Fees", [Decimal("300"), Decimal("75.25")]),
        ],
    )
    root = _parse(html)
    table = root.find("details/div/table")
    heads = [th.text for th in table.iter("th") if th.get("scope") == "col"]
    rows = [
        [cell.text for cell in tr]
        for tr in table.find("tbody").iter("tr")  # the category, then values
    ]

    assert root.find("details/summary").text == "Show the figures"
    assert table.find("caption").text == "Fees"
    if chart is stacked_bar_chart:
        assert heads == ["Client", "Time", "Fees", "Total"]
        assert rows == [
            ["Acme", "1,200.50", "300", "1,500.50"],
            ["Zenith", "0", "75.25", "75.25"],
        ]
    else:
        assert heads == ["Client", "Time", "Fees"]
        assert rows == [["Acme", "1,200.50", "300"], ["Zenith", "0", "75.25"]]
    # A legend names each colour in words when there are several series.
    legend = [li.itertext() for li in root.find("ul").iter("li")]
    assert ["".join(t).strip() for t in legend] == ["Time", "Fees"]


@pytest.mark.parametrize("chart", CHARTS)
def test_labels_are_escaped(chart):
    evil = '<script>alert("x")</script> & Sons'
    html = chart(
        title="A <b>bold</b> title",
        categories=[evil],
        series=[Series("<i>series</i>", [5]), Series("Other", [1])],
        fmt=lambda v: f"<{v}>",
    )

    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons" in html
    assert "&lt;5&gt;" in html  # even the formatter's output
    root = _parse(html)  # still well-formed with the escapes
    texts = "".join(root.itertext())
    assert evil in texts and "A <b>bold</b> title" in texts


def test_a_long_category_label_is_cut_with_its_full_text_on_hover():
    name = "Wolfeschlegelsteinhausenbergerdorff Family Trust"
    root = _parse(bar_chart(title="AR", categories=[name], series=[Series("Due", [1])]))
    (label,) = (
        t for t in _svg(root).iter(f"{SVG}text") if t.find(f"{SVG}title") is not None
    )

    assert label.find(f"{SVG}title").text == name
    assert label.find(f"{SVG}title").tail.endswith("…")
    assert len(label.find(f"{SVG}title").tail) <= 24


def test_bars_scale_to_the_largest_value():
    root = _parse(
        bar_chart(title="T", categories=["a", "b"], series=[Series("s", [50, 100])])
    )
    a, b = _rects(root)

    # Ticks 0..100: the larger bar spans the plot, the other half of it.
    assert float(b.get("width")) == pytest.approx(2 * float(a.get("width")))
    assert float(a.get("x")) == float(b.get("x"))  # both start at zero
    assert a.find(f"{SVG}title").text == "a – s: 50"


def test_all_zero_values_draw_empty_bars_without_dividing_by_zero():
    root = _parse(
        stacked_bar_chart(
            title="Nothing owed",
            categories=["a", "b"],
            series=[Series("x", [0, 0]), Series("y", [Decimal("0.00")] * 2)],
        )
    )

    assert [float(r.get("width")) for r in _rects(root)] == [0, 0, 0, 0]
    assert {float(r.get("x")) for r in _rects(root)} == {168.0}


def test_negative_values_extend_left_of_the_zero_line():
    root = _parse(
        bar_chart(
            title="Write-ups and downs",
            categories=["up", "down"],
            series=[Series("Adjustment", [Decimal("30"), Decimal("-60")])],
        )
    )
    up, down = _rects(root)
    zero = float(up.get("x"))

    assert float(down.get("x")) + float(down.get("width")) == pytest.approx(zero)
    assert float(down.get("width")) == pytest.approx(2 * float(up.get("width")))
    # The zero line is drawn darker than the grid.
    lines = [
        ln for ln in _svg(root).iter(f"{SVG}line") if ln.get("stroke") == "#6b7280"
    ]
    assert [float(ln.get("x1")) for ln in lines] == [pytest.approx(zero)]


def test_stacked_segments_follow_each_other_and_negatives_stack_left():
    root = _parse(
        stacked_bar_chart(
            title="T",
            categories=["a"],
            series=[Series("p", [40]), Series("q", [-20]), Series("r", [60])],
        )
    )
    p, q, r = _rects(root)
    zero = float(p.get("x"))

    assert float(r.get("x")) == pytest.approx(zero + float(p.get("width")))
    assert float(q.get("x")) + float(q.get("width")) == pytest.approx(zero)
    assert all(rect.get("stroke") == "#fff" for rect in (p, q, r))


def test_a_line_chart_puts_each_point_at_its_value():
    root = _parse(
        line_chart(
            title="Revenue",
            categories=["Jan", "Feb", "Mar"],
            series=[Series("Tax", [0, 50, 100]), Series("Audit", [-50, 0, 0])],
        )
    )
    circles = list(_svg(root).iter(f"{SVG}circle"))
    (tax, audit) = list(_svg(root).iter(f"{SVG}polyline"))
    ys = [float(c.get("cy")) for c in circles]

    assert len(circles) == 6
    # Ticks -50..100: equal steps in value are equal steps in height.
    # (coordinates are written to the hundredth)
    assert ys[0] - ys[1] == pytest.approx(ys[1] - ys[2], abs=0.02)
    assert ys[3] - ys[0] == pytest.approx(ys[0] - ys[1], abs=0.02)
    assert tax.get("stroke") == PALETTE[0] and audit.get("stroke") == PALETTE[1]
    assert circles[1].find(f"{SVG}title").text == "Feb – Tax: 50"


@pytest.mark.parametrize("chart", CHARTS)
def test_no_data_says_so_instead_of_drawing(chart):
    root = _parse(
        chart(title="WIP", categories=[], series=[], empty_text="No work in progress.")
    )

    assert root.find("figcaption").text == "WIP"
    assert root.find("p").text == "No work in progress."
    assert not list(root.iter(f"{SVG}svg"))


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        bar_chart(title="T", categories=["a", "b", "c"], series=[Series("s", [1, 2])])


def test_two_charts_on_one_page_have_their_own_ids():
    one = bar_chart(title="By client", categories=["a"], series=[Series("s", [1])])
    two = bar_chart(title="By partner", categories=["a"], series=[Series("s", [1])])
    ids = [set(re.findall(r'\bid="([^"]+)"', str(html))) for html in (one, two)]

    assert ids[0].isdisjoint(ids[1])


def test_every_colour_reads_against_white_and_the_table_header():
    for color in PALETTE:
        for background in ("#ffffff", "#fafbfc"):
            ratio = (_relative_luminance(background) + 0.05) / (
                _relative_luminance(color) + 0.05
            )
            assert ratio >= 4.5, (color, background, ratio)


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0, 0, [0, 0.25, 0.5, 0.75, 1]),
        (0, 95, [0, 25, 50, 75, 100]),
        (-30, 70, [-50, -25, 0, 25, 50, 75]),
        (12, 13, [0, 5, 10, 15]),  # always from zero
        (-7, -1, [-8, -6, -4, -2, 0]),
        (0, 1234567, [0, 500000, 1000000, 1500000]),
    ],
)
def test_axis_ticks_are_round_and_include_zero(low, high, ticks):
    assert nice_ticks(low, high) == pytest.approx(ticks)


@pytest.mark.parametrize(
    ("high", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (9, [0, 5, 10]),
        (45, [0, 20, 40, 60]),
    ],
)
def test_counts_are_ticked_in_whole_numbers(high, ticks):
    assert nice_ticks(0, high, whole=True) == ticks


def test_a_bar_chart_of_counts_has_no_fractional_ticks():
    root = _parse(
        stacked_bar_chart(
            title="Open work",
            categories=["Sam"],
            series=[Series("Overdue", [1]), Series("Not overdue", [0])],
            whole=True,
        )
    )
    ticks = [
        t.text for t in _svg(root).iter(f"{SVG}text") if t.find(f"{SVG}title") is None
    ]

    assert ticks == ["0", "1"]


def test_crowded_category_labels_are_thinned_so_none_overlap():
    months = [f"{m} 2026" for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun")]
    months += [f"{m} 2026" for m in ("Jul", "Aug", "Sep", "Oct", "Nov", "Dec")]
    root = _parse(
        line_chart(title="Billed", categories=months, series=[Series("B", [1] * 12)])
    )
    labels = [
        t for t in _svg(root).iter(f"{SVG}text") if t.find(f"{SVG}title") is not None
    ]
    xs = [float(t.get("x")) for t in labels]

    assert [t.find(f"{SVG}title").text for t in labels] == months[::2]
    # "Jan 2026" is about 56 units wide at the 12-unit font.
    assert min(b - a for a, b in zip(xs, xs[1:], strict=False)) > 56
    # Every month is still in the table.
    assert len(root.find("details").findall(".//tbody/tr")) == 12


def test_number_formats():
    assert format_number(Decimal("1234.5")) == "1,234.50"
    assert format_number(Decimal("1200.00")) == "1,200"
    assert format_number(-3) == "-3"
    assert format_compact(1500) == "1.5k"
    assert format_compact(2_000_000) == "2M"
    assert format_compact(-300) == "-300"
    assert format_compact(0.4) == "0.4"


def test_the_day_filter_writes_dates_as_the_date_filter_does():
    import datetime as dt

    from django.utils.dateformat import format as date_format

    from advisoros.templatetags.figures import day

    for value in (dt.date(2026, 12, 7), dt.date(2027, 1, 31), dt.date(2026, 9, 1)):
        assert day(value) == date_format(value, "M j, Y")
    assert day(None) == ""
