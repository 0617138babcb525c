"""A report as data: titled tables, charts and notes, before any format is chosen.

The builders (`reports.build`) fill a `Report`; the renderers (`reports.render_html`,
`reports.export`) turn the same object into HTML, JSON or CSV, so the three formats always
hold the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class BarChart:
    """Bars per label, one bar per series (a second series is drawn as a reference beside)."""

    title: str
    labels: list[str]
    series: dict[str, list[float]]
    percent: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"type": "bar", "title": self.title, "labels": self.labels, "series": self.series}


@dataclass
class BandChart:
    """One item's recent history, then its forecast mean inside the outer quantile band."""

    title: str
    history_x: list[str]
    history_y: list[float]
    x: list[str]
    mean: list[float]
    lo: list[float]
    hi: list[float]
    band: str = "p10–p90"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "band",
            "title": self.title,
            "history": {"x": self.history_x, "y": self.history_y},
            "forecast": {"x": self.x, "mean": self.mean, "lo": self.lo, "hi": self.hi, "band": self.band},
        }


Chart = BarChart | BandChart


@dataclass
class Section:
    """A heading with its explanation, tables (name -> frame) and charts."""

    title: str
    text: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)


@dataclass
class Report:
    """A model quality or business report of one run or model version."""

    kind: str
    source: str
    summary: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table, keyed by its name (names are unique within a report)."""
        return {name: table for s in self.sections for name, table in s.tables.items()}
