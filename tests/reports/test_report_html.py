"""The report page's tables as a planner reads them: one number format down each column."""

from __future__ import annotations

import re

import pandas as pd

from tidecast.reports.render_html import table_html


def _column(html: str, index: int) -> list[str]:
    rows = re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[1])
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row)[index] for row in rows]


def test_when_a_column_mixes_small_and_large_values_then_every_cell_has_the_same_decimals() -> None:
    """pasta_promo's item totals read 33.7 beside 142.60 and its actual totals 40 beside 174.00."""
    frame = pd.DataFrame(
        {
            "item_id": ["B1_1", "B1_10", "B1_12"],
            "actual_total": [40.0, 3.0, 174.0],
            "forecast_total": [33.7, 14.44, 142.6],
            "wape": [1.0, 2.885, 0.5612],
        }
    )
    html = table_html(frame)
    assert _column(html, 1) == ["40", "3", "174"]
    assert _column(html, 2) == ["33.70", "14.44", "142.60"]
    assert _column(html, 3) == ["1", "2.885", "0.5612"]


def test_when_a_whole_numbered_column_is_large_then_it_keeps_its_thousands_separators() -> None:
    html = table_html(pd.DataFrame({"actual_total": [1088.0, 103680.0, float("nan")]}))
    assert _column(html, 0) == ["1,088", "103,680", "–"]
