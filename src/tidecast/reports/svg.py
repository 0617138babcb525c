"""The report's charts as inline SVG strings: no script, no network, nothing to load.

Two kinds cover every chart the reports draw: grouped bars (errors, calibration, totals) and
a forecast band (history, mean, outer quantile range). Each is a pure function of its chart
object; text is escaped, missing values are left out rather than drawn as zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from tidecast.reports.document import BandChart, BarChart

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 72
COLORS = ("#2f6db5", "#b7c4d6", "#d9822b", "#5a9e6f")
TICKS = 5
CHAR_PX = 6.6  # the width of one character of an 11 px label, near enough to keep labels apart
LABEL_GAP = 6
LINE = 13  # a second line of axis labels, under the first
LABEL_CHARS = 14  # a longer slanted label would run off the left edge; the full one is its tooltip


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.0%}" if abs(value) >= 0.1 or value == 0 else f"{value:.1%}"
    magnitude = abs(value)
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _range(values: Sequence[float], zero: bool) -> tuple[float, float]:
    finite = _finite(values) or [0.0]
    low, high = min(finite), max(finite)
    if zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + (abs(low) or 1.0)
    return low, high


def _nice(low: float, high: float) -> tuple[float, float, float]:
    """The axis from `low` to `high` widened to whole steps of 1, 2, 2.5 or 5 times a power of
    ten, about `TICKS` of them: the range and the step.

    Grid lines at fifths of the data's own range were labelled 1.59k, 3.64k, 5.7k, which no one
    reads at a glance; a range of whole steps keeps a non-negative series' axis at 0."""
    raw = (high - low) / TICKS
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    start, stop = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    return start, stop, step


def _axis(low: float, high: float, percent: bool, top: float, bottom: float) -> tuple[str, float, float]:
    """Horizontal grid lines at round values with their labels; returns the SVG and the mapping
    scale, offset (the axis may reach past `low` and `high` to the next round value)."""
    low, high, step = _nice(low, high)
    scale = (bottom - top) / (high - low)
    parts = []
    for k in range(round((high - low) / step) + 1):
        value = low + step * k
        y = bottom - (value - low) * scale
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_number(value, percent))}</text>'
        )
    return "".join(parts), scale, low


def _frame(title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="chart" font-family="system-ui, sans-serif" font-size="11" fill="#333">'
        f"<title>{escape(title)}</title>"
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="600">{escape(title)}</text>{body}</svg>'
    )


def _legend(names: Sequence[str], colors: Sequence[str]) -> str:
    parts = []
    x = WIDTH - RIGHT - 110 * len(names)
    for i, (name, color) in enumerate(zip(names, colors, strict=False)):
        left = x + 110 * i
        parts.append(
            f'<rect x="{left}" y="7" width="10" height="10" fill="{color}"/>'
            f'<text x="{left + 14}" y="16">{escape(name)}</text>'
        )
    return "".join(parts)


def bar_svg(chart: BarChart) -> str:
    """Grouped bars: one group per label, one bar per series, a grid with value labels."""
    names = list(chart.series)
    values = [v for s in chart.series.values() for v in s]
    low, high = _range(values, zero=True)
    bottom = HEIGHT - BOTTOM
    grid, scale, offset = _axis(low, high, chart.percent, TOP, bottom)
    zero_y = bottom - (0 - offset) * scale
    n = max(len(chart.labels), 1)
    group = (WIDTH - LEFT - RIGHT) / n
    bar = group * 0.8 / max(len(names), 1)
    parts = [grid]
    for i, label in enumerate(chart.labels):
        x0 = LEFT + group * i + group * 0.1
        for j, name in enumerate(names):
            value = chart.series[name][i]
            if not math.isfinite(value):
                continue
            y = bottom - (value - offset) * scale
            top, height = min(y, zero_y), abs(zero_y - y)
            parts.append(
                f'<rect x="{x0 + bar * j:.1f}" y="{top:.1f}" width="{bar:.1f}" height="{max(height, 0.5):.1f}" '
                f'fill="{COLORS[j % len(COLORS)]}"><title>{escape(label)} {escape(name)}: '
                f"{escape(_number(value, chart.percent))}</title></rect>"
            )
        cx = LEFT + group * (i + 0.5)
        text = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        parts.append(
            f'<text x="{cx:.1f}" y="{bottom + 12}" text-anchor="end" '
            f'transform="rotate(-30 {cx:.1f} {bottom + 12})"><title>{escape(label)}</title>{escape(text)}</text>'
        )
    if len(names) > 1:
        parts.append(_legend(names, COLORS))
    return _frame(chart.title, "".join(parts))


