"""One item's series as the dashboard's forecast explorer draws it, from a run's `ReportInputs`.

The explorer shows a planner one item at a time: its recent history with the covariates that
moved it, the forecast with its outer quantile band and the known covariates' plan it assumed
(where the model keeps it: `automl.forecast_plan`), and the backtest forecasts beside the
actuals they were scored on (the actuals a run keeps). Everything comes from the same inputs
the reports read, so the explorer and the reports never disagree about a number.

`search_items` finds items of `item_ids` by a piece of their id (what a search box needs); `item_series`
returns one item as JSON-ready columns (ISO timestamps, floats with NaN as null).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP
from tidecast.errors import DataError
from tidecast.jsonable import json_safe
from tidecast.reports.inputs import ACTUAL, ReportInputs, selected_backtests

DEFAULT_POINTS = 200  # history points shown before the forecast
MAX_SEARCH = 200


def item_ids(inputs: ReportInputs) -> list[str]:
    """Every item the run knows (history or forecast), sorted."""
    found: set[str] = set()
    for frame in (inputs.history, inputs.forecasts):
        if frame is not None and ITEM_ID in frame.columns:
            found.update(frame[ITEM_ID].astype(str).unique().tolist())
    return sorted(found)


def search_items(items: Sequence[str], text: str = "", limit: int = 50) -> tuple[list[str], int]:
    """Of `items` (a run's `item_ids`), those whose id holds `text` (case-insensitive), ids
    starting with it first; and how many matched in all (a search box shows the first `limit`
    and says there are more)."""
    needle = text.strip().lower()
    matches = [i for i in items if needle in i.lower()]
    matches.sort(key=lambda i: (not i.lower().startswith(needle), i))
    return matches[: max(0, min(limit, MAX_SEARCH))], len(matches)


def covariate_roles(inputs: ReportInputs) -> dict[str, str]:
    """Time-varying covariate column -> "known" or "past", from the run's configuration; a
    history column the configuration does not name counts as past (known only in hindsight)."""
    config = inputs.report.get("config", {})
    known = set(_names(config.get("known_covariates")))
    skip = {ITEM_ID, TIMESTAMP, TARGET, *inputs.static_columns, *_names(config.get("static_columns"))}
    columns = [] if inputs.history is None else [c for c in inputs.history.columns if c not in skip]
    return {str(c): "known" if c in known else "past" for c in columns}


def _names(value: Any) -> list[str]:
    """A list of column names from a configuration value: a list, or text split on commas."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value] if isinstance(value, Iterable) else []


def item_series(inputs: ReportInputs, item_id: str, points: int = DEFAULT_POINTS) -> dict[str, Any]:
    """One item's history (the last `points`), covariates, forecast and backtests, as columns.

    Raises DataError when the run has neither history nor a forecast for `item_id`.
    """
    history = _rows(inputs.history, item_id).tail(max(points, 0))
    forecast = _rows(inputs.forecasts, item_id)
    if history.empty and forecast.empty:
        raise DataError(f"no history or forecast for item {item_id!r} in {inputs.name}")
    quantiles = [c for c in forecast.columns if c.startswith("p") and c[1:].replace(".", "").isdigit()]
    roles = covariate_roles(inputs)
    static = [c for c in inputs.static_columns if c in history.columns]
    notes = []
    if forecast.empty:
        notes.append("this source holds no forecast for the item")
    if inputs.backtests is None:
        notes.append("this source keeps no backtest forecasts")
    if not forecast.empty and inputs.future is None and "known" in roles.values():
        notes.append(
            "this source keeps no plan of the known covariates over the forecast (a model saved "
            "before plans were kept): they are shown over the history only"
        )
    return json_safe(
        {
            "source": inputs.name,
            "item_id": item_id,
            "frequency": inputs.report.get("frequency"),
            "horizon": inputs.horizon,
            "quantiles": quantiles,
            "band": _band(quantiles),
            "attributes": {c: _first(history[c]) for c in static},
            "history": {"timestamp": _iso(history), "target": _floats(history, TARGET)},
            "covariates": [
                {"name": name, "role": role, "values": _floats(history, name)}
                for name, role in roles.items()
                if name in history.columns
            ],
            "forecast": {
                "timestamp": _iso(forecast),
                **{c: _floats(forecast, c) for c in [MEAN, *quantiles] if c in forecast.columns},
            },
            "future_covariates": _planned(inputs.future, item_id, forecast),
            "backtests": _backtests(inputs, item_id, quantiles),
            "notes": notes,
        }
    )


def _planned(plan: pd.DataFrame | None, item_id: str, forecast: pd.DataFrame) -> list[dict[str, Any]]:
    """The known covariates the forecast assumed, as the history's covariates are given but
    aligned with the forecast's timestamps (null on a step the plan lacks)."""
    rows = _rows(plan, item_id)
    if rows.empty or forecast.empty:
        return []
    steps = rows.drop_duplicates(TIMESTAMP).set_index(TIMESTAMP).reindex(pd.to_datetime(forecast[TIMESTAMP]))
    names = [c for c in rows.columns if c not in (ITEM_ID, TIMESTAMP)]
    return [{"name": str(name), "role": "known", "values": _floats(steps, name)} for name in names]


def _rows(frame: pd.DataFrame | None, item_id: str) -> pd.DataFrame:
    if frame is None or ITEM_ID not in frame.columns:
        return pd.DataFrame(columns=[ITEM_ID, TIMESTAMP])
    rows = frame[frame[ITEM_ID].astype(str) == item_id]
    return rows.sort_values(TIMESTAMP, kind="stable").reset_index(drop=True)


def _band(quantiles: Sequence[str]) -> list[str] | None:
    """The band drawn around the forecast: p10-p90 when forecast, else the outermost levels."""
    if "p10" in quantiles and "p90" in quantiles:
        return ["p10", "p90"]
    if len(quantiles) < 2:
        return None
    ordered = sorted(quantiles, key=lambda c: float(c[1:]))
    return [ordered[0], ordered[-1]]


def _backtests(inputs: ReportInputs, item_id: str, quantiles: Sequence[str]) -> list[dict[str, Any]]:
    """The selected model's forecast in each backtest window, beside the actuals."""
    rows = selected_backtests(inputs)
    if rows is None:
        return []
    rows = rows[rows[ITEM_ID].astype(str) == item_id]
    out = []
    for window, part in rows.groupby("window", sort=True):
        columns = [c for c in [MEAN, *quantiles, ACTUAL] if c in part.columns]
        out.append(
            {
                "window": int(window),
                "cutoff": str(part["cutoff"].iloc[0]) if "cutoff" in part.columns else None,
                "timestamp": _iso(part),
                **{c: _floats(part, c) for c in columns},
            }
        )
    return out


def _iso(frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return []
    return [t.isoformat() for t in pd.to_datetime(frame[TIMESTAMP])]


def _floats(frame: pd.DataFrame, column: str) -> list[float | None]:
    if column not in frame.columns:
        return []
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    return [None if not np.isfinite(v) else float(v) for v in values]


def _first(column: pd.Series) -> Any:
    return column.iloc[-1] if len(column) else None
