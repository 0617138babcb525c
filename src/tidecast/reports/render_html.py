"""One self-contained HTML file per set of reports: inline CSS and SVG, no script, no links out.

It opens from a laptop's disk or an e-mail attachment with no network, and prints well. Long
tables show their first `MAX_ROWS` rows; the JSON and CSV formats hold every row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from tidecast.reports.document import BandChart, Chart, Report
from tidecast.reports.svg import band_svg, bar_svg

MAX_ROWS = 200
TITLES = {"quality": "Model quality", "business": "Business report"}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#222;background:#f7f7f5}
header{background:#1f3b5c;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.8;font-size:13px}
main{max-width:1100px;margin:0 auto;padding:8px 16px 40px}
h2{font-size:18px;margin:32px 0 4px;border-bottom:2px solid #1f3b5c;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 4px}p.text{margin:4px 0 10px;color:#444;font-size:14px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,460px),1fr));gap:12px}
svg.chart{width:100%;height:auto;background:#fff;border:1px solid #ddd;border-radius:4px}
.table{max-height:360px;overflow:auto;background:#fff;border:1px solid #ddd;border-radius:4px;margin:6px 0}
table{border-collapse:collapse;font-size:12.5px;width:100%}
th,td{padding:3px 8px;text-align:right;white-space:nowrap;border-bottom:1px solid #eee}
th{position:sticky;top:0;background:#eef1f5}td.text,th.text{text-align:left}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:14px}
dl.summary dt{color:#666}dl.summary dd{margin:0}
.notes{background:#fff8e1;border-left:4px solid #e0a800;padding:6px 12px;font-size:13px}
.empty{color:#777;font-style:italic;font-size:13px}
"""


def _float_style(column: pd.Series) -> str:
    """How a float column's cells are written, one way for the whole column: "whole" (every
    value a whole number: 1,088), "fixed" (some value of 100 or more: two decimals each) or ""
    (each cell to four significant digits, for scores and shares).

    Cell by cell, one column of units read 40 beside 174.00, and 33.7 beside 142.60."""
    if not pd.api.types.is_float_dtype(column):
        return ""
    finite = column[np.isfinite(column.to_numpy(dtype=np.float64))]
    if finite.empty:
        return ""
    if (finite == finite.round()).all() and finite.abs().max() < 1e15:
        return "whole"
    return "fixed" if finite.abs().max() >= 100 else ""


def _cell(value: Any, style: str = "") -> tuple[str, bool]:
    """A table cell's text and whether it is text (left-aligned) rather than a number; `style`
    is its column's `_float_style`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–", False
    if isinstance(value, bool):
        return str(value), True
    if isinstance(value, int):
        return f"{value:,}", False
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "−∞", False
        if style == "whole":
            return f"{value:,.0f}", False
        return (f"{value:,.2f}" if style == "fixed" or abs(value) >= 100 else f"{value:.4g}"), False
    if isinstance(value, pd.Timestamp):
        return value.isoformat()[:19].removesuffix("T00:00:00"), True
    return str(value), True


def table_html(frame: pd.DataFrame) -> str:
    if frame.empty:
        return '<p class="empty">none</p>'
    head = "".join(f"<th{_align(frame[c])}>{escape(str(c))}</th>" for c in frame.columns)
    styles = [_float_style(frame[c]) for c in frame.columns]
    rows = []
    for record in frame.head(MAX_ROWS).itertuples(index=False):
        cells = []
        for value, style in zip(record, styles, strict=True):
            text, is_text = _cell(value.item() if hasattr(value, "item") else value, style)
            cells.append(f'<td class="text">{escape(text)}</td>' if is_text else f"<td>{escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    more = f'<p class="empty">first {MAX_ROWS} of {len(frame)} rows</p>' if len(frame) > MAX_ROWS else ""
    return f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>{more}'


def _align(column: pd.Series) -> str:
    return "" if pd.api.types.is_numeric_dtype(column) and column.dtype != bool else ' class="text"'


def _chart(chart: Chart) -> str:
    return band_svg(chart) if isinstance(chart, BandChart) else bar_svg(chart)


def _summary(summary: dict[str, Any]) -> str:
    if not summary:
        return ""
    items = "".join(
        f"<dt>{escape(str(k).replace('_', ' '))}</dt><dd>{escape(_cell(v)[0] if not isinstance(v, list) else ', '.join(map(str, v)))}</dd>"
        for k, v in summary.items()
    )
    return f'<dl class="summary">{items}</dl>'


def report_html(report: Report) -> str:
    """One report's part of the page: summary, notes, then each section."""
    parts = [f'<h2 id="{escape(report.kind)}">{escape(TITLES.get(report.kind, report.kind))}</h2>']
    parts.append(_summary(report.summary))
    if report.notes:
        parts.append('<div class="notes">' + "<br>".join(escape(n) for n in report.notes) + "</div>")
    for section in report.sections:
        parts.append(f"<h3>{escape(section.title)}</h3>")
        if section.text:
            parts.append(f'<p class="text">{escape(section.text)}</p>')
        if section.charts:
            parts.append('<div class="charts">' + "".join(_chart(c) for c in section.charts) + "</div>")
        for name, table in section.tables.items():
            if len(section.tables) > 1:
                parts.append(f'<p class="text"><b>{escape(name.replace("_", " "))}</b></p>')
            parts.append(table_html(table))
    return "".join(parts)


def render_html(reports: Sequence[Report]) -> str:
    """The whole page for `reports` (of one source)."""
    source = reports[0].source if reports else ""
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    kinds = " and ".join(TITLES.get(r.kind, r.kind).lower() for r in reports)
    body = "".join(report_html(r) for r in reports)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>tidecast report: {escape(source)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>tidecast report: {escape(source)}</h1><p>{escape(kinds)}, made {made}</p></header>"
        f"<main>{body}</main></body></html>"
    )