def _polyline(
    xs: Sequence[float], ys: Sequence[float], color: str, width: float = 1.5, dash: str = ""
) -> str:
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True) if math.isfinite(y))
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="{width}"{extra}/>'


def _date_labels(marks: Sequence[tuple[int, float, str]], last: int, y: float) -> list[str]:
    """The first date, the last and the forecast's first, each on the first of two lines where
    it overlaps no label already there (a label overlapping on both is left out).

    A short horizon puts the forecast's first date a few pixels from the last one: on one line
    the two ran together ("1992-09-11992-10-01" on a four-week horizon)."""
    taken: list[list[tuple[float, float]]] = [[], []]
    out: list[str] = []
    for i, x, text in dict.fromkeys(marks):
        anchor = "start" if i == 0 else "end" if i == last else "middle"
        width = len(text) * CHAR_PX
        left = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
        for row, spans in enumerate(taken):
            if all(left + width + LABEL_GAP <= a or b + LABEL_GAP <= left for a, b in spans):
                spans.append((left, left + width))
                out.append(
                    f'<text x="{x:.1f}" y="{y + row * LINE:.1f}" text-anchor="{anchor}">{escape(text)}</text>'
                )
                break
    return out


def band_svg(chart: BandChart) -> str:
    """History in grey, then the forecast mean in blue inside its shaded outer quantile band."""
    n_hist, n_fc = len(chart.history_y), len(chart.x)
    total = max(n_hist + n_fc - 1, 1)
    low, high = _range([*chart.history_y, *chart.lo, *chart.hi, *chart.mean], zero=False)
    bottom = HEIGHT - BOTTOM + 40
    grid, scale, offset = _axis(low, high, False, TOP, bottom)

    def x_at(i: int) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * i / total

    def y_at(v: float) -> float:
        return bottom - (v - offset) * scale if math.isfinite(v) else math.nan

    fx = [x_at(n_hist + i) for i in range(n_fc)]
    band = [f"{x:.1f},{y_at(v):.1f}" for x, v in zip(fx, chart.hi, strict=True) if math.isfinite(v)]
    band += [
        f"{x:.1f},{y_at(v):.1f}"
        for x, v in reversed(list(zip(fx, chart.lo, strict=True)))
        if math.isfinite(v)
    ]
    parts = [grid, f'<polygon points="{" ".join(band)}" fill="#2f6db5" fill-opacity="0.2" stroke="none"/>']
    if n_hist:
        parts.append(_polyline([x_at(i) for i in range(n_hist)], [y_at(v) for v in chart.history_y], "#555"))
    parts.append(_polyline(fx, [y_at(v) for v in chart.mean], COLORS[0], 2))
    start = x_at(n_hist)
    parts.append(
        f'<line x1="{start:.1f}" x2="{start:.1f}" y1="{TOP}" y2="{bottom}" stroke="#999" stroke-dasharray="4 3"/>'
    )
    dates = [*chart.history_x, *chart.x]
    last = n_hist + n_fc - 1
    marks = [(i, x_at(i), dates[i][:10]) for i in (0, last, n_hist) if 0 <= i < len(dates)]
    parts.extend(_date_labels(marks, last, bottom + 14))
    parts.append(_legend(["history", "forecast", chart.band], ["#555", COLORS[0], "#c0d3ea"]))
    return _frame(chart.title, "".join(parts))
