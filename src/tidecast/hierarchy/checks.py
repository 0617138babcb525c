"""What a hierarchical run can be refused on before any model is fitted: the reconciliation
method against the hierarchy's structure, and the hierarchy's attributes against the columns
of the data and of the item metadata (read from their headers alone).

Fitting every level takes minutes to hours; a method that cannot apply (top-down on crossed
attributes) or an attribute that is not there must fail in a second, the same way from Python,
the command line and a job.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeAlias

import pandas as pd

from tidecast.errors import ConfigError
from tidecast.hierarchy.reconcile import METHODS, NEEDS_RESIDUALS
from tidecast.hierarchy.structure import Hierarchy, level_name

Source: TypeAlias = pd.DataFrame | str | Path | None


def check_methods(
    hierarchy: Hierarchy,
    method: str | None,
    methods: Sequence[str] | None = None,
    backtest_windows: int | None = None,
) -> None:
    """A ConfigError where the fixed `method` or the candidate `methods` are unknown, or cannot
    reconcile `hierarchy` (top-down needs a tree), or need backtest errors that zero
    `backtest_windows` cannot give."""
    if method is not None and method not in METHODS:
        raise ConfigError(f"unknown reconciliation method {method!r}; choose one of {', '.join(METHODS)}")
    unknown = [m for m in methods or () if m not in METHODS]
    if unknown:
        raise ConfigError(f"unknown reconciliation method(s) {unknown}; choose from {', '.join(METHODS)}")
    asked = [method] if method is not None else list(methods or ())
    if not hierarchy.is_tree and asked and all(m == "top_down" for m in asked):
        crossed = ", ".join(level_name(level) for level in hierarchy.levels)
        raise ConfigError(
            "top-down needs a nested hierarchy (a/b/c), not crossed attributes: the levels "
            f"{crossed} do not nest one in the next; choose another method or none (chosen on "
            "the backtests)"
        )
    if backtest_windows == 0 and asked and all(m in NEEDS_RESIDUALS for m in asked):
        raise ConfigError(
            f"{' and '.join(asked)} need the base forecasts' backtest errors: give at least "
            "one backtest window"
        )


def check_attributes(hierarchy: Hierarchy, data: Source, static_data: Source = None) -> None:
    """A ConfigError naming the hierarchy attributes that neither the data nor the item
    metadata has as a column; nothing where either's columns cannot be read from its headers
    (reading the data will say why)."""
    available: set[str] = set()
    for source in (data, static_data):
        if source is None:
            continue
        columns = column_names(source)
        if columns is None:
            return
        available.update(columns)
    missing = [a for a in hierarchy.attributes if a not in available]
    if missing:
        where = "the data's" if static_data is None else "the data's or the item metadata's"
        raise ConfigError(
            f"hierarchy attribute(s) {missing} are not among {where} columns {_shown(available)}: "
            "give them as static columns of the data or in the item metadata"
        )


def column_names(source: pd.DataFrame | str | Path) -> list[str] | None:
    """A frame's columns, or a file's from its header or schema; None where that cannot be read."""
    from tidecast.data.io import table_columns

    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.columns]
    return table_columns(source)


def _shown(columns: set[str], limit: int = 20) -> str:
    names = sorted(columns)
    return str(names if len(names) <= limit else [*names[:limit], f"... {len(names) - limit} more"])
