"""The report's inline SVG charts as a planner reads them: dates that do not run together, a
value axis at round numbers that stays at zero for sales that never go below it."""

from __future__ import annotations

import re

import pandas as pd

from tidecast.reports.document import BandChart
from tidecast.reports.svg import CHAR_PX, band_svg


def _weekly_chart() -> BandChart:
    """dominicks_oj's shape: weekly history of a store and brand, a four-week horizon, p10 at 0."""
    history = pd.date_range("1992-05-21", periods=16, freq="W-THU")
    future = pd.date_range("1992-09-10", periods=4, freq="W-THU")
    return BandChart(
        title="s002|b09",
        history_x=[t.isoformat() for t in history],
        history_y=[1152.0, 704.0, 128.0, 256.0, 128.0, 576.0, 2300.0, 1500.0] * 2,
        x=[t.isoformat() for t in future],
        mean=[3379.0, 3068.4, 2817.5, 2686.1],
        lo=[0.0, 0.0, 0.0, 0.0],
        hi=[9342.0, 8898.3, 8539.9, 8352.1],
    )


def _texts(svg: str) -> list[tuple[float, float, str, str]]:
    found = re.findall(r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)">([^<]*)</text>', svg)
    return [(float(x), float(y), anchor, text) for x, y, anchor, text in found]


def test_when_the_horizon_is_short_then_the_forecast_dates_do_not_run_together() -> None:
    """On a four-week horizon the forecast's first and last dates were drawn 30 px apart on one
    line: "1992-09-11992-10-01"."""
    dates = [t for t in _texts(band_svg(_weekly_chart())) if re.fullmatch(r"\d{4}-\d\d-\d\d", t[3])]
    assert sorted(t[3] for t in dates) == ["1992-05-21", "1992-09-10", "1992-10-01"]
    spans = []
    for x, y, anchor, text in dates:
        width = len(text) * CHAR_PX
        left = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
        spans.append((y, left, left + width))
    for i, (y, left, right) in enumerate(spans):
        for other_y, other_left, other_right in spans[i + 1 :]:
            assert y != other_y or right <= other_left or other_right <= left


def test_when_sales_never_go_below_zero_then_the_value_axis_starts_at_zero_on_round_steps() -> None:
    """The axis ran from -467 to 9.81k through 1.59k, 3.64k and 5.7k."""
    labels = [t[3] for t in _texts(band_svg(_weekly_chart())) if t[2] == "end" and not t[3].startswith("19")]
    assert labels == ["0", "2k", "4k", "6k", "8k", "10k"]
